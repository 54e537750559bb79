import { isPresetApplied, PRESETS } from '../experiment/presets';
import { usePlayground } from '../store';

/** One click to the paper's protocol at its depths, or to a demo short enough to watch on any machine. */
export function Presets() {
  const config = usePlayground((s) => s.config);
  const applyPreset = usePlayground((s) => s.applyPreset);
  return (
    <div className="presets" role="group" aria-label="Presets" data-testid="presets">
      {PRESETS.map((p) => (
        <button
          key={p.id}
          type="button"
          className="preset"
          aria-pressed={isPresetApplied(config, p)}
          onClick={() => applyPreset(p)}
        >
          <strong>{p.label}</strong>
          <small>{p.help}</small>
        </button>
      ))}
    </div>
  );
}
