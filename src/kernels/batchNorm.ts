/**
 * Batch normalisation in training mode as ONE tfjs kernel per direction, for the backends that register them
 * (wasm/, webgpu/): `BatchNormTraining` computes the batch statistics and normalises in two passes over x, and
 * `BatchNormTrainingGrad` computes every gradient in two passes over dy and x, where tfjs would run a dozen
 * activation-sized ops (moments, batchNorm, and their gradients). The op and its gradient are defined here, once;
 * each backend only supplies the two kernels. Other backends (cpu, webgl) use the composition of tfjs ops in
 * src/model/batchNorm.ts, which is also the reference the kernels are tested against.
 *
 * Forward, per channel c over the n = N·H·W values x_i of x [N, H, W, C]:
 *
 *   μ = Σ x_i / n,  var = Σ (x_i − μ)² / n (biased: what BN normalises with),  x̂_i = (x_i − μ)/√(var + ε),
 *   y_i = γ·x̂_i + β;  outputs y, μ and var (the caller keeps the running averages from μ and var).
 *
 * Backward, for upstream gradients dy (of y), dμ and dvar (of the statistics, zero unless something downstream of
 * the loss reads them), with σ = √(var + ε):
 *
 *   ∂E/∂β = Σ dy_i,   ∂E/∂γ = Σ dy_i·x̂_i = (Σ dy_i·x_i − μ·Σ dy_i)/σ,
 *   ∂E/∂x_i = (γ/σ)·(dy_i − ∂E/∂β/n − x̂_i·∂E/∂γ/n) + dμ/n + dvar·2(x_i − μ)/n
 *           = a·dy_i + b·x_i + c   with per-channel a, b, c (gradCoefficients below),
 *
 * so the gradient's second pass is one multiply-add per value.
 */
import * as tf from '@tensorflow/tfjs';

export const BATCH_NORM_TRAINING = 'BatchNormTraining';
export const BATCH_NORM_TRAINING_GRAD = 'BatchNormTrainingGrad';

export interface BatchNormTrainingAttrs {
  epsilon: number;
}

/** Whether the active backend has the two kernels (else src/model/batchNorm.ts composes tfjs ops). */
export function hasBatchNormKernels(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(BATCH_NORM_TRAINING, backend) != null && tf.getKernel(BATCH_NORM_TRAINING_GRAD, backend) != null;
}

/** y, batch mean and biased batch variance of x [N, H, W, C]; differentiable in x, gamma and beta. */
export function batchNormTrainingKernel(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  const attrs: BatchNormTrainingAttrs = { epsilon };
  return tf.engine().runKernel(BATCH_NORM_TRAINING, { x, gamma, beta }, attrs as unknown as tf.NamedAttrMap) as [
    tf.Tensor4D,
    tf.Tensor1D,
    tf.Tensor1D,
  ];
}

/**
 * Per channel: the statistics' σ and the coefficients of ∂E/∂x = a·dy + b·x + c, from the sums Σdy and Σdy·x
 * (in float64: n can be 10^5 and more). Shared by every backend's gradient kernel that sums on the CPU side.
 */
export function gradCoefficients(
  n: number,
  sumDy: number,
  sumDyX: number,
  mean: number,
  variance: number,
  gamma: number,
  dMean: number,
  dVar: number,
  epsilon: number,
): { a: number; b: number; c: number; dGamma: number; dBeta: number } {
  const invStd = 1 / Math.sqrt(variance + epsilon);
  const dBeta = sumDy;
  const dGamma = (sumDyX - mean * sumDy) * invStd;
  const a = gamma * invStd;
  // a·(dy − dBeta/n − (x − μ)·invStd·dGamma/n) + dμ/n + 2·dvar·(x − μ)/n
  const b = (-a * invStd * dGamma + 2 * dVar) / n;
  const c = (-a * dBeta + dMean) / n - b * mean;
  return { a, b, c, dGamma, dBeta };
}

tf.registerGradient({
  kernelName: BATCH_NORM_TRAINING,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVar] = dys as tf.Tensor[];
    const [x, gamma, mean, variance] = saved;
    const [dx, dGamma, dBeta] = tf
      .engine()
      .runKernel(
        BATCH_NORM_TRAINING_GRAD,
        { dy: dy!, x: x!, gamma: gamma!, mean: mean!, variance: variance!, dMean: dMean!, dVar: dVar! },
        attrs,
      ) as tf.Tensor[];
    return { x: () => dx!, gamma: () => dGamma!, beta: () => dBeta! };
  },
});
