import { forwardRef } from 'react';
import { classCount, topConfusions } from './errorStats';

/** Correct answers (the diagonal) in blue by the share of their class; confusions in orange by their count. */
const RIGHT = [37, 99, 235] as const;
const WRONG = [234, 88, 12] as const;
const mix = (rgb: readonly number[], t: number) =>
  `rgb(${rgb.map((c) => Math.round(255 + (c - 255) * Math.min(1, Math.max(0, t)))).join(',')})`;
export const MATRIX_LEGEND = [
  { label: 'correct: share of the class (darkest = all)', color: mix(RIGHT, 1), mark: 'box' as const },
  { label: 'confusions: count (darkest = the most frequent)', color: mix(WRONG, 1), mark: 'box' as const },
];

const FONT = 11;
/** Up to this many classes the matrix shows names and counts; beyond, it is a picture of the whole. */
const NAMED = 20;

/**
 * The confusion matrix as a heat map in SVG (rows: true class, columns: predicted class). With names and counts
 * for up to 20 classes; for CIFAR-100 a 100×100 picture whose cells tell their classes on hover.
 */
export const ConfusionMatrix = forwardRef<
  SVGSVGElement,
  { confusion: readonly number[]; classNames: readonly string[] }
>(function ConfusionMatrix({ confusion, classNames }, ref) {
  const k = classCount(confusion);
  const named = k <= NAMED;
  const cell = k <= 10 ? 34 : named ? 22 : 5;
  const longest = named ? Math.max(...classNames.map((n) => n.length)) : 3;
  const left = 20 + Math.ceil(longest * FONT * 0.62) + 6;
  const top = 20 + (named ? Math.ceil(longest * FONT * 0.62 * 0.71) + 10 : 14);
  const size = k * cell;
  // Column names are written at 45°: the last one reaches past the matrix's right edge.
  const right = named ? Math.ceil(longest * FONT * 0.62 * 0.71) + 8 : 8;
  const rowTotals = Array.from({ length: k }, (_, r) => confusion.slice(r * k, r * k + k).reduce((a, b) => a + b, 0));
  const maxWrong = Math.max(1, ...confusion.filter((_, i) => i % (k + 1) !== 0));
  const name = (c: number) => classNames[c] ?? String(c);
  const cells = [];
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < k; c++) {
      const count = confusion[r * k + c]!;
      if (!named && count === 0) continue; // CIFAR-100: 10,000 cells, mostly empty
      const t = r === c ? (rowTotals[r] ? count / rowTotals[r]! : 0) : count / maxWrong;
      const fill = count === 0 ? '#ffffff' : mix(r === c ? RIGHT : WRONG, r === c ? t : 0.15 + 0.85 * t);
      cells.push(
        <g key={`${r}-${c}`}>
          <rect
            x={left + c * cell}
            y={top + r * cell}
            width={cell}
            height={cell}
            fill={fill}
            stroke={named ? '#e5e7eb' : 'none'}
            data-row={r}
            data-col={c}
            data-count={count}
          >
            <title>{`true ${name(r)}, predicted ${name(c)}: ${count}`}</title>
          </rect>
          {k <= 10 && (
            <text
              x={left + c * cell + cell / 2}
              y={top + r * cell + cell / 2 + 3.5}
              textAnchor="middle"
              fontSize={10}
              fill={t > 0.55 && count > 0 ? '#ffffff' : '#1f2328'}
            >
              {count}
            </text>
          )}
        </g>,
      );
    }
  }
  const ticks = named ? Array.from({ length: k }, (_, i) => i) : Array.from({ length: k / 10 + 1 }, (_, i) => i * 10);
  return (
    <svg
      ref={ref}
      className="confusion-matrix"
      data-testid="confusion-matrix"
      width={left + size + right}
      height={top + size + 8}
      viewBox={`0 0 ${left + size + right} ${top + size + 8}`}
      fontFamily="Helvetica, Arial, sans-serif"
      fontSize={FONT}
      role="img"
      aria-label={`Confusion matrix, ${k} classes: rows are the true class, columns the predicted class`}
    >
      <rect x={left} y={top} width={size} height={size} fill="#ffffff" stroke="#9ca3af" />
      {cells}
      <text x={left + size / 2} y={11} textAnchor="middle" fontWeight="bold" fill="#1f2328">
        predicted class
      </text>
      <text
        transform={`translate(11 ${top + size / 2}) rotate(-90)`}
        textAnchor="middle"
        fontWeight="bold"
        fill="#1f2328"
      >
        true class
      </text>
      {ticks.map((i) =>
        named ? (
          <g key={i}>
            <text x={left - 4} y={top + i * cell + cell / 2 + 4} textAnchor="end" fill="#1f2328">
              {name(i)}
            </text>
            <text
              transform={`translate(${left + i * cell + cell / 2 + 4} ${top - 4}) rotate(-45)`}
              textAnchor="start"
              fill="#1f2328"
            >
              {name(i)}
            </text>
          </g>
        ) : (
          <g key={i} fill="#5c6370" fontSize={9}>
            <text x={left - 3} y={top + i * cell + 3} textAnchor="end">
              {i}
            </text>
            <text x={left + i * cell} y={top - 3} textAnchor="middle">
              {i}
            </text>
          </g>
        ),
      )}
    </svg>
  );
});

/** CIFAR-100's matrix in words: its most frequent confusions, with a bar for each. */
export function TopConfusions({
  confusion,
  classNames,
}: {
  confusion: readonly number[];
  classNames: readonly string[];
}) {
  const top = topConfusions(confusion, 20);
  const max = Math.max(1, ...top.map((t) => t.count));
  if (top.length === 0) return <p className="muted">No confusions: every test image was classified correctly.</p>;
  return (
    <ol className="top-confusions" data-testid="top-confusions">
      {top.map((t) => (
        <li key={`${t.trueClass}-${t.predicted}`}>
          <span>
            {classNames[t.trueClass]} → {classNames[t.predicted]}
          </span>
          <span className="bar" style={{ width: `${(100 * t.count) / max}%` }} aria-hidden="true" />
          <span className="num">{t.count}</span>
        </li>
      ))}
    </ol>
  );
}
