/**
 * Checkpoints of a training run: everything a Trainer needs to continue the same curve (parameters, BN running
 * averages, momentum buffers, iteration, data order position, hand-set learning rates). Augmentation and dropout
 * are seeded by iteration, so they need no state of their own.
 *
 * A Checkpoint holds only plain objects, numbers and Float32Arrays, so it survives structured clone (postMessage,
 * IndexedDB). Tensors are keyed by plan name: tfjs variable names carry a per-build prefix (`netN/`).
 */
import * as tf from '@tensorflow/tfjs';
import type { SamplerState } from '../data/pipeline';
import type { Trainer } from './trainer';
import type { LrOverride } from './schedule';

export interface CheckpointTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint {
  version: 1;
  /** Completed iterations. */
  iter: number;
  epoch: number;
  lrOverrides: LrOverride[];
  sampler: SamplerState;
  /** Every network variable (trainable and BN running averages), by plan name. */
  params: CheckpointTensor[];
  /** The SGD momentum buffers, each named after its parameter's plan name. */
  momentum: CheckpointTensor[];
  /** Date.now() at capture. */
  savedAt: number;
}

/** Named variables of the network and the optimizer, in a fixed order. */
function tensorsOf(t: Trainer): { params: [string, tf.Variable][]; momentum: [string, tf.Variable][] } {
  const buffers = t.momentum;
  const trainable = t.net.trainable;
  if (buffers.length !== trainable.length) {
    throw new Error(`${buffers.length} momentum buffers for ${trainable.length} trainable parameters`);
  }
  return {
    params: [...t.net.variables],
    momentum: trainable.map(({ spec }, i) => [spec.name, buffers[i]!]),
  };
}

/**
 * Snapshots the trainer. Scalars and tensor handles are taken synchronously, so a step that runs while the
 * readbacks are pending does not tear the checkpoint: clones keep the old values when a variable is reassigned.
 * Reads with data(), never dataSync (it stalls WebGPU).
 */
export async function captureCheckpoint(t: Trainer): Promise<Checkpoint> {
  const { params, momentum } = tensorsOf(t);
  const meta = {
    version: 1 as const,
    iter: t.iter,
    epoch: t.epoch,
    lrOverrides: t.lrOverrides.map(({ iter, lr }) => ({ iter, lr })),
    sampler: { ...t.samplerState() },
  };
  const named = [...params, ...momentum];
  const clones = named.map(([, v]) => tf.clone(v));
  try {
    const values = await Promise.all(clones.map((c) => c.data()));
    // A copy: on the CPU backend data() hands out the tensor's own array, and a view may span a larger buffer.
    const tensors = named.map(([name, v], i): CheckpointTensor => ({
      name,
      shape: [...v.shape],
      data: new Float32Array(values[i] as Float32Array),
    }));
    return {
      ...meta,
      params: tensors.slice(0, params.length),
      momentum: tensors.slice(params.length),
      savedAt: Date.now(),
    };
  } finally {
    clones.forEach((c) => c.dispose());
  }
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Pairs each variable with its saved tensor; throws on the first missing, extra or mis-shaped one. */
function match(kind: string, vars: [string, tf.Variable][], saved: readonly CheckpointTensor[]) {
  const byName = new Map<string, CheckpointTensor>();
  for (const s of saved) {
    if (byName.has(s.name)) throw new Error(`checkpoint has ${kind} "${s.name}" twice`);
    byName.set(s.name, s);
  }
  const pairs = vars.map(([name, v]) => {
    const s = byName.get(name);
    if (!s) throw new Error(`checkpoint does not fit this network: ${kind} "${name}" is missing`);
    if (s.shape.length !== v.shape.length || s.shape.some((d, i) => d !== v.shape[i])) {
      throw new Error(
        `checkpoint does not fit this network: ${kind} "${name}" has shape ${shapeText(s.shape)}, the network's is ${shapeText(v.shape)}`,
      );
    }
    if (!(s.data instanceof Float32Array) || s.data.length !== v.size) {
      throw new Error(`checkpoint ${kind} "${name}" holds ${s.data?.length} values, its shape needs ${v.size}`);
    }
    byName.delete(name);
    return { v, s };
  });
  const [extra] = byName.keys();
  if (extra !== undefined) throw new Error(`checkpoint does not fit this network: unexpected ${kind} "${extra}"`);
  return pairs;
}

/**
 * Puts the trainer where the checkpoint was taken; the next step continues the same curve. The trainer must be
 * built from the same config (same network, seed, batch). Everything is checked before anything is assigned, so a
 * refused checkpoint leaves the trainer as it was.
 */
export function restoreCheckpoint(t: Trainer, c: Checkpoint): void {
  if (c.version !== 1) throw new Error(`checkpoint version ${String(c.version)} is not supported (expected 1)`);
  if (!Number.isInteger(c.iter) || c.iter < 0) throw new Error(`checkpoint iteration ${c.iter} is invalid`);
  const { params, momentum } = tensorsOf(t);
  const pairs = [...match('parameter', params, c.params), ...match('momentum buffer', momentum, c.momentum)];
  t.restoreSampler(c.sampler); // validates the state before the variables change
  tf.tidy(() => {
    // A copy: the CPU backend would otherwise keep the checkpoint's own array as the variable's storage.
    for (const { v, s } of pairs) v.assign(tf.tensor(s.data.slice(), s.shape, 'float32'));
  });
  t.iter = c.iter;
  t.lrOverrides.splice(0, t.lrOverrides.length, ...c.lrOverrides.map(({ iter, lr }) => ({ iter, lr })));
}

/** Approximate stored size in bytes: the tensors' values plus the rest as JSON (names, shapes, counters). */
export function checkpointBytes(c: Checkpoint): number {
  const tensors = [...c.params, ...c.momentum];
  const values = tensors.reduce((a, s) => a + s.data.byteLength, 0);
  const strip = (ts: CheckpointTensor[]) => ts.map(({ name, shape }) => ({ name, shape }));
  const rest = JSON.stringify({ ...c, params: strip(c.params), momentum: strip(c.momentum) });
  return values + rest.length;
}
