/**
 * The paper lab: each experiment of the paper (Tables 1–3, Figs. 1, 3 and 6) as data, its rows being links with
 * the number the paper reports (CIFAR test error %, median of 5 runs; null = "fail", above 20%). Numbers from
 * ../shared/paper/NOTES.md. Every row trains the paper's protocol (the schema's defaults) unless its link says
 * otherwise; a "quick" version shortens the schedule tenfold and, for the basic 110-layer nets, uses 56 layers,
 * where the ordering of the variants already shows. Quick runs are labelled as such everywhere.
 */
import { canonical, parseQuery, toQuery } from './codec';
import type { LabId } from './labIds';
import type { Config } from './schema';
import { UNITS, type UnitId } from './units';

export interface LabRow {
  label: string;
  /** The row's experiment as a link query (protocol keys left at the paper's defaults). */
  query: string;
  /** The paper's test error (%), or null for "fail". */
  paper: number | null;
}

export interface LabExperiment {
  id: LabId;
  title: string;
  /** What the experiment shows, in a sentence. */
  point: string;
  rows: LabRow[];
}

/**
 * The paper's micro-batch: "mini-batch size 128 on 2 GPUs (64 each)" (Appendix), so BN normalises 64 images. Rows
 * say microBatch=64 where a step of 64 fits WASM's 4 GiB (the memory plan, src/model/memory.ts; lab.test.ts
 * checks it), so they train exactly so on every backend. The rest (ResNet-164, ResNet-1001, exclusive gating at
 * 110 layers) leave it at auto: 64 wherever that fits, else the largest micro-batch that does, which the run says.
 */
const MB64 = 'microBatch=64';
const T1 = `depth=110&${MB64}`;
const C100 = 'dataset=cifar100';

const TABLE1: LabRow[] = [
  { label: 'original', query: `unit=original&${T1}`, paper: 6.61 },
  { label: 'constant scaling λ=0, s=1', query: `unit=scale&shortcutScale=0&${T1}`, paper: null },
  { label: 'constant scaling λ=0.5, s=1', query: `unit=scale&${T1}`, paper: null },
  { label: 'constant scaling λ=0.5, s=0.5', query: `unit=scale&residualScale=0.5&${T1}`, paper: 12.35 },
  { label: 'exclusive gating b_g=0', query: 'unit=exclusive-gate&gateBias=0&depth=110', paper: null },
  { label: 'exclusive gating b_g=−6', query: 'unit=exclusive-gate&depth=110', paper: 8.7 },
  { label: 'exclusive gating b_g=−7', query: 'unit=exclusive-gate&gateBias=-7&depth=110', paper: 9.81 },
  { label: 'shortcut-only gating b_g=0', query: `unit=shortcut-gate&gateBias=0&${T1}`, paper: 12.86 },
  { label: 'shortcut-only gating b_g=−6', query: `unit=shortcut-gate&${T1}`, paper: 6.91 },
  { label: '1×1 conv shortcut', query: `unit=conv-shortcut&${T1}`, paper: 12.22 },
  { label: 'dropout shortcut p=0.5', query: `unit=dropout-shortcut&${T1}`, paper: null },
];

/** The paper's number for a unit at a depth, from the unit registry (Table 2 is exactly its numbers). */
function registryError(unit: UnitId, depth: number): number | null {
  const r = UNITS[unit].paper.find((p) => p.depth === depth && p.setting === undefined);
  if (!r) throw new Error(`units.ts has no paper result for ${unit} at depth ${depth}`);
  return r.error;
}

const TABLE2: LabRow[] = (
  ['original', 'bn-after-add', 'relu-before-add', 'relu-preact', 'full-preact'] as const
).flatMap((unit) => [
  { label: `${unit} · ResNet-110`, query: `unit=${unit}&${T1}`, paper: registryError(unit, 110) },
  { label: `${unit} · ResNet-164`, query: `unit=${unit}&depth=164&block=bottleneck`, paper: registryError(unit, 164) },
]);

const TABLE3: LabRow[] = [
  ['ResNet-110 (1 layer)', `depth=110&convsPerUnit=1&${MB64}`, 9.9, 8.91],
  ['ResNet-110', T1, 6.61, 6.37],
  ['ResNet-164', 'depth=164&block=bottleneck', 5.93, 5.46],
  ['ResNet-1001', 'depth=1001&block=bottleneck', 7.61, 4.92],
  ['ResNet-164 · CIFAR-100', `depth=164&block=bottleneck&${C100}`, 25.16, 24.33],
  ['ResNet-1001 · CIFAR-100', `depth=1001&block=bottleneck&${C100}`, 27.82, 22.71],
].flatMap(([name, q, orig, pre]) => [
  { label: `${name} · original`, query: `unit=original&${q}`, paper: orig as number },
  { label: `${name} · pre-activation`, query: `unit=full-preact&${q}`, paper: pre as number },
]);

/** A table's row under a figure's label: the figures plot runs of the tables, with the same numbers. */
function rowOf(table: LabRow[], label: string, as = label): LabRow {
  const row = table.find((r) => r.label === label);
  if (!row) throw new Error(`no row "${label}"`);
  return { ...row, label: as };
}

export const LAB: readonly LabExperiment[] = [
  {
    id: 'table1',
    title: 'Table 1 · shortcuts (ResNet-110, CIFAR-10)',
    point: 'Anything on the shortcut (scaling, gates, 1×1 conv, dropout) trains worse than the identity.',
    rows: TABLE1,
  },
  {
    id: 'table2',
    title: 'Table 2 · activation placement (ResNet-110 and -164, CIFAR-10)',
    point: 'Full pre-activation (BN and ReLU before the weights, nothing after the addition) is best.',
    rows: TABLE2,
  },
  {
    id: 'table3',
    title: 'Table 3 · original vs pre-activation across depths (CIFAR-10 and -100)',
    point: 'Pre-activation helps more the deeper the net: most at 1001 layers.',
    rows: TABLE3,
  },
  {
    id: 'fig1',
    title: 'Fig. 1 · ResNet-1001, original vs pre-activation (CIFAR-10)',
    point: 'At 1001 layers the original unit trains slowly; the pre-activation unit trains easily.',
    rows: [
      rowOf(TABLE3, 'ResNet-1001 · original', 'original · ResNet-1001'),
      rowOf(TABLE3, 'ResNet-1001 · pre-activation', 'pre-activation · ResNet-1001'),
    ],
  },
  {
    id: 'fig3',
    title: 'Fig. 3 · training curves of the shortcut variants (ResNet-110, CIFAR-10)',
    point: 'Each impeded shortcut has a higher training loss than the identity: an optimisation problem.',
    rows: [
      rowOf(TABLE1, 'original'),
      rowOf(TABLE1, 'constant scaling λ=0.5, s=0.5', '(a) constant scaling λ=0.5, s=0.5'),
      rowOf(TABLE1, 'exclusive gating b_g=−6', '(b) exclusive gating b_g=−6'),
      rowOf(TABLE1, 'shortcut-only gating b_g=0', '(c) shortcut-only gating b_g=0'),
      rowOf(TABLE1, '1×1 conv shortcut', '(d) 1×1 conv shortcut'),
    ],
  },
  {
    id: 'fig6',
    title: 'Fig. 6 · BN after addition (ResNet-110) and pre-activation (ResNet-164), CIFAR-10',
    point: 'BN after the addition impedes the shortcut; pre-activation lowers test error though not training loss.',
    rows: [
      rowOf(TABLE2, 'original · ResNet-110'),
      rowOf(TABLE2, 'bn-after-add · ResNet-110', 'BN after addition · ResNet-110'),
      rowOf(TABLE2, 'original · ResNet-164'),
      rowOf(TABLE2, 'full-preact · ResNet-164', 'pre-activation · ResNet-164'),
    ],
  },
];

export function labExperiment(id: string): LabExperiment | undefined {
  return LAB.find((e) => e.id === id);
}

/** "fail" is the paper's word for a test error above 20%. */
export const FAIL_ABOVE = 20;

/** The quick version of a row: a tenth of the schedule; 56 layers instead of 110 for basic nets. */
const QUICK = { iters: 6400, milestones: [3200, 4800], warmupIters: 400, evalEvery: 200 };

/** The config a row trains, with the given seed, in full or quick form. */
export function rowConfig(row: LabRow, opts: { quick: boolean; seed: number }): Config {
  const { config } = parseQuery(row.query);
  const c: Config = { ...config, seed: opts.seed };
  if (!opts.quick) return c;
  const depth = c.block === 'basic' && c.depth === 110 ? 56 : c.depth;
  return canonical({ ...c, ...QUICK, depth });
}

/**
 * Runs with equal configs but for the seed are seeds of one experiment; this is their shared key. Configs are
 * never mutated, so each one's key is computed once: the lab table and the seeds table ask for every run's key
 * at every metrics update.
 */
const keys = new WeakMap<Config, string>();
export function experimentKey(c: Config): string {
  let key = keys.get(c);
  if (key === undefined) keys.set(c, (key = toQuery({ ...c, seed: 0 })));
  return key;
}

export interface SeedStats {
  n: number;
  median: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single run. */
  std: number;
}

/** Median with mean ± std, as the paper's Table 4 reports seeds. */
export function seedStats(values: readonly number[]): SeedStats | null {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return null;
  const median = n % 2 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, median, mean, std };
}
