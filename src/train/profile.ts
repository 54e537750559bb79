/**
 * Where a training step's time goes: tfjs's own kernel profiler (tf.profile) around one step of the Trainer, after
 * warm-up steps (the first step compiles shaders and grows memory). On CPU-side backends each kernel is timed
 * around its synchronous call; on WebGPU tfjs times kernels with timestamp queries when the adapter offers them,
 * otherwise no kernel has a time and only the step's wall time is known. A diagnostic for `npm run bench --
 * --profile`: it trains a throwaway network, never a user's run.
 */
import * as tf from '@tensorflow/tfjs';
import type { LoadedDataset } from '../data/source';
import type { Config } from '../experiment/schema';
import { Trainer } from './trainer';

/** One kernel (tfjs kernel name, e.g. Conv2D, FusedBatchNorm) over the profiled step. */
export interface KernelTime {
  name: string;
  calls: number;
  /** Summed kernel time; null when the backend gives none (WebGPU without timestamp queries). */
  ms: number | null;
}

export interface StepProfile {
  /** Wall time of the first step (compilation and memory growth included). */
  firstStepMs: number;
  /** Mean wall time of the unprofiled steps after warm-up. */
  stepMs: number;
  /** Wall time of the profiled step (profiling adds a little overhead per kernel). */
  profiledStepMs: number;
  /** Sum of the kernels' times; null without per-kernel times. */
  kernelMs: number | null;
  /** Kernels by total time (by calls when untimed), the costliest first. */
  kernels: KernelTime[];
  /** Most bytes allocated at once in the profiled step, and tensors left over (0: nothing leaks). */
  peakBytes: number;
  newTensors: number;
  /** Why kernels have no time, when they have none. */
  note: string | null;
}

const time = async (f: () => Promise<unknown>) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

/** Trains `warmup` steps, times `steps` more, then profiles one; the network is disposed afterwards. */
export async function profileStep(config: Config, data: LoadedDataset, warmup = 2, steps = 3): Promise<StepProfile> {
  const trainer = new Trainer(config, data);
  try {
    const firstStepMs = await time(() => trainer.step());
    for (let i = 1; i < warmup; i++) await trainer.step();
    let total = 0;
    for (let i = 0; i < steps; i++) total += await time(() => trainer.step());
    const t0 = performance.now();
    const info = await tf.profile(() => trainer.step());
    const profiledStepMs = performance.now() - t0;
    const byName = new Map<string, KernelTime>();
    let note: string | null = null;
    for (const k of info.kernels) {
      const row = byName.get(k.name) ?? { name: k.name, calls: 0, ms: 0 };
      row.calls++;
      const ms = k.kernelTimeMs as number | { error: string };
      if (typeof ms === 'number' && row.ms !== null) row.ms += ms;
      else {
        row.ms = null;
        if (typeof ms !== 'number') note = ms.error;
      }
      byName.set(k.name, row);
    }
    const kernels = [...byName.values()];
    const timed = kernels.every((k) => k.ms !== null);
    kernels.sort((a, b) => (timed ? b.ms! - a.ms! : b.calls - a.calls));
    return {
      firstStepMs,
      stepMs: total / steps,
      profiledStepMs,
      kernelMs: timed ? kernels.reduce((a, k) => a + k.ms!, 0) : null,
      kernels,
      peakBytes: info.peakBytes,
      newTensors: info.newTensors,
      note: timed ? null : note,
    };
  } finally {
    trainer.dispose();
  }
}
