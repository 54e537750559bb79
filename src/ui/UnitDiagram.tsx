import { UNITS, type LayerOp, type UnitId } from '../experiment/units';

/**
 * One residual unit drawn as the paper does (Fig. 2, Fig. 4): x_l at the top, the residual branch F on the right,
 * the shortcut as a thick grey arrow on the left, the addition, then whatever follows it and x_{l+1} at the bottom.
 * Everything is read from `UNITS[unit].structure` and `UNITS[unit].diagram`; no unit is special-cased here.
 */

const WIDTH = 160;
/** Centre of the main column: input, branch boxes, addition, after-add boxes, output. */
const CX = 108;
/** Centre of the shortcut column. */
const SX = 33;
const BOX_W = 64;
const SHORTCUT_BOX_W = 58;
const BOX_H = 14;
/** Vertical gap between consecutive boxes (room for an arrow). */
const GAP = 10;
const PITCH = BOX_H + GAP;
/** Radius of the addition circle. */
const R = 7;
const LABEL_Y = 12;
const SPLIT_Y = 24;
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

const INK = '#111827';
const SHORTCUT_GREY = '#9ca3af';
const FACTOR_LINE = '#ea580c';

const OP_LABEL: Record<LayerOp, string> = { W: 'weight', BN: 'BN', ReLU: 'ReLU' };
const OP_STYLE: Record<LayerOp, { fill: string; stroke: string }> = {
  W: { fill: '#bfdbfe', stroke: '#3b82f6' },
  BN: { fill: '#fde68a', stroke: '#d97706' },
  ReLU: { fill: '#bbf7d0', stroke: '#16a34a' },
};

function describe(unit: UnitId): string {
  const { structure, diagram } = UNITS[unit];
  const branch = [...structure.each, ...structure.last].map((op) => OP_LABEL[op]).concat(diagram.onBranch);
  const shortcut = diagram.onShortcut.length > 0 ? diagram.onShortcut.join(', ') : 'identity';
  const after =
    structure.afterAdd.length > 0
      ? `after addition ${structure.afterAdd.map((op) => OP_LABEL[op]).join(', ')}`
      : 'nothing after addition';
  return `Residual unit: branch ${branch.join(', ')}; shortcut ${shortcut}; ${after}`;
}

/** A downward arrow from y0 to y1 on column x (the head ends exactly at y1). */
function DownArrow({ x, y0, y1 }: { x: number; y0: number; y1: number }) {
  return (
    <g>
      <line x1={x} y1={y0} x2={x} y2={y1 - 4} stroke="currentColor" strokeWidth={1.2} />
      <polygon points={`${x - 3},${y1 - 5} ${x + 3},${y1 - 5} ${x},${y1}`} fill="currentColor" />
    </g>
  );
}

function Box({
  x,
  y,
  width,
  label,
  fill,
  stroke,
  dashed,
  data,
}: {
  x: number;
  y: number;
  width: number;
  label: string;
  fill: string;
  stroke: string;
  dashed?: boolean;
  data: Record<string, string>;
}) {
  return (
    <g {...data}>
      <rect
        x={x - width / 2}
        y={y}
        width={width}
        height={BOX_H}
        rx={3}
        fill={fill}
        stroke={stroke}
        strokeWidth={1.2}
        strokeDasharray={dashed ? '3 2' : undefined}
      />
      <text x={x} y={y + BOX_H / 2} textAnchor="middle" dominantBaseline="central" fill={INK}>
        {label}
      </text>
    </g>
  );
}

/** x with a subscript, e.g. x_l or x_{l+1}. */
function XLabel({ y, sub }: { y: number; sub: string }) {
  return (
    <text x={CX} y={y} textAnchor="middle" fill="currentColor" fontSize={11}>
      <tspan fontStyle="italic">x</tspan>
      <tspan baselineShift="sub" fontSize={8}>
        {sub}
      </tspan>
    </text>
  );
}

export function UnitDiagram({ unit }: { unit: UnitId }) {
  const { structure, diagram } = UNITS[unit];
  const ops = [...structure.each, ...structure.last];
  const factors = diagram.onBranch;
  const shortcut = diagram.onShortcut;
  const after = structure.afterAdd;

  const branchRows = ops.length + factors.length;
  const rows = Math.max(branchRows, shortcut.length);
  const rowTop = (i: number) => SPLIT_Y + GAP + i * PITCH;
  const branchEnd = SPLIT_Y + branchRows * PITCH;
  const addY = SPLIT_Y + rows * PITCH + GAP + R;
  const afterTop = (j: number) => addY + R + GAP + j * PITCH;
  const afterEnd = addY + R + after.length * PITCH;
  const outY = afterEnd + GAP + 11;
  const height = outY + 6;

  const label = describe(unit);
  // Shortcut boxes sit evenly spaced on the vertical part of the grey path.
  const shortcutCentre = (k: number) => SPLIT_Y + ((addY - SPLIT_Y) * (k + 1)) / (shortcut.length + 1);

  return (
    <svg
      data-testid="unit-diagram"
      data-unit={unit}
      viewBox={`0 0 ${WIDTH} ${height}`}
      width="100%"
      role="img"
      aria-label={label}
      fontFamily={FONT}
      fontSize={10}
    >
      <title>{label}</title>

      <XLabel y={LABEL_Y} sub="l" />
      <line x1={CX} y1={LABEL_Y + 5} x2={CX} y2={SPLIT_Y} stroke="currentColor" strokeWidth={1.2} />

      {/* Shortcut: the paper's thick grey arrow, split point → left → down → into the addition. */}
      <path
        d={`M ${CX} ${SPLIT_Y} H ${SX} V ${addY} H ${CX - R - 7}`}
        fill="none"
        stroke={SHORTCUT_GREY}
        strokeWidth={4}
        strokeLinejoin="round"
      />
      <polygon points={`${CX - R - 9},${addY - 5} ${CX - R - 9},${addY + 5} ${CX - R},${addY}`} fill={SHORTCUT_GREY} />
      {shortcut.map((text, k) => (
        <Box
          key={`s${k}`}
          x={SX}
          y={shortcutCentre(k) - BOX_H / 2}
          width={SHORTCUT_BOX_W}
          label={text}
          fill="#ffffff"
          stroke={FACTOR_LINE}
          data={{ 'data-where': 'shortcut' }}
        />
      ))}
      <circle cx={CX} cy={SPLIT_Y} r={2.5} fill="currentColor" />

      {/* Residual branch. */}
      {ops.map((op, i) => (
        <g key={`b${i}`}>
          <DownArrow x={CX} y0={i === 0 ? SPLIT_Y : rowTop(i - 1) + BOX_H} y1={rowTop(i)} />
          <Box
            x={CX}
            y={rowTop(i)}
            width={BOX_W}
            label={OP_LABEL[op]}
            {...OP_STYLE[op]}
            data={{ 'data-op': op, 'data-where': 'branch' }}
          />
        </g>
      ))}
      {factors.map((text, f) => {
        const i = ops.length + f;
        return (
          <g key={`f${f}`}>
            <DownArrow x={CX} y0={i === 0 ? SPLIT_Y : rowTop(i - 1) + BOX_H} y1={rowTop(i)} />
            <Box
              x={CX}
              y={rowTop(i)}
              width={BOX_W}
              label={text}
              fill="#ffffff"
              stroke={FACTOR_LINE}
              dashed
              data={{ 'data-where': 'branch-factor' }}
            />
          </g>
        );
      })}
      <DownArrow x={CX} y0={branchEnd} y1={addY - R} />

      {/* The addition. */}
      <g data-where="add">
        <circle cx={CX} cy={addY} r={R} fill="#ffffff" stroke="currentColor" strokeWidth={1.2} />
        <line x1={CX - R + 2.5} y1={addY} x2={CX + R - 2.5} y2={addY} stroke="currentColor" strokeWidth={1.2} />
        <line x1={CX} y1={addY - R + 2.5} x2={CX} y2={addY + R - 2.5} stroke="currentColor" strokeWidth={1.2} />
      </g>

      {/* After the addition, then the output. */}
      {after.map((op, j) => (
        <g key={`a${j}`}>
          <DownArrow x={CX} y0={j === 0 ? addY + R : afterTop(j - 1) + BOX_H} y1={afterTop(j)} />
          <Box
            x={CX}
            y={afterTop(j)}
            width={BOX_W}
            label={OP_LABEL[op]}
            {...OP_STYLE[op]}
            data={{ 'data-op': op, 'data-where': 'after-add' }}
          />
        </g>
      ))}
      <DownArrow x={CX} y0={afterEnd} y1={afterEnd + GAP} />
      <XLabel y={outY} sub="l+1" />
    </svg>
  );
}
