/**
 * Signal propagation at a glance (Sec. 3): how the forward signal x_l and the gradient ∂E/∂x_l change from unit
 * to unit, measured on one batch in one forward and one backward pass.
 *
 * With identity shortcuts, Eqn. (5): ∂E/∂x_l = ∂E/∂x_L (1 + ∂/∂x_l Σ F), so the gradient reaches the first unit
 * without vanishing. With h(x) = λx, Eqn. (8) multiplies that direct term by Π λ (0.5^26 ≈ 1.5e-8 over the 27
 * units of ResNet-56), so the ratio ‖∂E/∂x_first‖ / ‖∂E/∂x_last‖ shows the difference before any training.
 *
 * How ∂E/∂x_l is read for an intermediate x_l: forwardUnits' probe hook turns each unit output into x_l + p_l with
 * p_l = 0; the forward is unchanged and ∂E/∂p_l = ∂E/∂x_l, so one tf.grads over all p_l gives every unit's gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { labelsTensor } from '../data/pipeline';
import type { Network } from './network';
import type { NetworkPlan } from './plan';
import type { SignalProfile } from '../experiment/record';

export type { SignalProfile };

/** Shape of each unit's output for input images of `shape` (convs pad (k − 1)/2, so a stride-s unit gives ⌊(H − 1)/s⌋ + 1). */
function unitShapes(plan: NetworkPlan, shape: [number, number, number, number]): [number, number, number, number][] {
  let [n, h, w] = shape;
  return plan.units.map((u) => {
    h = Math.floor((h - 1) / u.stride) + 1;
    w = Math.floor((w - 1) / u.stride) + 1;
    return [n, h, w, u.cout];
  });
}

/**
 * Forward and backward norms of every residual unit on `images` (normalised NHWC) with `labels`.
 *
 * BN runs in training mode (batch statistics, dropout on with seed 0), as at the first step of training. That
 * mode also updates the BN running averages (network.ts): they are snapshotted before and assigned back after,
 * so the network is left exactly as it was. Reads back asynchronously; leaves no tensors behind.
 *
 * `chunk` < n (a network too large for one pass over all n images; it must divide n) measures in consecutive
 * chunks as training's micro-batches do, BN normalising each chunk on its own. With E the mean loss over all n
 * images, E = (1/k)·Σ_j E_j over the k chunks, so chunk j's part of ∂E/∂x_l is (1/k)·∂E_j/∂x_l, and each norm
 * over the whole batch is the root of the sum of the chunks' squared norms.
 */
export async function signalProfile(
  net: Network,
  images: tf.Tensor4D,
  labels: Int32Array,
  chunk = images.shape[0],
): Promise<SignalProfile> {
  const n = images.shape[0];
  if (labels.length !== n) throw new RangeError(`${labels.length} labels for ${n} images`);
  if (!Number.isInteger(chunk) || chunk < 1 || n % chunk !== 0)
    throw new RangeError(`chunks of ${chunk} do not divide ${n} images`);
  const k = n / chunk;
  const saved = net.plan.params
    .filter((s) => !s.trainable)
    .map((s) => {
      const variable = net.variables.get(s.name)!;
      return { variable, value: tf.clone(variable) };
    });
  // Squared norms summed over chunks, per unit: [forward², backward²].
  let squares: [tf.Tensor1D, tf.Tensor1D] | null = null;
  try {
    for (let j = 0; j < k; j++) {
      const part = tf.tidy(() => {
        const x = k === 1 ? images : tf.slice(images, [j * chunk, 0, 0, 0], [chunk, -1, -1, -1]);
        return normsOf(net, x, labels.subarray(j * chunk, (j + 1) * chunk), k);
      });
      if (squares === null) squares = part;
      else {
        const next = tf.tidy(() => [
          tf.add(squares![0], part[0]) as tf.Tensor1D,
          tf.add(squares![1], part[1]) as tf.Tensor1D,
        ]);
        tf.dispose([...squares, ...part]);
        squares = [next[0]!, next[1]!];
      }
    }
    const [f2, b2] = (await Promise.all(squares!.map((t) => t.data()))) as [Float32Array, Float32Array];
    const units = net.plan.units.map((u, i) => ({
      unit: i + 1,
      stage: u.stage + 1,
      forward: Math.sqrt(f2[i]!),
      backward: Math.sqrt(b2[i]!),
    }));
    return { units, backwardRatio: units[0]!.backward / units.at(-1)!.backward, images: n };
  } finally {
    if (squares) tf.dispose(squares);
    for (const { variable, value } of saved) {
      variable.assign(value);
      value.dispose();
    }
  }
}

/** Squared L2 norms per unit of x_l and of ∂E/∂x_l over one pass of `images`, E its mean loss divided by `parts`. */
function normsOf(net: Network, images: tf.Tensor4D, labels: Int32Array, parts: number): [tf.Tensor1D, tf.Tensor1D] {
  const shapes = unitShapes(net.plan, images.shape);
  const y = labelsTensor(labels, net.plan.classes);
  const probes = shapes.map((s) => tf.zeros(s) as tf.Tensor4D);
  let forward: tf.Tensor1D | undefined;
  const loss = (...p: tf.Tensor[]) => {
    const { logits, unitOutputs } = net.forwardUnits(images, {
      training: true,
      seed: 0,
      probe: (l, x) => {
        if (!tf.util.arraysEqual(x.shape, shapes[l]!))
          throw new Error(`unit ${l + 1} output ${x.shape}, planned ${shapes[l]}`);
        return tf.add(x, p[l]!);
      },
    });
    // tf.grads disposes what its function creates; the forward norms are kept (the caller's tidy frees them).
    forward = tf.keep(tf.stack(unitOutputs.map((u) => tf.sum(tf.square(u)))) as tf.Tensor1D);
    const e = tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
    return parts === 1 ? e : tf.div(e, parts);
  };
  const grads = tf.grads(loss)(probes);
  return [forward!, tf.stack(grads.map((g) => tf.sum(tf.square(g)))) as tf.Tensor1D];
}
