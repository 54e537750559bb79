/**
 * BatchNormTraining and BatchNormTrainingGrad (../batchNorm.ts) for WASM: two passes over the activations each
 * way, per-channel sums in float64. Layout NHWC, so the channel is the fastest-moving index.
 */
import * as tf from '@tensorflow/tfjs';
import {
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  gradCoefficients,
  type BatchNormTrainingAttrs,
} from '../batchNorm';
import { output, view, type BackendWasm } from './heap';

function forward({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const be = backend as BackendWasm;
  const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const { epsilon } = attrs as unknown as BatchNormTrainingAttrs;
  const channels = x.shape.at(-1)!;
  const y = output(be, x.shape);
  const meanOut = output(be, [channels]);
  const varOut = output(be, [channels]);
  const [xs, ys, g, b, m, v] = [x, y, gamma, beta, meanOut, varOut].map((t) => view(be, t)) as Float32Array[];
  const n = xs!.length / channels;
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  for (let i = 0; i < xs!.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const value = xs![i + c]!;
      sum[c]! += value;
      sumSq[c]! += value * value;
    }
  }
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const mean = sum[c]! / n;
    const variance = Math.max(sumSq[c]! / n - mean * mean, 0);
    m![c] = mean;
    v![c] = variance;
    scale[c] = g![c]! / Math.sqrt(variance + epsilon);
    shift[c] = b![c]! - mean * scale[c]!;
  }
  for (let i = 0; i < xs!.length; i += channels) {
    for (let c = 0; c < channels; c++) ys![i + c] = xs![i + c]! * scale[c]! + shift[c]!;
  }
  return [y, meanOut, varOut];
}

function gradient({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const be = backend as BackendWasm;
  const { dy, x, gamma, mean, variance, dMean, dVar } = inputs as Record<string, tf.TensorInfo>;
  const { epsilon } = attrs as unknown as BatchNormTrainingAttrs;
  const channels = x!.shape.at(-1)!;
  const dx = output(be, x!.shape);
  const dGammaOut = output(be, [channels]);
  const dBetaOut = output(be, [channels]);
  const [dys, xs, g, m, v, dm, dv, dxs, dg, db] = [
    dy,
    x,
    gamma,
    mean,
    variance,
    dMean,
    dVar,
    dx,
    dGammaOut,
    dBetaOut,
  ].map((t) => view(be, t!)) as Float32Array[];
  const n = xs!.length / channels;
  const sumDy = new Float64Array(channels);
  const sumDyX = new Float64Array(channels);
  for (let i = 0; i < xs!.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const d = dys![i + c]!;
      sumDy[c]! += d;
      sumDyX[c]! += d * xs![i + c]!;
    }
  }
  const a = new Float32Array(channels);
  const b = new Float32Array(channels);
  const k = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const r = gradCoefficients(n, sumDy[c]!, sumDyX[c]!, m![c]!, v![c]!, g![c]!, dm![c]!, dv![c]!, epsilon);
    [a[c], b[c], k[c], dg![c], db![c]] = [r.a, r.b, r.c, r.dGamma, r.dBeta];
  }
  for (let i = 0; i < xs!.length; i += channels) {
    for (let c = 0; c < channels; c++) dxs![i + c] = a[c]! * dys![i + c]! + b[c]! * xs![i + c]! + k[c]!;
  }
  return [dx, dGammaOut, dBetaOut];
}

export const wasmBatchNormKernels: tf.KernelConfig[] = [
  { kernelName: BATCH_NORM_TRAINING, backendName: 'wasm', kernelFunc: forward as tf.KernelFunc },
  { kernelName: BATCH_NORM_TRAINING_GRAD, backendName: 'wasm', kernelFunc: gradient as tf.KernelFunc },
];
