/**
 * BatchNormTraining and BatchNormTrainingGrad (../batchNorm.ts) for WebGPU. Each direction reads the activations
 * twice: once for per-channel sums, split into slices of pixels so that hundreds of workgroups share the work
 * (each adds 16 channels over its slice, 16 pixels at a time, then across its threads in workgroup memory), and
 * once for the elementwise result; between them, one thread per channel adds the slices' sums.
 *
 * The forward sums are of x − k and (x − k)², with k the channel's first value: the variance is then the
 * difference of two sums that no longer grow with the mean, so float32 keeps it exact to a few ulps whatever
 * the activations' offset. The backward sums are of dy and dy·(x − μ), μ being known by then.
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, type BatchNormTrainingAttrs } from '../batchNorm';
import { free, runProgram, sliceLength, WORKGROUP, type WebGPUBackend } from './program';

const LANES = 16; // channels per workgroup; 16 pixels at a time

/** Per-slice, per-channel sums [slices, 2, C] of two quantities of each value, given as WGSL over index i, channel c. */
function channelSums(
  backend: WebGPUBackend,
  key: string,
  inputs: Record<string, tf.TensorInfo>,
  first: string,
  second: string,
  pixels: number,
  channels: number,
): { partials: tf.TensorInfo; slices: number } {
  const groups = Math.ceil(channels / LANES);
  const slice = sliceLength(pixels, groups, LANES, 512);
  const slices = Math.ceil(pixels / slice);
  const partials = runProgram(
    backend,
    {
      key: `identityMappings.bnSums.${key}`,
      inputs: Object.keys(inputs),
      outputShape: [slices, 2, channels],
      workgroups: groups * slices,
      uniforms: { P: pixels, C: channels, slice, slices, steps: slice / LANES },
      shared: `
        var<workgroup> sum0 : array<f32, ${WORKGROUP}>;
        var<workgroup> sum1 : array<f32, ${WORKGROUP}>;`,
      body: `
        let groups = (uniforms.C + ${LANES - 1}) / ${LANES};
        let c = (wg % groups) * ${LANES} + lid % ${LANES};
        let s = wg / groups;
        let row = lid / ${LANES};
        let cc = min(c, uniforms.C - 1);
        var s0 = 0.0;
        var s1 = 0.0;
        for (var st = 0; st < uniforms.steps; st = st + 1) {
          let p = s * uniforms.slice + st * ${LANES} + row;
          if (c < uniforms.C && p < min(uniforms.P, (s + 1) * uniforms.slice)) {
            let i = p * uniforms.C + cc;
            s0 = s0 + ${first};
            s1 = s1 + ${second};
          }
        }
        sum0[lid] = s0;
        sum1[lid] = s1;
        workgroupBarrier();
        for (var width = ${WORKGROUP / LANES / 2}; width > 0; width = width / 2) {
          if (row < width) {
            sum0[lid] = sum0[lid] + sum0[lid + width * ${LANES}];
            sum1[lid] = sum1[lid] + sum1[lid + width * ${LANES}];
          }
          workgroupBarrier();
        }
        if (row == 0 && c < uniforms.C && s < uniforms.slices) {
          result[(s * 2) * uniforms.C + c] = sum0[lid];
          result[(s * 2 + 1) * uniforms.C + c] = sum1[lid];
        }`,
    },
    Object.values(inputs),
  );
  return { partials, slices };
}

/** One value per channel from the slices' sums (`sums` = WGSL over s0, s1: the totals), one thread per channel. */
function perChannel(
  backend: WebGPUBackend,
  key: string,
  inputs: Record<string, tf.TensorInfo>,
  shape: number[],
  channels: number,
  slices: number,
  pixels: number,
  body: string,
): tf.TensorInfo {
  return runProgram(
    backend,
    {
      key: `identityMappings.bnPerChannel.${key}`,
      inputs: Object.keys(inputs),
      outputShape: shape,
      workgroups: Math.ceil(channels / WORKGROUP),
      uniforms: { C: channels, slices, P: pixels },
      body: `
        let c = index;
        if (c < uniforms.C) {
          var s0 = 0.0;
          var s1 = 0.0;
          for (var s = 0; s < uniforms.slices; s = s + 1) {
            s0 = s0 + partials[(s * 2) * uniforms.C + c];
            s1 = s1 + partials[(s * 2 + 1) * uniforms.C + c];
          }
          let n = f32(uniforms.P);
          ${body}
        }`,
    },
    Object.values(inputs),
  );
}

/** An elementwise program over x's shape: `value` is WGSL over i (flat index) and c (its channel). */
function elementwise(
  backend: WebGPUBackend,
  key: string,
  inputs: Record<string, tf.TensorInfo>,
  shape: number[],
  value: string,
): tf.TensorInfo {
  const size = shape.reduce((a, b) => a * b, 1);
  return runProgram(
    backend,
    {
      key: `identityMappings.bnElementwise.${key}`,
      inputs: Object.keys(inputs),
      outputShape: shape,
      workgroups: Math.ceil(size / WORKGROUP),
      uniforms: { size, C: shape.at(-1)! },
      body: `
        let i = index;
        if (i < uniforms.size) {
          let c = i % uniforms.C;
          result[i] = ${value};
        }`,
    },
    Object.values(inputs),
  );
}

function forward({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const be = backend as WebGPUBackend;
  const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const { epsilon } = attrs as unknown as BatchNormTrainingAttrs;
  const channels = x.shape.at(-1)!;
  const pixels = x.shape.reduce((a, b) => a * b, 1) / channels;
  // k = x[c], the channel's first value (see the header).
  const { partials, slices } = channelSums(
    be,
    'shifted',
    { x },
    'x[i] - x[cc]',
    '(x[i] - x[cc]) * (x[i] - x[cc])',
    pixels,
    channels,
  );
  const stat = (which: 'mean' | 'variance') =>
    perChannel(
      be,
      which,
      which === 'mean' ? { partials, x } : { partials },
      [channels],
      channels,
      slices,
      pixels,
      which === 'mean' ? 'result[c] = x[c] + s0 / n;' : 'result[c] = max(s1 / n - (s0 / n) * (s0 / n), 0.0);',
    );
  const mean = stat('mean');
  const variance = stat('variance');
  free(be, partials);
  const y = elementwise(
    be,
    `normalise.${epsilon}`,
    { x, mean, variance, gamma, beta },
    x.shape,
    `(x[i] - mean[c]) * inverseSqrt(variance[c] + ${epsilon.toExponential()}) * gamma[c] + beta[c]`,
  );
  return [y, mean, variance];
}

function gradient({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const be = backend as WebGPUBackend;
  const { dy, x, gamma, mean, variance, dMean, dVar } = inputs as Record<string, tf.TensorInfo>;
  const { epsilon } = attrs as unknown as BatchNormTrainingAttrs;
  const channels = x!.shape.at(-1)!;
  const pixels = x!.shape.reduce((a, b) => a * b, 1) / channels;
  const { partials, slices } = channelSums(
    be,
    'grad',
    { dy: dy!, x: x!, mean: mean! },
    'dy[i]',
    'dy[i] * (x[i] - mean[cc])',
    pixels,
    channels,
  );
  const eps = epsilon.toExponential();
  // s0 = Σdy = ∂E/∂β, s1·(1/σ) = ∂E/∂γ; ∂E/∂x = a·dy + b·(x − μ) + c per channel (../batchNorm.ts).
  const dGamma = perChannel(
    be,
    `dGamma.${eps}`,
    { partials, variance: variance! },
    [channels],
    channels,
    slices,
    pixels,
    `result[c] = s1 * inverseSqrt(variance[c] + ${eps});`,
  );
  const dBeta = perChannel(be, 'dBeta', { partials }, [channels], channels, slices, pixels, 'result[c] = s0;');
  const coefficients = perChannel(
    be,
    `coefficients.${eps}`,
    { partials, variance: variance!, gamma: gamma!, dMean: dMean!, dVar: dVar! },
    [3, channels],
    channels,
    slices,
    pixels,
    `let invStd = inverseSqrt(variance[c] + ${eps});
     let a = gamma[c] * invStd;
     let b = (-a * invStd * s1 * invStd + 2.0 * dVar[c]) / n;
     result[c] = a;
     result[uniforms.C + c] = b;
     result[2 * uniforms.C + c] = (-a * s0 + dMean[c]) / n;`,
  );
  free(be, partials);
  const dx = elementwise(
    be,
    'dx',
    { dy: dy!, x: x!, mean: mean!, coefficients },
    x!.shape,
    `coefficients[c] * dy[i] + coefficients[uniforms.C + c] * (x[i] - mean[c]) + coefficients[2 * uniforms.C + c]`,
  );
  free(be, coefficients);
  return [dx, dGamma, dBeta];
}

export const webgpuBatchNormKernels: tf.KernelConfig[] = [
  { kernelName: BATCH_NORM_TRAINING, backendName: 'webgpu', kernelFunc: forward as tf.KernelFunc },
  { kernelName: BATCH_NORM_TRAINING_GRAD, backendName: 'webgpu', kernelFunc: gradient as tf.KernelFunc },
];
