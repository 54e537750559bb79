import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CIFAR100_LAYOUT, CIFAR10_LAYOUT } from '../data/format';
import { runLabel } from '../experiment/label';
import type { DatasetId } from '../experiment/schema';
import { ACTIVE, type RunRecord } from '../experiment/record';
import type { ChartOptions } from '../store/playground';
import { usePlayground } from '../store';
import { FigureDownloads } from './FigureDownloads';
import type { FigureSpec } from './figure';
import { CHART_POINTS, displaySeries, iterationTick, lossDomain, niceTicks, type XY } from './chartSeries';

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

/** At most one redraw a second while runs stream in (the progress figures above update at every message). */
const REDRAW_MS = 1000;

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
      r.train,
      (p) => p.iter,
      (p) => p.loss,
      { smoothing: o.smoothing, log: o.logLoss, maxPoints: CHART_POINTS },
    ),
  );
}

function errorSeries(r: RunRecord): XY[] {
  return cached(r.evals, 'error', () =>
    displaySeries(
      r.evals,
      (e) => e.iter,
      (e) => e.testError,
      { smoothing: 0, log: false, maxPoints: CHART_POINTS },
    ),
  );
}

/**
 * The store's runs, taken at most once per `ms`: metric messages arrive several times a second per run, and a
 * chart redraw costs far more than reading them. The chart subscribes here rather than to every change, so it does
 * not even render in between. The last change always lands (trailing update).
 */
export function useThrottledRuns(ms: number): RunRecord[] {
  const [shown, setShown] = useState(() => usePlayground.getState().runs);
  useEffect(() => {
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const show = () => {
      timer = null;
      last = performance.now();
      setShown(usePlayground.getState().runs);
    };
    show();
    const off = usePlayground.subscribe((s, prev) => {
      if (s.runs === prev.runs || timer) return;
      const wait = last + ms - performance.now();
      if (wait <= 0) show();
      else timer = setTimeout(show, wait);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [ms]);
  return shown;
}

const num = (v: number) => Number(v.toPrecision(3)).toLocaleString('en-US');

// Recharts 3 keeps the chart's props in a store and recomputes what depends on any prop whose identity
// changes, so everything that does not change is a constant here: a redraw then only touches the curves
// whose data changed (unchanged curves keep their cached arrays).
const CLASSES: Record<DatasetId, number> = {
  cifar10: CIFAR10_LAYOUT.classes,
  cifar100: CIFAR100_LAYOUT.classes,
  synthetic: CIFAR10_LAYOUT.classes, // written in CIFAR-10's layout
};
const MARGIN = { top: 8, right: 4, bottom: 4, left: 0 };
const ITER_LABEL = { value: 'iterations', position: 'insideBottomRight', offset: -2, fontSize: 11 } as const;
const LOSS_LABEL = { value: 'training loss', angle: -90, position: 'insideLeft', fontSize: 11, dy: 40 } as const;
const ERROR_LABEL = { value: 'test error', angle: 90, position: 'insideRight', fontSize: 11, dy: -30 } as const;
const ERROR_DOMAIN: [number, (max: number) => number] = [0, (max) => Math.min(100, Math.ceil(max / 10) * 10)];
const EVAL_DOT = { r: 2.5 };
const tooltipValue = (v: unknown, name: unknown): [string, string] => [
  typeof v === 'number' ? num(v) : String(v),
  String(name),
];
const tooltipLabel = (x: unknown) => `iteration ${Number(x).toLocaleString('en-US')}`;

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
  const runs = useThrottledRuns(REDRAW_MS);
  const options = usePlayground((s) => s.chart);
  // The tooltip is a quarter of every redraw's cost: it exists only while the pointer is over the chart.
  const [pointer, setPointer] = useState(false);
  // A run is drawn from its start: its axes are laid out while the worker is still building the network.
  const shown = runs.filter((r) => r.visible);
  const curves = shown.map((r) => ({ run: r, loss: lossSeries(r, options), error: errorSeries(r) }));
  // Fixed axes, as the paper's figures: x spans the whole schedule of the runs shown (a run that has ended
  // spans what it reached), the loss axis moves only when a curve outgrows it. Ticks that do not move are
  // not re-measured at every redraw.
  const xEnd = Math.max(
    1,
    ...shown.map((r) =>
      ACTIVE.includes(r.status) ? r.config.iters : Math.max(r.train.at(-1)?.iter ?? 0, r.evals.at(-1)?.iter ?? 0),
    ),
  );
  const [lossLo, lossHi] = lossDomain(
    curves.map((c) => c.loss),
    options.logLoss,
    Math.max(Math.log(10), ...shown.map((r) => Math.log(CLASSES[r.config.dataset]))),
  );
  const xDomain = useMemo(() => [0, xEnd], [xEnd]);
  const xTicks = useMemo(() => niceTicks(xEnd), [xEnd]);
  const yDomain = useMemo(() => [lossLo, lossHi], [lossLo, lossHi]);
  const yTicks = useMemo(() => (options.logLoss ? undefined : niceTicks(lossHi)), [options.logLoss, lossHi]);
  // Every render of the chart is counted on its element (data-renders), so a test can check the throttle.
  const chartRef = useRef<HTMLDivElement>(null);
  const renders = useRef(0);
  useLayoutEffect(() => chartRef.current?.setAttribute('data-renders', String(++renders.current)));

  const figure = (): FigureSpec | null => {
    const svg = chartRef.current?.querySelector<SVGSVGElement>('svg.recharts-surface');
    if (!svg || shown.length === 0) return null;
    return {
      title: 'Training curves',
      panels: [{ svg }],
      legend: shown.map((r) => ({ label: runLabel(r.config), color: runColor(r) })),
      note: `dashed: training loss (left axis${options.logLoss ? ', log scale' : ''}${options.smoothing > 0 ? `, smoothed ${options.smoothing.toFixed(2)}` : ''}) · solid: test error, % (right axis)`,
    };
  };

  return (
    <section className="card chart-card" aria-labelledby="chart-title" data-testid="chart-card">
      <div className="card-head">
        <h2 id="chart-title">Training curves</h2>
        <ChartControls />
        <FigureDownloads name="training-curves" label="the training curves" spec={figure} />
      </div>
      {/* Mounted from the start, even empty: its first mount is the costliest render on the page, and it
          should not land on the main thread in the middle of training. */}
      <div
        ref={chartRef}
        className="chart"
        data-testid="runs-chart"
        onPointerEnter={() => setPointer(true)}
        onPointerLeave={() => setPointer(false)}
      >
        {shown.length === 0 && (
          <p className="muted chart-empty" data-testid="chart-empty">
            {runs.length === 0
              ? 'Start a run: its training loss and test error are drawn here as they arrive.'
              : 'Every run is hidden. Tick a run in the list below to show it.'}
          </p>
        )}
        <ResponsiveContainer width="100%" height="100%">
          <LineChart margin={MARGIN}>
            <CartesianGrid stroke="#e5e7eb" />
            <XAxis
              dataKey="x"
              type="number"
              domain={xDomain}
              allowDecimals={false}
              allowDuplicatedCategory={false}
              tickFormatter={iterationTick}
              ticks={xTicks}
              label={ITER_LABEL}
              height={36}
            />
            <YAxis
              yAxisId="loss"
              orientation="left"
              width={52}
              scale={options.logLoss ? 'log' : 'auto'}
              domain={yDomain}
              ticks={yTicks}
              allowDataOverflow
              tickFormatter={num}
              label={LOSS_LABEL}
            />
            <YAxis yAxisId="error" orientation="right" width={48} domain={ERROR_DOMAIN} unit="%" label={ERROR_LABEL} />
            {pointer && <Tooltip formatter={tooltipValue} labelFormatter={tooltipLabel} />}
            {curves.flatMap(({ run: r, loss, error }) => [
              <Line
                key={`${r.id}-loss`}
                yAxisId="loss"
                data={loss}
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
                data={error}
                dataKey="y"
                name={`${runLabel(r.config)}: test error (%)`}
                stroke={runColor(r)}
                strokeWidth={2}
                dot={r.evals.length <= 40 ? EVAL_DOT : false}
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
