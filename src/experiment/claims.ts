/**
 * The claims lab: the paper's findings as small experiments that show each effect in minutes, not in 64,000
 * iterations. A claim is data like a paper-lab experiment (lab.ts): rows that are links, trained one after
 * another with the claim's short settings; plus the metric to read and the ordering the paper predicts. The page
 * (src/ui/ClaimsLab.tsx) and the check over seeds (scripts/claims.ts, PyTorch) read the same data and the same
 * metric below, so what the page says a run reproduced is what the check counted.
 *
 * The settings: the paper's protocol shortened to 200 iterations at batch 64 (12,800 images), 50 warm-up
 * iterations at 0.01 then 0.1 with no step, ResNet-56. An independent PyTorch implementation on 10,000 CIFAR-10
 * training images measured, after 200 iterations, a mean training loss over the last 50 of 1.89 for the original
 * unit and 2.22 with λ = 0.5 on the shortcut (one seed): Fig. 3's gap, visible that early. The effects need real
 * images: on the embedded demo set every unit learns its shapes and the gaps do not show.
 */
import { canonical, parseQuery, toQuery, type Problem } from './codec';
import type { ClaimId } from './labIds';
import { preferredMicroBatch } from './microBatch';
import type { TrainPoint, SignalProfile } from './record';
import { CONFIG_KEYS, defaults, SCHEMA, type Config, type ConfigKey } from './schema';

/**
 * What a claim reads from each row: the mean training loss over the last quarter of the iterations (the paper's
 * dashed curves, read where the early noise has settled), or the signal at initialisation: |log10| of the
 * gradient-norm ratio ‖∂E/∂x_1‖ / ‖∂E/∂x_L‖ (0 when the gradient reaches the first unit unchanged; Eqns. 5, 8).
 */
export type ClaimMetric = 'train-loss' | 'signal-at-init';

export const METRIC_TEXT: Record<ClaimMetric, string> = {
  'train-loss': 'mean training loss over the last quarter of the iterations',
  'signal-at-init': '|log10| of the gradient ratio ‖∂E/∂x_1‖ / ‖∂E/∂x_L‖ at initialisation',
};

export interface ClaimRow {
  label: string;
  /** The row's keys, applied over the claim's settings. */
  query: string;
}

export interface Claim {
  id: ClaimId;
  /** The figure or table of the paper it mirrors. */
  mirrors: string;
  title: string;
  /** What to look for, in one sentence. */
  point: string;
  /** Keys every row shares (the short schedule), as a link writes them. */
  settings: string;
  rows: ClaimRow[];
  metric: ClaimMetric;
  /** The paper's prediction, as pairs [a, b] of row indices: row a's metric is below row b's. */
  expect: readonly (readonly [number, number])[];
  /** Something the reader should know about the setting (e.g. the depth used instead of the paper's). */
  note?: string;
}

/** The short schedule every training claim shares (see the header); test error on the first 1,000 test images. */
export const CLAIM_SETTINGS =
  'depth=56&batch=64&iters=200&warmupIters=50&milestones=none&evalEvery=100&testSubset=1000';

const ORIGINAL: ClaimRow = { label: 'original (identity shortcut)', query: 'unit=original' };

export const CLAIMS: readonly Claim[] = [
  {
    id: 'shortcuts',
    mirrors: 'Fig. 3 / Table 1',
    title: 'Anything on the shortcut slows training',
    point:
      'The identity shortcut’s training loss falls fastest; scaling it by λ = 0.5, gating it, dropping it out or ' +
      'replacing it by a 1×1 conv keeps the training loss higher.',
    settings: CLAIM_SETTINGS,
    rows: [
      ORIGINAL,
      { label: 'constant scaling λ = 0.5', query: 'unit=scale' },
      { label: 'exclusive gating b_g = −6', query: 'unit=exclusive-gate' },
      { label: 'dropout shortcut p = 0.5', query: 'unit=dropout-shortcut' },
      { label: '1×1 conv shortcut', query: 'unit=conv-shortcut' },
    ],
    metric: 'train-loss',
    expect: [
      [0, 1],
      [0, 2],
      [0, 3],
      [0, 4],
    ],
  },
  {
    id: 'signal',
    mirrors: 'Eqns. 5 and 8',
    title: 'Scaled shortcuts distort the gradient before any training',
    point:
      'At initialisation, with identity shortcuts the gradient reaching the first unit stays within a few times ' +
      'the last unit’s (Eqn. 5: the term 1); with λ = 0.5 it is off by orders of magnitude (Eqn. 8: the product ' +
      'of the λs). No training needed: one forward and one backward pass.',
    settings: CLAIM_SETTINGS,
    rows: [ORIGINAL, { label: 'constant scaling λ = 0.5', query: 'unit=scale' }],
    metric: 'signal-at-init',
    expect: [[0, 1]],
  },
  {
    id: 'bn-after-add',
    mirrors: 'Fig. 6 (left) / Table 2',
    title: 'BN after the addition impedes the shortcut',
    point:
      'With BN after the addition the shortcut’s signal is normalised at every unit, and the training loss stays ' +
      'above the original unit’s from the start.',
    settings: CLAIM_SETTINGS,
    rows: [ORIGINAL, { label: 'BN after addition', query: 'unit=bn-after-add' }],
    metric: 'train-loss',
    expect: [[0, 1]],
  },
  {
    id: 'activation',
    mirrors: 'Fig. 4 / Table 2',
    title: 'Where the activations sit: full pre-activation trains best',
    point:
      'ReLU before the addition makes every residual non-negative and trains worse than the original unit; full ' +
      'pre-activation (BN and ReLU before each conv, nothing after the addition) trains best.',
    settings: CLAIM_SETTINGS,
    rows: [
      { label: 'full pre-activation', query: 'unit=full-preact' },
      ORIGINAL,
      { label: 'ReLU before addition', query: 'unit=relu-before-add' },
    ],
    metric: 'train-loss',
    expect: [
      [0, 1],
      [1, 2],
    ],
  },
  {
    id: 'depth',
    mirrors: 'Fig. 1 / Table 3',
    title: 'Deeper, the original unit falls behind pre-activation',
    point:
      'At 110 layers the original unit’s ReLU after the addition stands in the shortcut’s way 54 times, and its ' +
      'training loss falls more slowly than the pre-activation unit’s.',
    settings: CLAIM_SETTINGS.replace('depth=56', 'depth=110'),
    rows: [
      { label: 'full pre-activation · ResNet-110', query: 'unit=full-preact' },
      { label: 'original · ResNet-110', query: 'unit=original' },
    ],
    metric: 'train-loss',
    expect: [[0, 1]],
    note: 'The paper shows this at 1001 layers; 110 is the depth a laptop GPU trains in minutes.',
  },
];

export function claimById(id: string): Claim | undefined {
  return CLAIMS.find((c) => c.id === id);
}

/** The share of seeds in which the ordering must hold for a claim to count as reproduced (4 of 5). */
export const HOLD_FRACTION = 0.8;

/**
 * Keys of the page's experiment that apply over every claim's settings: anything changed from the schema's
 * default, except what the rows decide (the unit and its parameters) and the seed (the lab runs seeds 1…N).
 */
const ROW_KEYS: readonly ConfigKey[] = ['unit', 'shortcutScale', 'residualScale', 'gateBias', 'dropRate', 'seed'];

/** The keys of `config` that a claims lab applies over each claim's settings. */
export function claimOverrides(config: Config): Partial<Config> {
  const d = defaults() as Record<ConfigKey, unknown>;
  const over: Partial<Record<ConfigKey, unknown>> = {};
  for (const key of CONFIG_KEYS) {
    if (ROW_KEYS.includes(key)) continue;
    if (!SCHEMA[key].type.equals(config[key] as never, d[key] as never)) over[key] = config[key];
  }
  return over as Partial<Config>;
}

/**
 * Overrides that change what is measured (every group but "run": backend, evaluation interval and checkpoints
 * leave the training loss as it is). With any of these, the check's verified rate does not apply.
 */
export function changesScience(over: Partial<Config>): ConfigKey[] {
  return (Object.keys(over) as ConfigKey[]).filter((k) => SCHEMA[k].group !== 'run');
}

/** Keys of the "run" group: they change where and how a run is watched, not what it trains (the seed aside). */
const WATCH_KEYS = CONFIG_KEYS.filter((k) => SCHEMA[k].group === 'run' && k !== 'seed');

/**
 * What a run trained, seed aside, as the claims match runs to rows: a claim's run is the same on WebGPU, WASM or
 * PyTorch, and whatever its evaluation interval. Computed once per config (configs are never mutated).
 */
const trained = new WeakMap<Config, string>();
export function trainedKey(c: Config): string {
  let key = trained.get(c);
  if (key === undefined) {
    const d = defaults() as Record<ConfigKey, unknown>;
    const plain = { ...c, seed: 0 } as Record<ConfigKey, unknown>;
    for (const k of WATCH_KEYS) plain[k] = d[k];
    // A run records the micro-batch auto resolved to; where that is auto's own choice when memory allows (the
    // paper's 64 images per BN, or the batch's largest divisor below it) it trained what a row with auto asks for.
    if (c.microBatch === preferredMicroBatch(c.batch)) plain.microBatch = 'auto';
    trained.set(c, (key = toQuery(plain as unknown as Config)));
  }
  return key;
}

/** Overrides as a link writes them ("dataset=synthetic&iters=6"), for the page to show. */
export function overridesText(over: Partial<Config>): string {
  const keys = Object.keys(over) as ConfigKey[];
  const q = new URLSearchParams(toQuery({ ...defaults(), ...over }));
  return keys.length === 0 ? '' : q.toString().replace(/%2C/gi, ',');
}

/** The config a claim's row trains with `seed`, its settings overridden by `over`, and any problem of the mix. */
export function claimRowRun(
  claim: Claim,
  row: ClaimRow,
  opts: { seed: number; over?: Partial<Config> },
): { config: Config; problems: Problem[] } {
  const q = new URLSearchParams(claim.settings);
  for (const [k, v] of new URLSearchParams(row.query)) q.set(k, v);
  const mixed = canonical({ ...parseQuery(q.toString()).config, ...opts.over, seed: opts.seed });
  // Round-trip through the link codec: the mix must be an experiment a link can express (depth form and all).
  const { config, problems } = parseQuery(toQuery(mixed));
  return { config, problems };
}

export function claimRowConfig(claim: Claim, row: ClaimRow, opts: { seed: number; over?: Partial<Config> }): Config {
  return claimRowRun(claim, row, opts).config;
}

/**
 * Every run the claims in `ids` read, seeds 1…`seeds`, claim after claim; a run that several claims share (the
 * original unit at the short settings) is listed once, with the first claim that needs it. A signal claim reads
 * its rows' runs at their start (each run is measured at initialisation), so its runs are those rows' runs.
 */
export function claimsRuns(
  ids: readonly ClaimId[],
  opts: { seeds: number; over?: Partial<Config> },
): { claim: ClaimId; row: number; config: Config }[] {
  const seen = new Set<string>();
  const out: { claim: ClaimId; row: number; config: Config }[] = [];
  for (const claim of CLAIMS) {
    if (!ids.includes(claim.id)) continue;
    for (let seed = 1; seed <= opts.seeds; seed++) {
      for (const [i, row] of claim.rows.entries()) {
        const config = claimRowConfig(claim, row, { seed, over: opts.over });
        const key = `${trainedKey(config)}#${seed}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ claim: claim.id, row: i, config });
      }
    }
  }
  return out;
}

/** Whether `runs` hold a result (finished or diverged: either is one) of this config's training and seed. */
export function claimRunDone(config: Config, runs: readonly { config: Config; status: string }[]): boolean {
  const key = trainedKey(config);
  return runs.some(
    (r) =>
      (r.status === 'finished' || r.status === 'diverged') &&
      r.config.seed === config.seed &&
      trainedKey(r.config) === key,
  );
}

/** The runs of `claimsRuns` that this page has not completed yet, so running a claim again trains only what is missing. */
export function pendingClaimRuns(
  ids: readonly ClaimId[],
  opts: { seeds: number; over?: Partial<Config> },
  runs: readonly { config: Config; status: string }[],
): { claim: ClaimId; row: number; config: Config }[] {
  return claimsRuns(ids, opts).filter((r) => !claimRunDone(r.config, runs));
}

/**
 * Mean training loss over the iterations after three quarters of `iters`. Each training point holds the mean
 * loss of the iterations since the previous point, so each counts with the number of its iterations inside that
 * last quarter. A non-finite loss (a diverged run) gives Infinity: it trained worse than any finite run.
 * Undefined until the history reaches `iters`.
 */
export function lastQuarterLoss(train: readonly TrainPoint[], iters: number): number | undefined {
  const from = Math.floor((iters * 3) / 4);
  let sum = 0;
  let weight = 0;
  let prev = 0;
  for (const p of train) {
    if (!Number.isFinite(p.loss)) return Infinity;
    const w = Math.max(0, Math.min(p.iter, iters) - Math.max(prev, from));
    sum += w * p.loss;
    weight += w;
    prev = Math.max(prev, p.iter);
  }
  return prev >= iters && weight > 0 ? sum / weight : undefined;
}

/** The signal metric of a profile measured at initialisation: how far the gradient ratio is from 1, in decades. */
export function signalMetric(profile: SignalProfile): number {
  return Math.abs(Math.log10(profile.backwardRatio));
}

export interface SeedVerdict {
  /** Each expected pair with whether it held in this seed. */
  pairs: { lower: number; higher: number; holds: boolean }[];
  holds: boolean;
}

/** Whether the claim's ordering holds for one seed's metrics (one per row, in row order). */
export function seedVerdict(claim: Claim, values: readonly number[]): SeedVerdict {
  const pairs = claim.expect.map(([lower, higher]) => ({ lower, higher, holds: values[lower]! < values[higher]! }));
  return { pairs, holds: pairs.every((p) => p.holds) };
}

/** A claim over seeds: reproduced when the ordering held in at least HOLD_FRACTION of them. */
export function overSeeds(held: number, of: number): 'reproduced' | 'not reproduced' {
  return of > 0 && held >= Math.ceil(HOLD_FRACTION * of - 1e-9) ? 'reproduced' : 'not reproduced';
}

/**
 * The predicted ordering in words: a chain "a < b < c" when the pairs link up, "a < each of b, c" when they share
 * their lower row, else the pairs one by one.
 */
export function expectText(claim: Claim): string {
  const label = (i: number) => claim.rows[i]!.label;
  const pairs = claim.expect;
  const chain = pairs.every((p, i) => i === 0 || pairs[i - 1]![1] === p[0]);
  if (chain) return [pairs[0]![0], ...pairs.map((p) => p[1])].map(label).join(' < ');
  if (pairs.every((p) => p[0] === pairs[0]![0]))
    return `${label(pairs[0]![0])} < each of ${pairs.map((p) => label(p[1])).join(', ')}`;
  return pairs.map(([a, b]) => `${label(a)} < ${label(b)}`).join('; ');
}

/** "original 1.89 < constant scaling λ = 0.5 2.22": one expected pair with the figures of a seed. */
export function pairText(claim: Claim, values: readonly number[], pair: { lower: number; higher: number }): string {
  const v = (i: number) => (Number.isFinite(values[i]) ? values[i]!.toFixed(3) : 'diverged');
  const op = values[pair.lower]! < values[pair.higher]! ? '<' : '≥';
  return `${claim.rows[pair.lower]!.label} ${v(pair.lower)} ${op} ${claim.rows[pair.higher]!.label} ${v(pair.higher)}`;
}

/** The experiment (seed aside) each row of a claim runs, with the given overrides: what runs are matched by. */
export function claimRowKeys(claim: Claim, over?: Partial<Config>): string[] {
  return claim.rows.map((row) => trainedKey(claimRowConfig(claim, row, { seed: 1, over })));
}

/** What the claims read of a run: its config, how it ended, its training points and its signal profiles. */
export interface ClaimRunView {
  config: Config;
  status: string;
  train: readonly TrainPoint[];
  signals?: readonly { iter: number; profile: SignalProfile }[];
  /** For picking the newest of repeated runs. */
  startedAt: number;
}

/** A network measured at initialisation without a run (the signal view's measurement). */
export interface InitMeasurement {
  config: Config;
  profile?: SignalProfile;
  at: number;
}

/** A row's metric from one run: undefined until the run has what the metric reads. */
export function runMetric(claim: Claim, run: ClaimRunView): number | undefined {
  if (claim.metric === 'signal-at-init') {
    const first = run.signals?.find((s) => s.iter === 0);
    return first ? signalMetric(first.profile) : undefined;
  }
  if (run.status === 'diverged') return Infinity;
  return run.status === 'finished' ? lastQuarterLoss(run.train, run.config.iters) : undefined;
}

export interface ClaimSeed {
  seed: number;
  values: number[];
  verdict: SeedVerdict;
  /** When its newest measurement started: the newest seed is "this run". */
  at: number;
}

/**
 * A claim's results in the page: per seed in which every row has a measurement (the newest, when a row was run
 * more than once), the metrics and whether the ordering held; oldest seed first.
 */
export function claimSeeds(
  claim: Claim,
  runs: readonly ClaimRunView[],
  init: readonly InitMeasurement[],
  over?: Partial<Config>,
): ClaimSeed[] {
  const keys = claimRowKeys(claim, over);
  // row → seed → newest measurement
  const best = keys.map(() => new Map<number, { value: number; at: number }>());
  const add = (config: Config, value: number | undefined, at: number) => {
    if (value === undefined) return;
    const row = keys.indexOf(trainedKey(config));
    if (row < 0) return;
    const had = best[row]!.get(config.seed);
    if (!had || had.at <= at) best[row]!.set(config.seed, { value, at });
  };
  for (const r of runs) add(r.config, runMetric(claim, r), r.startedAt);
  if (claim.metric === 'signal-at-init')
    for (const m of init) add(m.config, m.profile && signalMetric(m.profile), m.at);
  const seeds = [...best[0]!.keys()].filter((s) => best.every((b) => b.has(s)));
  return seeds
    .map((seed) => {
      const got = best.map((b) => b.get(seed)!);
      const values = got.map((g) => g.value);
      return { seed, values, verdict: seedVerdict(claim, values), at: Math.max(...got.map((g) => g.at)) };
    })
    .sort((a, b) => a.at - b.at);
}
