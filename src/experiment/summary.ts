/** The facts a link resolves to, as printed by `npm run summary`: config, problems, canonical link, network figures. */
import { memorySummary, stepMemory, type MemoryBackend } from '../model/memory';
import { planNetwork, summarizePlan, type ModelSummary } from '../model/plan';
import { parseQuery, toQuery, type Problem } from './codec';
import type { Config } from './schema';

/** One backend's memory for the config: what a step holds at the micro-batch it would run with, and what fits. */
export interface BackendMemory {
  /** Bytes a step may use there (WASM's 4 GiB less headroom, or memoryBudget). */
  budgetBytes: number;
  /** The micro-batch a run would use (auto resolved; at most 64), or null when the run would be refused. */
  microBatch: number | null;
  /** Peak bytes of one step at that micro-batch (at the configured one, or 1, when refused). */
  stepBytes: number;
  /** Where the bytes go (src/model/memory.ts says what each counts). */
  breakdown: {
    weights: number;
    optimizer: number;
    gradients: number;
    batch: number;
    activations: number;
    workspace: number;
    native: number;
  };
  /** The largest divisor of the batch whose step fits, or null. */
  largestMicroBatch: number | null;
  /** How a run would choose its micro-batch there, or why it would be refused. */
  note: string;
}

export interface Summary {
  config: Config;
  problems: Problem[];
  shareQuery: string;
  /** Counted from the plan's shapes: a ResNet-1001 answers in milliseconds, nothing is allocated. */
  model: ModelSummary;
  /** The memory plan of one training step, per backend (WebGPU with the spec's default buffer limits). */
  memory: { batch: number; microBatch: Config['microBatch']; backends: Record<MemoryBackend, BackendMemory> };
}

export function summarize(link: string): Summary {
  const { config, problems } = parseQuery(link);
  const backends = Object.fromEntries(
    memorySummary(config).map((s): [MemoryBackend, BackendMemory] => {
      const m = s.microBatch ?? (config.microBatch === 'auto' ? 1 : config.microBatch);
      const b = stepMemory(config, m, s.backend);
      return [
        s.backend,
        {
          budgetBytes: s.budget,
          microBatch: s.microBatch,
          stepBytes: b.peak,
          breakdown: {
            weights: b.weights,
            optimizer: b.optimizer,
            gradients: b.gradients,
            batch: b.batchData,
            activations: b.activations,
            workspace: b.workspace,
            native: b.native,
          },
          largestMicroBatch: s.largestFitting,
          note: s.note,
        },
      ];
    }),
  ) as Record<MemoryBackend, BackendMemory>;
  return {
    config,
    problems,
    shareQuery: toQuery(config),
    model: summarizePlan(planNetwork(config)),
    memory: { batch: config.batch, microBatch: config.microBatch, backends },
  };
}
