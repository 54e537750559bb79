import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { batchNormTraining } from './batchNorm';

const EPS = 1e-5;

/** BN as tfjs differentiates it op by op: what batchNormTraining replaces. */
function reference(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, beta, gamma, EPS) as tf.Tensor4D;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(['cpu', 'wasm'])('batchNormTraining on %s', (backend) => {
  it('gives tfjs’s own forward values and, to float rounding, its gradients in x, γ and β', async () => {
    await tf.setBackend(backend);
    tf.tidy(() => {
      const x = tf.add(tf.mul(tf.randomNormal([3, 5, 4, 6], 0, 1, 'float32', 1), 2), 0.7) as tf.Tensor4D;
      const gamma = tf.randomUniform([6], 0.5, 1.5, 'float32', 2) as tf.Tensor1D;
      const beta = tf.randomNormal([6], 0, 1, 'float32', 3) as tf.Tensor1D;
      const r = tf.randomNormal(x.shape, 0, 1, 'float32', 4); // L = Σ BN(x)·r, so ∂L/∂y = r
      const stats: number[][] = [];
      const ours = batchNormTraining(x, gamma, beta, EPS, (m, v) => stats.push([...m.dataSync(), ...v.dataSync()]));
      expect(Array.from(ours.dataSync())).toEqual(Array.from(reference(x, gamma, beta).dataSync()));
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      expect(stats).toEqual([[...mean.dataSync(), ...variance.dataSync()]]);

      const loss = (f: typeof reference) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(f(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D), r));
      const want = tf.grads(loss(reference))([x, gamma, beta]);
      const got = tf.grads(loss((a, g, b) => batchNormTraining(a, g, b, EPS, () => {})))([x, gamma, beta]);
      want.forEach((w, i) => {
        expect(got[i]!.shape).toEqual(w.shape);
        const scale = tf.max(tf.abs(w)).dataSync()[0]!;
        expect(maxAbsDiff(got[i]!, w) / scale).toBeLessThan(1e-5);
      });
      // The gradient in x sums to zero per channel (BN removes the mean): a check of the formula, not of tfjs.
      expect(Math.max(...Array.from(tf.abs(tf.sum(got[0]!, [0, 1, 2])).dataSync()))).toBeLessThan(1e-4);
    });
  });

  it('leaves no tensor behind', async () => {
    await tf.setBackend(backend);
    const x = tf.randomNormal([2, 3, 3, 4]) as tf.Tensor4D;
    const g = tf.ones([4]) as tf.Tensor1D;
    const b = tf.zeros([4]) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    tf.dispose(tf.grads((a: tf.Tensor) => tf.sum(batchNormTraining(a as tf.Tensor4D, g, b, EPS, () => {})))([x]));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, g, b]);
  });
});
