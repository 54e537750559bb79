import { memo, useEffect, useMemo, useRef } from 'react';
import { Line, LineChart, ResponsiveContainer, XAxis, YAxis, CartesianGrid } from 'recharts';
import { DATASET_LABELS } from '../data/catalog';
import {
  changesScience,
  claimOverrides,
  claimRowConfig,
  claimSeeds,
  CLAIMS,
  expectText,
  METRIC_TEXT,
  overridesText,
  overSeeds,
  pairText,
  pendingClaimRuns,
  trainedKey,
  type Claim,
  type ClaimSeed,
} from '../experiment/claims';
import { verifiedFor } from '../experiment/claimsVerified';
import { VERIFIED } from '../experiment/claimsVerifiedData';
import { toQuery } from '../experiment/codec';
import { CLAIM_IDS, CLAIMS_LAB } from '../experiment/labIds';
import { PRESETS, isPresetApplied } from '../experiment/presets';
import { ACTIVE, type RunRecord, type TrainPoint } from '../experiment/record';
import type { Config } from '../experiment/schema';
import { usePlayground } from '../store';
import { linkFor } from '../store/sync';
import { displaySeries, type XY } from './chartSeries';
import { runColor, useThrottledRuns } from './RunsChart';
import { fmt } from './format';
import { LabSeeds } from './LabSeeds';

const REDRAW_MS = 1000;
const DEMO = PRESETS.find((p) => p.id === 'demo')!;

/** "original 1.893 < BN after addition 2.104; …": every expected pair of one seed, with its figures. */
function seedText(claim: Claim, s: ClaimSeed): string {
  return s.verdict.pairs.map((p) => pairText(claim, s.values, p)).join('; ');
}

/** What the check over seeds (PyTorch) found for this claim at its own settings. */
function Verified({ claim, applies }: { claim: Claim; applies: boolean }) {
  const v = verifiedFor(claim, VERIFIED);
  if (!v || v.seeds.length === 0)
    return (
      <p className="claim-verified muted" data-testid="claim-verified">
        Not checked yet at these settings (<code>npm run claims -- --check</code>).
      </p>
    );
  const verdict = v.verdict === 'incomplete' ? `so far ${v.held} of ${v.of} seeds` : `${v.held} of ${v.of} seeds`;
  return (
    <p className={`claim-verified ${v.verdict === 'reproduced' ? 'ok' : 'bad'}`} data-testid="claim-verified">
      <strong>
        {v.verdict === 'reproduced'
          ? 'Verified'
          : v.verdict === 'incomplete'
            ? 'Check under way'
            : 'Not reproduced at this scale'}
      </strong>
      : with the PyTorch executor the ordering held in {verdict}
      {v.verdict === 'incomplete' ? ` (${v.asked} asked)` : ''}.
      {!applies && ' That check was run at the claims’ own settings, not at yours.'}
    </p>
  );
}

/** The newest run of each row (any seed, any state), for the claim's chart: a run in progress draws live. */
function newestRuns(rowKeys: string[], runs: RunRecord[]): (RunRecord | undefined)[] {
  return rowKeys.map((key) =>
    runs
      .filter((r) => trainedKey(r.config) === key)
      .reduce<RunRecord | undefined>((a, r) => (!a || r.startedAt >= a.startedAt ? r : a), undefined),
  );
}

// One drawn series per history: a claim's chart redraws only the curve whose run moved on.
const series = new WeakMap<readonly TrainPoint[], XY[]>();
function lossLine(train: readonly TrainPoint[]): XY[] {
  let s = series.get(train);
  if (!s) {
    s = displaySeries(
      train,
      (p) => p.iter,
      (p) => p.loss,
      { smoothing: 0, log: false, maxPoints: 120 },
    );
    series.set(train, s);
  }
  return s;
}

/**
 * The claim's rows' training loss on one small chart, as the paper's figure draws it. Redrawn only when one of
 * its runs changed, not when another claim's run trains.
 */
const ClaimChart = memo(
  ClaimChartOf,
  (a, b) => a.claim === b.claim && a.rows.length === b.rows.length && a.rows.every((r, i) => r === b.rows[i]),
);

function ClaimChartOf({ claim, rows }: { claim: Claim; rows: (RunRecord | undefined)[] }) {
  const lines = rows.flatMap((r, i) =>
    r && r.train.length > 0
      ? [
          {
            key: r.id,
            diverged: r.status === 'diverged',
            label: `${claim.rows[i]!.label}${r.status === 'diverged' ? ' (diverged)' : ''}`,
            color: runColor(r),
            data: lossLine(r.train),
          },
        ]
      : [],
  );
  if (lines.length === 0) return null;
  // A diverged run's loss runs off to 100 and beyond: the axis follows the others, and its curve leaves the top.
  const finite = lines.filter((l) => !l.diverged).flatMap((l) => l.data.map((p) => p.y));
  const top = finite.length ? Math.ceil(Math.max(...finite) * 1.1 * 2) / 2 : 'auto';
  return (
    <figure className="claim-chart" data-testid="claim-chart">
      <ResponsiveContainer width="100%" height={170}>
        <LineChart margin={{ top: 6, right: 8, bottom: 2, left: 0 }}>
          <CartesianGrid stroke="#e5e7eb" />
          <XAxis dataKey="x" type="number" domain={[0, 'dataMax']} allowDecimals={false} height={24} fontSize={11} />
          <YAxis
            width={40}
            fontSize={11}
            domain={[0, top]}
            allowDataOverflow
            tickFormatter={(v: number) => fmt(v, 1)}
          />
          {lines.map((l) => (
            <Line
              key={l.key}
              data={l.data}
              dataKey="y"
              name={l.label}
              stroke={l.color}
              strokeWidth={1.6}
              dot={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
      <figcaption>
        <ul className="chart-legend">
          {lines.map((l) => (
            <li key={l.key}>
              <svg width="22" height="10" aria-hidden="true">
                <line x1="0" y1="5" x2="22" y2="5" stroke={l.color} strokeWidth="2" />
              </svg>
              {l.label}
            </li>
          ))}
          <li className="muted legend-key">training loss by iteration (the newest run of each row)</li>
        </ul>
      </figcaption>
    </figure>
  );
}

/** One claim: its sentence, what the check found, its rows, this page's verdict and its chart. */
function ClaimCard({
  claim,
  over,
  runs,
  seeds,
}: {
  claim: Claim;
  over: Partial<Config>;
  runs: RunRecord[];
  seeds: ClaimSeed[];
}) {
  const { runClaim, measureInitSignal } = usePlayground.getState();
  const queue = usePlayground((s) => s.queue);
  const seedCount = usePlayground((s) => (s.lab?.id === CLAIMS_LAB ? s.lab.seeds : 1));
  const configs = useMemo(() => claim.rows.map((row) => claimRowConfig(claim, row, { seed: 1, over })), [claim, over]);
  const keys = useMemo(() => configs.map(trainedKey), [configs]);
  const newest = newestRuns(keys, runs);
  const latest = seeds.at(-1);
  const held = seeds.filter((s) => s.verdict.holds).length;
  const training = claim.metric === 'train-loss';
  const waiting = queue.filter((q) => q.lab?.claim === claim.id).length;
  const toRun = training ? pendingClaimRuns([claim.id], { seeds: seedCount, over }, runs).length : 0;
  const measure = () => {
    for (let seed = 1; seed <= seedCount; seed++)
      for (const row of claim.rows) measureInitSignal(claimRowConfig(claim, row, { seed, over }));
  };

  return (
    <article className="claim" data-testid="claim" data-claim={claim.id} aria-labelledby={`claim-${claim.id}`}>
      <h3 id={`claim-${claim.id}`}>
        <span className="tag">{claim.mirrors}</span> {claim.title}
      </h3>
      <p className="claim-point" data-testid="claim-point">
        {claim.point}
      </p>
      <p className="muted claim-reads">
        Reads the {METRIC_TEXT[claim.metric]}; the paper predicts {expectText(claim)}.{claim.note && ` ${claim.note}`}
      </p>
      <Verified claim={claim} applies={changesScience(over).length === 0} />
      <div className={training ? 'claim-body' : undefined}>
        <div>
          <table className="runs-table claim-rows">
            <thead>
              <tr>
                <th scope="col">Row</th>
                <th scope="col">{latest ? `Seed ${latest.seed}` : 'This run'}</th>
                <th scope="col">Newest run</th>
              </tr>
            </thead>
            <tbody>
              {claim.rows.map((row, i) => {
                const r = newest[i];
                const v = latest?.values[i];
                return (
                  <tr key={row.label} data-testid="claim-row">
                    <td>
                      <a href={linkFor(toQuery(configs[i]!))}>{row.label}</a>
                    </td>
                    <td className="num">{v === undefined ? '—' : Number.isFinite(v) ? fmt(v, 3) : 'diverged'}</td>
                    <td className="muted">
                      {r
                        ? `${r.status}${ACTIVE.includes(r.status) ? ` · it ${fmt(r.train.at(-1)?.iter ?? 0)}` : ''}`
                        : '—'}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <p className="claim-verdict" data-testid="claim-verdict" role="status">
            {latest ? (
              <>
                <strong className={latest.verdict.holds ? 'ok' : 'bad'}>
                  This run (seed {latest.seed}): {latest.verdict.holds ? 'reproduced' : 'not reproduced'}
                </strong>{' '}
                — {seedText(claim, latest)}.{' '}
                <span data-testid="claim-tally">
                  Your seeds: the ordering held in {held} of {seeds.length} (
                  {seeds.map((s) => `${s.seed}${s.verdict.holds ? '✓' : '✗'}`).join(' ')})
                  {seeds.length > 1 ? `: ${overSeeds(held, seeds.length)} by the check’s rule (≥ 4 of 5)` : ''}.
                </span>
              </>
            ) : (
              <span className="muted">
                {training
                  ? 'No verdict yet: it comes when every row of one seed has finished.'
                  : 'No verdict yet: measure both networks at initialisation.'}
              </span>
            )}
          </p>
          <div className="lab-actions">
            {training ? (
              <button type="button" disabled={toRun === 0} onClick={() => runClaim(claim.id)}>
                {toRun === 0
                  ? `Done for seed${seedCount === 1 ? ' 1' : `s 1…${seedCount}`}`
                  : `Run this claim (${toRun} run${toRun === 1 ? '' : 's'})`}
              </button>
            ) : (
              <>
                <button type="button" onClick={measure}>
                  Measure both at initialisation
                </button>
                <a href="#signal-title">Open the signal view</a>
              </>
            )}
            {waiting > 0 && <span className="muted">{waiting} queued</span>}
          </div>
        </div>
        {training && <ClaimChart claim={claim} rows={newest} />}
      </div>
    </article>
  );
}

/**
 * The claims lab (`lab=claims`): each of the paper's findings as a small experiment whose runs train one after
 * another, with the sentence that says what to look for, what the check over seeds found, and whether this
 * page's runs reproduced it.
 */
export function ClaimsLab() {
  const lab = usePlayground((s) => s.lab);
  const config = usePlayground((s) => s.config);
  const datasets = usePlayground((s) => s.datasets);
  const queue = usePlayground((s) => s.queue);
  const queueRunning = usePlayground((s) => s.queueRunning);
  const runs = useThrottledRuns(REDRAW_MS);
  const initSignals = usePlayground((s) => s.initSignals);
  const { openLab, openClaims, runQueue, stopQueue } = usePlayground.getState();
  const over = useMemo(() => claimOverrides(config), [config]);
  const section = useRef<HTMLElement>(null);
  const open = lab?.id === CLAIMS_LAB;
  // A claims link lands on the lab, below the live chart: bring it into view once it opens.
  useEffect(() => {
    if (open) section.current?.scrollIntoView({ block: 'start' });
  }, [open]);
  const results = useMemo(() => CLAIMS.map((c) => claimSeeds(c, runs, initSignals, over)), [runs, initSignals, over]);
  if (!open || !lab) return null;

  const dataset = over.dataset ?? 'cifar10';
  const available = datasets?.some((d) => d.dataset === dataset) ?? false;
  const changed = overridesText(over);
  const science = changesScience(over);
  const left = pendingClaimRuns(CLAIM_IDS, { seeds: lab.seeds, over }, runs).length;

  return (
    <section
      ref={section}
      className="card lab claims-lab"
      id="claims-lab"
      aria-labelledby="claims-title"
      data-testid="claims-lab"
    >
      <div className="card-head">
        <h2 id="claims-title">Claims lab: the paper’s findings in minutes</h2>
        <div className="lab-controls">
          <LabSeeds value={lab.seeds} onChange={(seeds) => openLab({ ...lab, seeds })} />
          {queueRunning ? (
            <button type="button" onClick={stopQueue}>
              Stop after this run
            </button>
          ) : (
            <button
              type="button"
              disabled={left === 0}
              onClick={() => {
                openLab(lab); // everything not yet done here, at the current settings
                runQueue();
              }}
            >
              Run every claim ({left} run{left === 1 ? '' : 's'})
            </button>
          )}
          <span className="muted" data-testid="claims-queue">
            {queue.length} queued{queueRunning ? ', running' : ''}
          </span>
        </div>
      </div>
      <p>
        Each claim is a small experiment: its runs train one after another at a short version of the paper’s protocol
        (ResNet-56, batch 64, 200 iterations: 50 at learning rate 0.01, then 0.1; test error on 1,000 test images) and
        draw on one chart. Each setting was checked over seeds with the PyTorch executor before it was put here; its
        line says how often the paper’s ordering held. The effects need real images: <strong>use CIFAR-10</strong>. With
        a GPU a claim takes minutes; without one, on WASM, a ResNet-56 run takes about 4–5 minutes (1.2 s per step
        measured on a 2-core CPU).
      </p>
      {dataset === 'synthetic' ? (
        <p className="notice notice-warn" data-testid="claims-data">
          These runs use the embedded demo set: they train, but its shapes are easy for every unit, so the paper’s
          effects do not show. The verdicts below mean nothing for the paper until they are run on CIFAR-10.
        </p>
      ) : (
        !available && (
          <p className="notice notice-warn" data-testid="claims-data">
            {DATASET_LABELS[dataset]} is not here yet, and the claims need it: import it or put it on the server (see
            the notice at the top of the page). Ten thousand training images (one official file) are enough.
          </p>
        )
      )}
      {changed && (
        <p className="notice notice-info" data-testid="claims-overrides">
          Your experiment’s changes apply over every claim’s settings: <code>{changed}</code>.
          {science.length > 0 && ' The verified lines are for the claims’ own settings, not these.'}{' '}
          <button type="button" onClick={openClaims}>
            Use the claims’ own settings
          </button>
        </p>
      )}
      {CLAIMS.map((claim, i) => (
        <ClaimCard key={claim.id} claim={claim} over={over} runs={runs} seeds={results[i]!} />
      ))}
      <p className="muted">
        {CLAIM_IDS.length} claims. A claim counts as reproduced when its ordering holds in at least 4 of 5 seeds; one
        seed is a hint, not a result. The same rule and the same metric are used by the check.
      </p>
    </section>
  );
}

/** Opens the claims lab at its own settings and brings it into view. */
function openAndShow() {
  usePlayground.getState().openClaims();
  requestAnimationFrame(() => document.getElementById('claims-lab')?.scrollIntoView({ block: 'start' }));
}

/** The claims lab one click from the top of the page, whatever is on screen. */
export function ClaimsEntry() {
  const open = usePlayground((s) => s.lab?.id === CLAIMS_LAB);
  return (
    <button
      type="button"
      className={open ? undefined : 'primary'}
      data-testid="claims-entry"
      title="The paper's findings as small experiments, each checked over seeds"
      onClick={openAndShow}
    >
      Claims lab
    </button>
  );
}

/**
 * Where a new user goes next: the quick demo shows that training works, not what the paper found, so once it has
 * finished the page suggests the claims lab first.
 */
export function ClaimsInvite() {
  const runs = usePlayground((s) => s.runs);
  const lab = usePlayground((s) => s.lab);
  const last = runs.at(-1);
  if (lab?.id === CLAIMS_LAB || last?.status !== 'finished' || !isPresetApplied(last.config, DEMO)) return null;
  return (
    <section className="notice notice-info claims-invite" data-testid="claims-invite">
      <p>
        <strong>The quick demo finished: training works.</strong> It ran on the embedded demo set, where every unit
        learns. To see what the paper found, open the <strong>claims lab</strong>: five of its findings as small
        CIFAR-10 experiments of a few minutes each on a GPU, each checked over seeds before it was put there.
      </p>
      <button type="button" className="primary" onClick={openAndShow}>
        Open the claims lab
      </button>
    </section>
  );
}
