/**
 * Batch normalisation in training mode, with a gradient that keeps one tensor where tfjs's autodiff keeps six.
 *
 * Why: written as tf.moments + tf.batchNorm, tfjs differentiates BN through every op it is made of. Its tape then
 * keeps x − μ, (x − μ)² and more for the backward pass, and a gradient for each of them until the backward pass
 * ends: measured on WASM, one BN held 6 activation-sized tensors after the forward pass and 15 at the peak of
 * the backward pass, three quarters of a ResNet step's memory (src/model/memory.ts counts it). Here BN is one op
 * (tf.customGrad) that saves only its input x (plus μ and 1/σ per channel) and computes the textbook gradient in
 * one tidy, so its temporaries are freed at once:
 *
 *   x̂ = (x − μ)/σ,  ∂E/∂β = Σ dy,  ∂E/∂γ = Σ dy·x̂,  ∂E/∂x = (γ/σ)·(dy − (∂E/∂β + x̂·∂E/∂γ)/n)
 *
 * with σ = √(var + ε), var the biased batch variance, n = N·H·W the values per channel (sums over N, H, W).
 * The forward values are exactly tf.moments + tf.batchNorm's (the same kernels), so the network's outputs and
 * losses do not change; gradients agree with tfjs's autodiff to float rounding (batchNorm.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormTrainingKernel, hasBatchNormKernels } from '../kernels/batchNorm';

const AXES = [0, 1, 2];

/**
 * BN of x [N, H, W, C] with its own batch statistics; `onStats(mean, variance)` receives them (biased variance)
 * during the forward pass, for the running averages. Differentiable in x, gamma and beta.
 */
export function batchNormTraining(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  onStats: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void,
): tf.Tensor4D {
  // WASM and WebGPU: the same textbook forward and gradient as single kernels (src/kernels/batchNorm.ts), two
  // passes over the activations each way instead of a dozen ops.
  if (hasBatchNormKernels()) {
    const [y, mean, variance] = batchNormTrainingKernel(x, gamma, beta, epsilon);
    onStats(mean, variance);
    return y;
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, g, b, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    // In a tidy: the moments' activation-sized temporaries (x − μ, its square) go at once, not at the end of the
    // forward pass.
    const [mean, variance] = tf.tidy(() => {
      const m = tf.moments(input, AXES);
      return [m.mean as tf.Tensor1D, m.variance as tf.Tensor1D];
    });
    onStats(mean, variance);
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    save([input, mean, invStd, g]);
    return {
      value: tf.batchNorm(input, mean, variance, b, g, epsilon),
      // One tidy: tfjs calls gradFunc outside any per-input scope, so its temporaries would otherwise live until
      // the whole backward pass ends. Written as ∂E/∂x = a·dy + b·x̂ + c (a = γ/σ, b = −a·∂E/∂γ/n,
      // c = −a·∂E/∂β/n, per channel), each activation-sized temporary freed as soon as it is used: at most three
      // are alive at once besides dy and the result.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, mu, inv, gam] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
          const n = sx.shape[0] * sx.shape[1] * sx.shape[2];
          const used = <T extends tf.Tensor>(result: T, ...done: tf.Tensor[]): T => {
            tf.dispose(done);
            return result;
          };
          const centred = tf.sub(sx, mu);
          const xhat = used(tf.mul(centred, inv), centred);
          const dBeta = tf.sum(dy, AXES);
          const dyXhat = tf.mul(dy, xhat);
          const dGamma = used(tf.sum(dyXhat, AXES), dyXhat);
          const a = tf.mul(gam, inv);
          const b = tf.div(tf.mul(a, dGamma), -n);
          const c = tf.div(tf.mul(a, dBeta), -n);
          const bx = used(tf.mul(xhat, b), xhat);
          const ady = tf.mul(dy, a);
          const sum = used(tf.add(bx, ady), bx, ady);
          return [used(tf.add(sum, c), sum), dGamma, dBeta];
        }),
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}
