/**
 * The experiment schema: ONE table that defines every key of an experiment, in the spirit of TensorFlow
 * Playground's state.ts. Each row gives the key's name in the URL, its type and bounds, its default, a line
 * of help for the UI, and the rules that tie it to other keys. The URL codec, the config form, the README's
 * key table and the summary CLI are all generated from this table.
 *
 * Defaults are the paper's CIFAR protocol (see ../shared/paper/NOTES.md, "Training protocol").
 */
import { z } from 'zod';
import {
  ascendingIntListType,
  autoOr,
  boolType,
  enumType,
  floatType,
  intType,
  type AutoOr,
  type FieldType,
} from './fieldTypes';
import { divisorAtMost, microBatchProblem, PAPER_MICRO_BATCH } from './microBatch';
import { depthProblem, nearestDepth, type Block } from './network';
import { UNIT_IDS, unitsUsing, type UnitId } from './units';

export const BLOCKS = ['basic', 'bottleneck'] as const satisfies readonly Block[];
export const DATASETS = ['cifar10', 'cifar100', 'synthetic'] as const;
/** The tfjs backends a run can execute on. */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
/** What the backend key may ask for: a backend, or auto (the fastest one this machine offers). */
export const BACKEND_CHOICES = ['auto', ...BACKENDS] as const;

export type DatasetId = (typeof DATASETS)[number];
export type BackendName = (typeof BACKENDS)[number];
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface Config {
  unit: UnitId;
  shortcutScale: number;
  residualScale: number;
  gateBias: number;
  dropRate: number;
  depth: number;
  block: Block;
  convsPerUnit: number;
  dataset: DatasetId;
  trainSubset: number;
  testSubset: number;
  augment: boolean;
  batch: number;
  /** Images per forward/backward pass; 'auto' is resolved by the worker before the run starts. */
  microBatch: AutoOr<number>;
  lr: number;
  momentum: number;
  nesterov: boolean;
  wd: number;
  iters: number;
  milestones: readonly number[];
  warmupIters: number;
  warmupLr: number;
  evalEvery: number;
  checkpointMinutes: number;
  seed: number;
  backend: BackendChoice;
  /** GiB one training step may use; 'auto' is the active backend's default (src/model/memory.ts). */
  memoryBudget: AutoOr<number>;
}

export type ConfigKey = keyof Config;

export const GROUPS = {
  variant: 'Residual unit',
  network: 'Network',
  data: 'Data',
  optimisation: 'Optimisation',
  run: 'Run',
} as const;
export type Group = keyof typeof GROUPS;

/** A key applies only when every listed key has one of the listed values (data, so it can be shown and tested). */
export interface Applicability {
  unit?: readonly UnitId[];
  block?: readonly Block[];
}

export interface FieldSpec<V> {
  /** Name in the URL query string. */
  url: string;
  group: Group;
  label: string;
  /** One line of help, shown beside the input. */
  help: string;
  default: V;
  type: FieldType<V>;
  when?: Applicability;
  /** A rule that involves other keys; returns why the value is refused, or null. */
  rule?: (value: V, config: Config) => string | null;
  /** The closest valid value when an edit of another key breaks the rule (else the default is used). */
  repair?: (value: V, config: Config) => V;
}

export type Schema = { readonly [K in ConfigKey]: FieldSpec<Config[K]> };

const MAX_ITERS = 1_000_000;

export const SCHEMA: Schema = {
  unit: {
    url: 'unit',
    group: 'variant',
    label: 'Unit',
    help: 'Residual unit: shortcut variants of Fig. 2 or activation placements of Fig. 4.',
    default: 'full-preact',
    type: enumType(UNIT_IDS),
  },
  shortcutScale: {
    url: 'shortcutScale',
    group: 'variant',
    label: 'Shortcut scale λ',
    help: 'λ multiplying the shortcut, h(x) = λx (Fig. 2b); λ = 0 turns the network into a plain net.',
    default: 0.5,
    type: floatType(0, 2),
    when: { unit: unitsUsing('shortcutScale') },
  },
  residualScale: {
    url: 'residualScale',
    group: 'variant',
    label: 'Residual scale',
    help: 'Scale on F (Fig. 2b); the paper tries 1 and 1 − λ = 0.5.',
    default: 1,
    type: floatType(0, 2),
    when: { unit: unitsUsing('residualScale') },
  },
  gateBias: {
    url: 'gateBias',
    group: 'variant',
    label: 'Gate bias b_g',
    help: 'Initial bias of the gate g(x) = σ(1×1 conv(x) + b_g) (Fig. 2c, 2d); the paper finds −6 best.',
    default: -6,
    type: floatType(-20, 20),
    when: { unit: unitsUsing('gateBias') },
  },
  dropRate: {
    url: 'dropRate',
    group: 'variant',
    label: 'Shortcut dropout rate',
    help: 'Probability of dropping each shortcut activation in training (Fig. 2f); the paper uses 0.5.',
    default: 0.5,
    type: floatType(0, 0.95),
    when: { unit: unitsUsing('dropRate') },
  },
  depth: {
    url: 'depth',
    group: 'network',
    label: 'Depth',
    help: 'Weight layers: 6n+2 for basic units (20, 32, 44, 56, 110), 9n+2 for bottleneck (164, 1001), 3n+2 with 1 conv per unit.',
    default: 20,
    type: intType(5, 1202),
    rule: (depth, c) => depthProblem({ depth, block: c.block, convsPerUnit: c.convsPerUnit }),
    repair: (depth, c) => nearestDepth({ depth, block: c.block, convsPerUnit: c.convsPerUnit }),
  },
  block: {
    url: 'block',
    group: 'network',
    label: 'Block',
    help: 'basic: two 3×3 convs, widths 16/32/64; bottleneck: 1×1, 3×3, 1×1 with 4× expansion, outputs 64/128/256.',
    default: 'basic',
    type: enumType(BLOCKS),
  },
  convsPerUnit: {
    url: 'convsPerUnit',
    group: 'network',
    label: 'Convs per unit',
    help: '3×3 convs in each basic unit; 1 gives the paper\'s "ResNet-110 (1layer skip)" (Table 3).',
    default: 2,
    type: intType(1, 2),
    when: { block: ['basic'] },
  },
  dataset: {
    url: 'dataset',
    group: 'data',
    label: 'Dataset',
    help: 'cifar10 / cifar100 (once fetched or imported), or synthetic: the embedded offline demo set, not CIFAR.',
    default: 'cifar10',
    type: enumType(DATASETS),
  },
  trainSubset: {
    url: 'trainSubset',
    group: 'data',
    label: 'Training images',
    help: 'Use only the first N training images (0 = all 50,000); for quick runs.',
    default: 0,
    type: intType(0, 50_000),
  },
  testSubset: {
    url: 'testSubset',
    group: 'data',
    label: 'Test images',
    help: 'Evaluate on only the first N test images (0 = all 10,000).',
    default: 0,
    type: intType(0, 10_000),
  },
  augment: {
    url: 'augment',
    group: 'data',
    label: 'Augmentation',
    help: 'Pad 4 pixels, random 32×32 crop, random horizontal flip (training only), as the paper.',
    default: true,
    type: boolType(),
  },
  batch: {
    url: 'batch',
    group: 'optimisation',
    label: 'Batch size',
    help: 'Mini-batch size; the paper uses 128.',
    default: 128,
    type: intType(1, 1024),
  },
  microBatch: {
    url: 'microBatch',
    group: 'optimisation',
    label: 'Micro-batch',
    help: `Images per forward/backward pass: a step runs batch/microBatch passes, each BN normalising its own images (the paper: 128 on 2 GPUs, 64 each), then one SGD update with the mean gradient. auto: the largest divisor of batch, at most ${PAPER_MICRO_BATCH}, whose step fits the backend's memory.`,
    default: 'auto',
    type: autoOr(intType(1, 1024)),
    rule: (m, c) => (m === 'auto' ? null : microBatchProblem(m, c.batch)),
    repair: (m, c) => (m === 'auto' ? m : divisorAtMost(c.batch, m)),
  },
  lr: {
    url: 'lr',
    group: 'optimisation',
    label: 'Learning rate',
    help: 'Base learning rate after warm-up, divided by 10 at each milestone.',
    default: 0.1,
    type: floatType(0, 1000, { exclusiveMin: true }),
  },
  momentum: {
    url: 'momentum',
    group: 'optimisation',
    label: 'Momentum',
    help: 'SGD momentum; the paper uses 0.9.',
    default: 0.9,
    type: floatType(0, 0.999),
  },
  nesterov: {
    url: 'nesterov',
    group: 'optimisation',
    label: 'Nesterov',
    help: "Nesterov momentum (fb.resnet.torch uses it; the paper's Caffe runs did not).",
    default: false,
    type: boolType(),
  },
  wd: {
    url: 'wd',
    group: 'optimisation',
    label: 'Weight decay',
    help: 'L2 weight decay on the trainable weights; the paper uses 1e-4.',
    default: 1e-4,
    type: floatType(0, 0.1),
  },
  iters: {
    url: 'iters',
    group: 'optimisation',
    label: 'Iterations',
    help: 'Training iterations; the paper trains 64k (164 epochs at batch 128).',
    default: 64_000,
    type: intType(1, MAX_ITERS),
  },
  milestones: {
    url: 'milestones',
    group: 'optimisation',
    label: 'LR milestones',
    help: 'Iterations at which the learning rate is divided by 10; the paper uses 32k and 48k.',
    default: [32_000, 48_000],
    type: ascendingIntListType(1, MAX_ITERS, 8),
  },
  warmupIters: {
    url: 'warmupIters',
    group: 'optimisation',
    label: 'Warm-up iterations',
    help: 'Iterations at the warm-up rate before the base rate; the paper uses 400 for ResNet-110.',
    default: 400,
    type: intType(0, MAX_ITERS),
  },
  warmupLr: {
    url: 'warmupLr',
    group: 'optimisation',
    label: 'Warm-up learning rate',
    help: 'Learning rate during warm-up; the paper uses 0.01.',
    default: 0.01,
    type: floatType(0, 1000, { exclusiveMin: true }),
  },
  evalEvery: {
    url: 'evalEvery',
    group: 'run',
    label: 'Evaluate every',
    help: 'Iterations between test-set evaluations (test error and loss).',
    default: 400,
    type: intType(1, MAX_ITERS),
  },
  checkpointMinutes: {
    url: 'checkpointMinutes',
    group: 'run',
    label: 'Checkpoint every (min)',
    help: 'Minutes of training between checkpoints (weights, BN statistics, momentum, data order), kept in this browser so a run can resume after a reload; also saved at pause, stop and the end. 0: only then.',
    default: 2,
    type: floatType(0, 1440),
  },
  seed: {
    url: 'seed',
    group: 'run',
    label: 'Seed',
    help: 'Seeds initial weights, data order and augmentation: the same link gives the same run.',
    default: 1,
    type: intType(0, 2_147_483_647),
  },
  backend: {
    url: 'backend',
    group: 'run',
    label: 'Backend',
    help: 'tfjs backend of the worker. auto: WebGPU on a hardware GPU, else WASM (a software WebGPU adapter such as SwiftShader is far slower than WASM). A named backend is used if it starts, else wasm, then cpu.',
    default: 'auto',
    type: enumType(BACKEND_CHOICES),
  },
  memoryBudget: {
    url: 'memoryBudget',
    group: 'run',
    label: 'Memory budget (GiB)',
    help: "Memory one training step may use, checked before the run starts. auto: 4 GiB, WASM's maximum; WebGPU cannot tell how much memory the GPU has, so give yours (e.g. 16) to allow larger micro-batches there.",
    default: 'auto',
    type: autoOr(floatType(0.25, 1024)),
  },
};

/** Keys in table order: the order of the form, of the README and of every written link. */
export const CONFIG_KEYS = Object.keys(SCHEMA) as ConfigKey[];

/** A row of the table seen through its key alone, for code that treats every key alike (codec, form). */
export function anyField(key: ConfigKey): FieldSpec<unknown> {
  return SCHEMA[key] as unknown as FieldSpec<unknown>;
}

export function defaults(): Config {
  const c = {} as Record<ConfigKey, unknown>;
  for (const k of CONFIG_KEYS) c[k] = SCHEMA[k].default;
  return c as unknown as Config;
}

/** Whether a key takes effect under the config's unit and block. */
export function applies(key: ConfigKey, config: Config): boolean {
  const w: Applicability | undefined = SCHEMA[key].when;
  if (!w) return true;
  return (!w.unit || w.unit.includes(config.unit)) && (!w.block || w.block.includes(config.block));
}

/** "only with unit = scale" style description of a key's applicability, or null when it always applies. */
export function describeApplicability(key: ConfigKey): string | null {
  const w: Applicability | undefined = SCHEMA[key].when;
  if (!w) return null;
  const parts = Object.entries(w).map(([k, vs]) => `${k} = ${(vs as readonly string[]).join(' | ')}`);
  return `only with ${parts.join(' and ')}`;
}

/**
 * A config saved before some keys existed (an older run in this browser's storage or an older export), completed
 * with the values that reproduce what it ran: microBatch = batch (steps were not split), other keys their
 * defaults. Keys it has are left as they are (validation, where wanted, comes after).
 */
export function completeSavedConfig(saved: object): object {
  const s = saved as Partial<Config>;
  const filled: Partial<Config> = { ...defaults(), ...(typeof s.batch === 'number' && { microBatch: s.batch }) };
  return { ...filled, ...s };
}

/**
 * Zod schema of a complete config, for configs that arrive as objects (imported runs, worker messages).
 * Cross-key rules are checked too, so a config it accepts is one a link could have produced.
 */
export const configSchema: z.ZodType<Config> = z
  .object(Object.fromEntries(CONFIG_KEYS.map((k) => [k, SCHEMA[k].type.zod])) as Record<ConfigKey, z.ZodType>)
  .strict()
  .superRefine((obj, ctx) => {
    const c = obj as unknown as Config;
    for (const k of CONFIG_KEYS) {
      const reason = anyField(k).rule?.(c[k], c);
      if (reason) ctx.addIssue({ code: 'custom', path: [k], message: reason });
    }
  }) as unknown as z.ZodType<Config>;
