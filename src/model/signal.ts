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
 */
export async function signalProfile(net: Network, images: tf.Tensor4D, labels: Int32Array): Promise<SignalProfile> {
  const n = images.shape[0];
  if (labels.length !== n) throw new RangeError(`${labels.length} labels for ${n} images`);
  const shapes = unitShapes(net.plan, images.shape);
  const saved = net.plan.params
    .filter((s) => !s.trainable)
    .map((s) => {
      const variable = net.variables.get(s.name)!;
      return { variable, value: tf.clone(variable) };
    });
  const kept: { forward?: tf.Tensor1D; backward?: tf.Tensor1D } = {};
  try {
    kept.backward = tf.tidy(() => {
      const y = labelsTensor(labels, net.plan.classes);
      const probes = shapes.map((s) => tf.zeros(s) as tf.Tensor4D);
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
        // tf.grads disposes what its function creates; the forward norms are kept and disposed below.
        kept.forward = tf.keep(tf.stack(unitOutputs.map((u) => tf.norm(u))) as tf.Tensor1D);
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      };
      const grads = tf.grads(loss)(probes);
      return tf.stack(grads.map((g) => tf.norm(g))) as tf.Tensor1D;
    });
    const [forward, backward] = await Promise.all([kept.forward!.data(), kept.backward.data()]);
    const units = net.plan.units.map((u, i) => ({
      unit: i + 1,
      stage: u.stage + 1,
      forward: forward[i]!,
      backward: backward[i]!,
    }));
    return { units, backwardRatio: backward[0]! / backward[units.length - 1]!, images: n };
  } finally {
    kept.forward?.dispose();
    kept.backward?.dispose();
    for (const { variable, value } of saved) {
      variable.assign(value);
      value.dispose();
    }
  }
}
