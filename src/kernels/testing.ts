/**
 * The checks of our kernels against tfjs's CPU backend (tests only): the same cases for every backend, run by
 * vitest in Node for WASM (wasm/kernels.test.ts) and in Chromium for WebGPU (e2e/kernels.spec.ts). Each case
 * computes a loss on the CPU backend with tfjs's own ops and autodiff, then the same loss on the backend under test
 * (where tf.conv2d's gradient and BN run our kernels), and compares values and gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormTrainingKernel, hasBatchNormKernels } from './batchNorm';

export interface CheckResult {
  /** Case and quantity, e.g. "conv 3×3 s2 p1 [8,16,16,16]→32: dW". */
  name: string;
  /** max |ours − CPU| / max(|CPU|, 1e-3): relative to the quantity's scale, so large sums are judged fairly. */
  error: number;
  ok: boolean;
}

/** float32 sums of up to ~10^4 terms, in different orders: a relative error far below what a wrong kernel gives. */
export const TOLERANCE = 2e-5;

interface ConvCase {
  n: number;
  size: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
}

/**
 * k=3 pad 1 and k=1 pad 0 (the network's convolutions and projection shortcuts) at stride 1 and 2, on even and
 * odd inputs, channel counts that fill no tile evenly; pads other than (k − 1)/2; and network-sized layers whose
 * filter-gradient reduction (batch × pixels) spans many chunks.
 */
export const CONV_CASES: ConvCase[] = [
  ...[3, 1].flatMap((k) =>
    [1, 2].flatMap((stride) => [8, 7].map((size) => ({ n: 3, size, cin: 4, cout: 6, k, stride, pad: (k - 1) / 2 }))),
  ),
  { n: 3, size: 9, cin: 4, cout: 6, k: 3, stride: 2, pad: 0 },
  { n: 3, size: 5, cin: 4, cout: 6, k: 3, stride: 1, pad: 2 },
  { n: 8, size: 16, cin: 16, cout: 16, k: 3, stride: 1, pad: 1 },
  { n: 8, size: 16, cin: 16, cout: 32, k: 3, stride: 2, pad: 1 },
  { n: 8, size: 16, cin: 16, cout: 32, k: 1, stride: 2, pad: 0 },
  { n: 2, size: 32, cin: 3, cout: 16, k: 3, stride: 1, pad: 1 },
];

/** Shapes [N, H, W, C] of the BN cases: small, odd, and network-sized. */
export const BN_CASES: [number, number, number, number][] = [
  [3, 5, 4, 6],
  [2, 7, 9, 5],
  [8, 16, 16, 16],
  [4, 8, 8, 64],
];

const EPSILON = 1e-5;

type Values = { shape: number[]; data: Float32Array }[];

async function read(ts: tf.Tensor[]): Promise<Values> {
  return Promise.all(ts.map(async (t) => ({ shape: t.shape, data: (await t.data()) as Float32Array })));
}

function compare(name: string, got: Values, want: Values, labels: string[]): CheckResult[] {
  return labels.map((label, i) => {
    const [g, w] = [got[i]!, want[i]!];
    if (g.shape.join() !== w.shape.join())
      return { name: `${name}: ${label} has shape [${g.shape}], expected [${w.shape}]`, error: Infinity, ok: false };
    let diff = 0;
    let scale = 1e-3;
    for (let j = 0; j < w.data.length; j++) {
      diff = Math.max(diff, Math.abs(g.data[j]! - w.data[j]!));
      scale = Math.max(scale, Math.abs(w.data[j]!));
    }
    const error = diff / scale;
    return { name: `${name}: ${label}`, error, ok: error < TOLERANCE };
  });
}

/** Runs `f` on `backend` with the given arrays as its inputs; returns its outputs' values, checking for leaks. */
async function on(
  backend: string,
  inputs: Values,
  f: (...ts: tf.Tensor[]) => tf.Tensor[],
): Promise<{ values: Values; leaked: number }> {
  if (!(await tf.setBackend(backend))) throw new Error(`the ${backend} backend could not start`);
  const ts = inputs.map((v) => tf.tensor(v.data, v.shape));
  const before = tf.memory().numTensors;
  const outs = f(...ts);
  const values = await read(outs);
  tf.dispose(outs);
  const leaked = tf.memory().numTensors - before;
  tf.dispose(ts);
  return { values, leaked };
}

async function randomInputs(shapes: number[][], seed: number): Promise<Values> {
  await tf.setBackend('cpu');
  const ts = shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', seed + i));
  const values = await read(ts);
  tf.dispose(ts);
  return values;
}

function convLoss(c: ConvCase) {
  // L = Σ conv2d(x, w)·r, so ∂L/∂y = r; returns y, ∂L/∂x, ∂L/∂w.
  return (x: tf.Tensor, w: tf.Tensor, r: tf.Tensor) => {
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), r)),
    )([x, w]);
    return [y, ...grads];
  };
}

/** BN of the backend under test: our kernel; on the CPU, tfjs's moments + batchNorm and its autodiff. */
function bnLoss(kernel: boolean) {
  // L = Σ y·r + Σ μ·rMean + Σ var·rVar: the statistics' gradients are checked too.
  const stats = (x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor[] => {
    if (kernel) return batchNormTrainingKernel(x, g, b, EPSILON);
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return [tf.batchNorm(x, mean, variance, b, g, EPSILON), mean, variance];
  };
  return (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, r: tf.Tensor, rMean: tf.Tensor, rVar: tf.Tensor) => {
    const values = stats(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D);
    const grads = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => {
      const [y, mean, variance] = stats(a as tf.Tensor4D, c as tf.Tensor1D, d as tf.Tensor1D);
      return tf.addN([tf.sum(tf.mul(y!, r)), tf.sum(tf.mul(mean!, rMean)), tf.sum(tf.mul(variance!, rVar))]);
    })([x, g, b]);
    return [...values, ...grads];
  };
}

/** Every case on `backend` against the CPU backend; leaves the CPU backend active. */
export async function checkKernels(backend: string): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const leak = (name: string, leaked: number) =>
    results.push({ name: `${name}: tensors left behind (${leaked})`, error: leaked, ok: leaked === 0 });
  for (const [i, c] of CONV_CASES.entries()) {
    const out = Math.floor((c.size + 2 * c.pad - c.k) / c.stride) + 1;
    const name = `conv ${c.k}×${c.k} s${c.stride} p${c.pad} [${c.n},${c.size},${c.size},${c.cin}]→${c.cout}`;
    const inputs = await randomInputs(
      [
        [c.n, c.size, c.size, c.cin],
        [c.k, c.k, c.cin, c.cout],
        [c.n, out, out, c.cout],
      ],
      100 + 10 * i,
    );
    const want = await on('cpu', inputs, convLoss(c));
    const got = await on(backend, inputs, convLoss(c));
    results.push(...compare(name, got.values, want.values, ['y', 'dx', 'dW']));
    leak(name, got.leaked);
  }
  for (const [i, shape] of BN_CASES.entries()) {
    const name = `batch norm [${shape}]`;
    const channels = shape[3];
    const inputs = await randomInputs([shape, [channels], [channels], shape, [channels], [channels]], 500 + 10 * i);
    // x with a mean and scale far from 0 and 1, γ around 1: BN's job.
    inputs[0]!.data.forEach((v, j, a) => (a[j] = 2 * v + 0.7));
    inputs[1]!.data.forEach((v, j, a) => (a[j] = 1 + 0.3 * v));
    const want = await on('cpu', inputs, bnLoss(false));
    await tf.setBackend(backend);
    if (!hasBatchNormKernels()) {
      results.push({ name: `${name}: no BatchNorm kernels registered for ${backend}`, error: Infinity, ok: false });
      continue;
    }
    const got = await on(backend, inputs, bnLoss(true));
    results.push(...compare(name, got.values, want.values, ['y', 'mean', 'variance', 'dx', 'dγ', 'dβ']));
    leak(name, got.leaked);
  }
  await tf.setBackend('cpu');
  return results;
}
