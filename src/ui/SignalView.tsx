import { memo, useDeferredValue, useMemo, useRef, useState } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { runLabel } from '../experiment/label';
import type { SignalProfile } from '../model/signal';
import { usePlayground } from '../store';
import { PALETTE, runColor } from './RunsChart';
import { FigureDownloads } from './FigureDownloads';
import type { FigureSpec } from './figure';

interface Curve {
  key: string;
  label: string;
  color: string;
  dashed: boolean;
  profile: SignalProfile;
}

const sci = (v: number) =>
  v >= 0.01 && v < 1e4 ? Number(v.toPrecision(3)).toLocaleString('en-US') : v.toExponential(1);
const MARGIN = { top: 6, right: 8, bottom: 4, left: 0 };
const LOG_DOMAIN: ['auto', 'auto'] = ['auto', 'auto'];

// One data array per profile and field, so a redraw hands Recharts the same arrays it already has.
const pointsCache = new WeakMap<SignalProfile, Record<string, { x: number; y: number }[]>>();
function points(profile: SignalProfile, field: 'forward' | 'backward') {
  let byField = pointsCache.get(profile);
  if (!byField) pointsCache.set(profile, (byField = {}));
  return (byField[field] ??= profile.units.map((u) => ({ x: u.unit, y: u[field] })));
}

/** Redrawn only when its curves change (a new measurement), not at every training point of a run. */
const NormChart = memo(function NormChart({
  curves,
  field,
  title,
}: {
  curves: Curve[];
  field: 'forward' | 'backward';
  title: string;
}) {
  return (
    <figure className="signal-chart" data-testid={`signal-${field}`}>
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <LineChart margin={MARGIN}>
          <CartesianGrid stroke="#e5e7eb" />
          <XAxis
            dataKey="x"
            type="number"
            domain={['dataMin', 'dataMax']}
            allowDecimals={false}
            allowDuplicatedCategory={false}
            label={{ value: 'residual unit l', position: 'insideBottomRight', offset: -2, fontSize: 11 }}
            height={34}
          />
          <YAxis scale="log" domain={LOG_DOMAIN} allowDataOverflow width={56} tickFormatter={sci} />
          <Tooltip
            formatter={(v) => (typeof v === 'number' ? sci(v) : String(v))}
            labelFormatter={(l) => `unit ${l}`}
          />
          {curves.map((c) => (
            <Line
              key={c.key}
              data={points(c.profile, field)}
              dataKey="y"
              name={c.label}
              stroke={c.color}
              strokeDasharray={c.dashed ? '4 3' : undefined}
              strokeWidth={1.8}
              dot={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
});

/**
 * Eqn. 5 vs Eqn. 8 in a picture: the norm of each unit's output x_l and of the gradient ∂E/∂x_l across depth, on
 * one fixed test batch, for networks at initialisation and for the runs shown on the chart (at their start or at
 * their latest evaluation). With identity shortcuts the gradient reaching the first unit stays within a modest
 * factor of the last unit's; scaled or 1×1-conv shortcuts make it drift by orders of magnitude.
 */
export function SignalView() {
  const runs = usePlayground((s) => s.runs);
  const initSignals = usePlayground((s) => s.initSignals);
  const { measureInitSignal, removeInitSignal } = usePlayground.getState();
  /** 'latest', or an iteration: each run is shown at its last measurement at or before it (0 = the start). */
  const [at, setAt] = useState<'latest' | number>('latest');
  const [problem, setProblem] = useState<string | null>(null);

  // The curves change only with a new measurement, a run shown or hidden, or the choice of iteration.
  const signature = runs
    .map((r) => `${r.id}:${r.visible}:${r.color}:${r.signals?.length ?? 0}:${r.weightsCheck?.checkedAt ?? ''}`)
    .join('|');
  const curves = useMemo(() => {
    const list: Curve[] = [];
    initSignals.forEach((s, i) => {
      if (s.profile)
        list.push({
          key: s.id,
          label: `${runLabel(s.config)} · initialisation`,
          color: PALETTE[(PALETTE.length - 1 - i + PALETTE.length) % PALETTE.length]!,
          dashed: true,
          profile: s.profile,
        });
    });
    for (const r of runs) {
      const measured = r.signals ?? [];
      const p = at === 'latest' ? measured.at(-1) : measured.findLast((m) => m.iter <= at);
      if (!r.visible || !p) continue;
      list.push({
        key: r.id,
        label: `${runLabel(r.config)} · ${p.iter === 0 ? 'initialisation' : `iteration ${p.iter.toLocaleString('en-US')}`}`,
        color: runColor(r),
        dashed: false,
        profile: p.profile,
      });
    }
    // Imported weights (a PyTorch run's, say) measured in this page: dashed in the run's colour, beside its own.
    for (const r of runs) {
      const c = r.weightsCheck;
      if (!r.visible || !c) continue;
      list.push({
        key: `${r.id}:weights`,
        label: `${runLabel(r.config)} · weights at iteration ${c.iter.toLocaleString('en-US')}, measured in this page`,
        color: runColor(r),
        dashed: true,
        profile: c.signal,
      });
    }
    return list;
  }, [signature, initSignals, at]); // eslint-disable-line react-hooks/exhaustive-deps
  // Every iteration at which a shown run was measured: its start and its evaluations.
  const iterations = useMemo(
    () =>
      [...new Set(runs.flatMap((r) => (r.visible ? (r.signals ?? []).map((m) => m.iter) : [])))].sort((a, b) => a - b),
    [signature], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const deferredCurves = useDeferredValue(curves);
  const charts = useRef<HTMLDivElement>(null);
  const figure = (): FigureSpec | null => {
    const svg = (field: string) =>
      charts.current?.querySelector<SVGSVGElement>(`[data-testid="signal-${field}"] svg.recharts-surface`);
    const forward = svg('forward');
    const backward = svg('backward');
    if (!forward || !backward || curves.length === 0) return null;
    return {
      title: 'Signal propagation across depth (log scale)',
      panels: [
        { svg: forward, caption: 'forward signal ‖x_l‖' },
        { svg: backward, caption: 'gradient ‖∂E/∂x_l‖' },
      ],
      legend: curves.map((c) => ({
        label: `${c.label}: ‖∂E/∂x_1‖ / ‖∂E/∂x_L‖ = ${sci(c.profile.backwardRatio)}`,
        color: c.color,
        mark: c.dashed ? ('dashed' as const) : ('line' as const),
      })),
      note: `x: residual unit l · per-unit L2 norms on one batch of ${curves[0]!.profile.images} test images`,
    };
  };
  const pending = initSignals.filter((s) => !s.profile && !s.error).length;

  return (
    <section className="card" aria-labelledby="signal-title" data-testid="signal-view">
      <div className="card-head">
        <h2 id="signal-title">Signal propagation</h2>
        <div className="lab-controls">
          <FigureDownloads name="signal-propagation" label="the signal propagation charts" spec={figure} />
          <button type="button" onClick={() => setProblem(measureInitSignal())}>
            Measure this network at initialisation
          </button>
          <label>
            Runs at{' '}
            <select
              value={String(at)}
              onChange={(e) => setAt(e.target.value === 'latest' ? 'latest' : Number(e.target.value))}
            >
              <option value="latest">their latest measurement</option>
              {iterations.map((it) => (
                <option key={it} value={it}>
                  {it === 0 ? 'their start (initialisation)' : `iteration ${it.toLocaleString('en-US')}`}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <p className="muted">
        ‖x_l‖ and ‖∂E/∂x_l‖ per residual unit on the first 32 test images (log scale). Eqn. 5: with identity shortcuts
        the gradient reaches shallow units directly; Eqn. 8: a factor λ on every shortcut multiplies it across the
        depth.
      </p>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {pending > 0 && <p className="muted">Measuring {pending} network(s)… (after the current run, if one trains)</p>}
      {initSignals
        .filter((s) => s.error)
        .map((s) => (
          <p key={s.id} className="error" role="alert">
            {runLabel(s.config)}: {s.error}
          </p>
        ))}
      {curves.length === 0 && (
        <p className="muted">
          Nothing measured yet: measure the current network, or start a run (runs are measured at their start and at
          every evaluation).
        </p>
      )}
      {/* Mounted from the start, like the training chart: a chart's first mount should not land mid-training. */}
      <div className="signal-charts" ref={charts}>
        <NormChart curves={curves} field="forward" title="forward signal ‖x_l‖" />
        {/* Deferred: the two charts redraw in separate tasks, each well under 50 ms, not together in one. */}
        <NormChart curves={deferredCurves} field="backward" title="gradient ‖∂E/∂x_l‖" />
      </div>
      {curves.length > 0 && (
        <>
          <ul className="chart-legend" data-testid="signal-legend">
            {curves.map((c) => (
              <li key={c.key}>
                <svg width="28" height="10" aria-hidden="true">
                  <line
                    x1="0"
                    y1="5"
                    x2="28"
                    y2="5"
                    stroke={c.color}
                    strokeWidth="2"
                    strokeDasharray={c.dashed ? '4 3' : undefined}
                  />
                </svg>
                {c.label}: ‖∂E/∂x_1‖ / ‖∂E/∂x_L‖ ={' '}
                <strong data-testid="signal-ratio">{sci(c.profile.backwardRatio)}</strong>
                {initSignals.some((s) => s.id === c.key) && (
                  <button type="button" className="link" onClick={() => removeInitSignal(c.key)}>
                    remove
                  </button>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
