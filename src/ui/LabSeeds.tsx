import { MAX_SEEDS } from '../experiment/labIds';

/** "Seeds [n]": how many seeds a lab runs per row (1…MAX_SEEDS); other values are ignored while typed. */
export function LabSeeds({ value, onChange }: { value: number; onChange: (seeds: number) => void }) {
  return (
    <label>
      Seeds{' '}
      <input
        type="number"
        min={1}
        max={MAX_SEEDS}
        value={value}
        onChange={(e) => {
          const n = Math.round(Number(e.target.value));
          if (n >= 1 && n <= MAX_SEEDS) onChange(n);
        }}
      />
    </label>
  );
}
