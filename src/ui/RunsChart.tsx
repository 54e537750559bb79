import { useEffect, useRef, useState } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { runLabel } from '../experiment/label';
import type { ChartOptions, RunRecord } from '../store/playground';
import { usePlayground } from '../store';
import { displaySeries, type XY } from './chartSeries';

/** Distinct on white and for the common colour-vision deficiencies (Okabe–Ito, then darker extras). */
export const PALETTE = [
  '#0072b2',
  '#d55e00',
  '#009e73',
  '#cc79a7',
  '#e69f00',
  '#56b4e9',
  '#000000',
  '#8c564b',
  '#7f3c8d',
  '#3b7d23',
];
export const runColor = (r: RunRecord) => PALETTE[r.color % PALETTE.length]!;

/** At most two redraws a second while runs stream in. */
const REDRAW_MS = 500;

/** Points drawn per curve: enough for a smooth line at any chart width, few enough to redraw in a few ms. */
const MAX_POINTS = 400;

// The full histories stay in the store; the drawn series are derived once per history and options.
const cache = new WeakMap<object, Map<string, XY[]>>();
function cached(history: object, key: string, make: () => XY[]): XY[] {
  let byKey = cache.get(history);
  if (!byKey) cache.set(history, (byKey = new Map()));
  let s = byKey.get(key);
  if (!s) byKey.set(key, (s = make()));
  return s;
}

function lossSeries(r: RunRecord, o: ChartOptions): XY[] {
  return cached(r.train, `${o.smoothing}:${o.logLoss}`, () =>
    displaySeries(
      r.train.map((p) => ({ x: p.iter, y: p.loss })),
      { smoothing: o.smoothing, log: o.logLoss, maxPoints: MAX_POINTS },
    ),
  );
}

function errorSeries(r: RunRecord): XY[] {
  return cached(r.evals, 'error', () =>
    displaySeries(
      r.evals.map((e) => ({ x: e.iter, y: e.testError })),
      { smoothing: 0, log: false, maxPoints: MAX_POINTS },
    ),
  );
}

/**
 * The value, updated at most once per `ms`: metric messages arrive several times a second per run, and a chart
 * redraw costs far more than reading them. The last value always lands (trailing update).
 */
function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - performance.now();
    if (wait <= 0) {
      last.current = performance.now();
      setShown(value);
      return;
    }
    const t = setTimeout(() => {
      last.current = performance.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(t);
  }, [value, ms]);
  return shown;
}

const num = (v: number) => Number(v.toPrecision(3)).toLocaleString('en-US');

/** Smoothing and log scale, as TensorBoard offers them. */
function ChartControls() {
  const chart = usePlayground((s) => s.chart);
  const setChart = usePlayground((s) => s.setChart);
  return (
    <div className="chart-controls">
      <label>
        <input type="checkbox" checked={chart.logLoss} onChange={(e) => setChart({ logLoss: e.target.checked })} /> Log
        scale for the loss
      </label>
      <label>
        Smoothing{' '}
        <input
          type="range"
          min={0}
          max={0.99}
          step={0.01}
          value={chart.smoothing}
          onChange={(e) => setChart({ smoothing: Number(e.target.value) })}
        />{' '}
        <output>{chart.smoothing.toFixed(2)}</output>
      </label>
    </div>
  );
}

/**
 * Every visible run on one chart, like the paper's Figs. 1, 3 and 6: x = iterations, training loss dashed on
 * the left axis, test error (%) solid on the right, one colour per run.
 */
export function RunsChart() {
  const runs = useThrottled(
    usePlayground((s) => s.runs),
    REDRAW_MS,
  );
  const options = usePlayground((s) => s.chart);
  const shown = runs.filter((r) => r.visible && (r.train.length > 0 || r.evals.length > 0));
  const maxIter = Math.max(1, ...shown.map((r) => Math.max(r.train.at(-1)?.iter ?? 0, r.evals.at(-1)?.iter ?? 0)));

  return (
    <section className="card chart-card" aria-labelledby="chart-title">
      <div className="card-head">
        <h2 id="chart-title">Training curves</h2>
        <ChartControls />
      </div>
      {/* Mounted from the start, even empty: its first mount is the costliest render on the page, and it
          should not land on the main thread in the middle of training. */}
      <div className="chart" data-testid="runs-chart">
        {shown.length === 0 && (
          <p className="muted chart-empty" data-testid="chart-empty">
            {runs.length === 0
              ? 'Start a run: its training loss and test error are drawn here as they arrive.'
              : 'No visible run has points yet. Tick a run in the list below to show it.'}
          </p>
        )}
        <ResponsiveContainer width="100%" height={300}>
          <LineChart margin={{ top: 8, right: 4, bottom: 4, left: 0 }}>
            <CartesianGrid stroke="#e5e7eb" />
            <XAxis
              dataKey="x"
              type="number"
              domain={[0, maxIter]}
              allowDecimals={false}
              allowDuplicatedCategory={false}
              tickFormatter={(v: number) => v.toLocaleString('en-US')}
              label={{ value: 'iterations', position: 'insideBottomRight', offset: -2, fontSize: 11 }}
              height={36}
            />
            <YAxis
              yAxisId="loss"
              orientation="left"
              width={52}
              scale={options.logLoss ? 'log' : 'auto'}
              domain={['auto', 'auto']}
              allowDataOverflow
              tickFormatter={num}
              label={{ value: 'training loss', angle: -90, position: 'insideLeft', fontSize: 11, dy: 40 }}
            />
            <YAxis
              yAxisId="error"
              orientation="right"
              width={48}
              domain={[0, (max: number) => Math.min(100, Math.ceil(max / 10) * 10)]}
              unit="%"
              label={{ value: 'test error', angle: 90, position: 'insideRight', fontSize: 11, dy: -30 }}
            />
            <Tooltip
              formatter={(v, name) => [typeof v === 'number' ? num(v) : String(v), name]}
              labelFormatter={(x) => `iteration ${Number(x).toLocaleString('en-US')}`}
            />
            {shown.flatMap((r) => [
              <Line
                key={`${r.id}-loss`}
                yAxisId="loss"
                data={lossSeries(r, options)}
                dataKey="y"
                name={`${runLabel(r.config)}: training loss`}
                stroke={runColor(r)}
                strokeDasharray="5 3"
                strokeWidth={1.5}
                dot={false}
                isAnimationActive={false}
              />,
              <Line
                key={`${r.id}-error`}
                yAxisId="error"
                data={errorSeries(r)}
                dataKey="y"
                name={`${runLabel(r.config)}: test error (%)`}
                stroke={runColor(r)}
                strokeWidth={2}
                dot={r.evals.length <= 40 ? { r: 2.5 } : false}
                isAnimationActive={false}
              />,
            ])}
          </LineChart>
        </ResponsiveContainer>
      </div>
      {shown.length > 0 && (
        <ul className="chart-legend" data-testid="chart-legend">
          {shown.map((r) => (
            <li key={r.id}>
              <svg width="28" height="10" aria-hidden="true">
                <line x1="0" y1="5" x2="28" y2="5" stroke={runColor(r)} strokeWidth="2" />
              </svg>
              {runLabel(r.config)}
            </li>
          ))}
          <li className="muted legend-key">dashed: training loss (left axis) · solid: test error, % (right axis)</li>
        </ul>
      )}
    </section>
  );
}
