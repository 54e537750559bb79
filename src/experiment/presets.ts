/**
 * Config presets: one click to the paper's training protocol at its depths, or to a demo short enough to watch
 * here. A preset sets the network and the protocol; it keeps the chosen unit (and its parameters), the
 * dataset and the backend, so "this unit, the paper's way" is one click from any starting point. The paper
 * lab's presets (whole tables and figures, several runs) build on these.
 */
import { parseQuery, toQuery } from './codec';
import { defaults, type Config, type ConfigKey } from './schema';

export interface Preset {
  id: string;
  label: string;
  help: string;
  /** The keys the preset sets, as a link would; every other key not kept below returns to its default. */
  query: string;
}

/** What a preset never changes: the user's choice of unit, dataset and backend. */
const KEPT: readonly ConfigKey[] = [
  'unit',
  'shortcutScale',
  'residualScale',
  'gateBias',
  'dropRate',
  'dataset',
  'backend',
];

// Paper protocol (Appendix; NOTES.md): batch 128, lr 0.1 with 400 warm-up iterations at 0.01, ÷10 at 32k and
// 48k, 64k iterations, weight decay 1e-4, momentum 0.9, translation + flip augmentation. These are the defaults.
// microBatch stays auto: 64 images per BN (the paper's 2 GPUs × 64) wherever a step of 64 fits the backend, and
// the largest micro-batch that fits where not (ResNet-164 and -1001 on WASM), which the run says. A preset keeps
// the unit, and some units at 110 layers (exclusive gating) do not fit 64 on WASM: an explicit 64 would refuse.
export const PRESETS: readonly Preset[] = [
  {
    id: 'demo',
    label: 'Quick demo',
    help: 'ResNet-8 on the embedded shapes set: 300 iterations at batch 32, no warm-up. A few minutes on WASM.',
    query: 'depth=8&dataset=synthetic&testSubset=500&batch=32&iters=300&milestones=200&warmupIters=0&evalEvery=50',
  },
  {
    id: 'paper-110',
    label: 'Paper: ResNet-110',
    help: 'Table 1/2 setting: 54 basic units, the paper’s full CIFAR schedule (64k iterations at batch 128).',
    query: 'depth=110',
  },
  {
    id: 'paper-164',
    label: 'Paper: ResNet-164',
    help: 'Table 2/3 setting: 54 bottleneck units, the paper’s full CIFAR schedule.',
    query: 'depth=164&block=bottleneck',
  },
  {
    id: 'paper-1001',
    label: 'Paper: ResNet-1001',
    help: 'Fig. 1 / Table 3 setting: 333 bottleneck units, 10.3M parameters, the paper’s full CIFAR schedule.',
    query: 'depth=1001&block=bottleneck',
  },
];

/** The config a preset gives from the current one: preset keys, the kept keys, defaults for the rest. */
export function applyPreset(config: Config, preset: Preset): Config {
  const kept = { ...defaults() } as Record<ConfigKey, unknown>;
  for (const k of KEPT) kept[k] = config[k];
  const base = new URLSearchParams(toQuery(kept as unknown as Config));
  for (const [k, v] of new URLSearchParams(preset.query)) base.set(k, v);
  return parseQuery(base.toString()).config;
}

/** Whether the config is exactly what the preset gives (the page marks that preset as current). */
export function isPresetApplied(config: Config, preset: Preset): boolean {
  return toQuery(applyPreset(config, preset)) === toQuery(config);
}
