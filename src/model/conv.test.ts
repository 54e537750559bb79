import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv2d, conv2dFilterGrad, conv2dInputGrad, needsForwardOnlyFilterGrad } from './conv';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Case {
  k: number;
  stride: number;
  pad: number;
  size: number;
}

// k=3 pad 1 and k=1 pad 0 (the network's convolutions and projection shortcuts), at stride 1 and 2, on even
// and odd inputs; cin ≠ cout throughout.
const CASES: Case[] = [3, 1]
  .flatMap((k) => [1, 2].flatMap((stride) => [8, 7].map((size) => ({ k, stride, pad: (k - 1) / 2, size }))))
  .concat([
    { k: 3, stride: 2, pad: 0, size: 9 }, // unpadded, input rows beyond the last tap unused
    { k: 3, stride: 1, pad: 2, size: 5 }, // pad wider than (k − 1) / 2
  ]);
const N = 3;
const CIN = 4;
const COUT = 6;
const name = (c: Case) => `k=${c.k} stride ${c.stride} pad ${c.pad}, ${c.size}×${c.size}`;

/** Inputs for one case: x, w, and a random r so that L = Σ conv2d(x, w)·r has ∂L/∂y = r. */
function inputs(c: Case, seed: number) {
  const x = tf.randomNormal([N, c.size, c.size, CIN], 0, 1, 'float32', seed) as tf.Tensor4D;
  const w = tf.randomNormal([c.k, c.k, CIN, COUT], 0, 1, 'float32', seed + 1) as tf.Tensor4D;
  const out = Math.floor((c.size + 2 * c.pad - c.k) / c.stride) + 1;
  const r = tf.randomNormal([N, out, out, COUT], 0, 1, 'float32', seed + 2) as tf.Tensor4D;
  return { x, w, r };
}

/** Values of tensors created on whatever backend, as plain arrays (so they survive a backend switch). */
const values = (ts: tf.Tensor[]) => ts.map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) }));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** tfjs's own autodiff gradients of Σ tf.conv2d(x, w)·r, on the active backend: [dx, dW]. */
function autodiff(x: tf.Tensor4D, w: tf.Tensor4D, r: tf.Tensor4D, c: Case): tf.Tensor[] {
  return tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), r)),
  )([x, w]);
}

/** Asserts fn leaves no tensor behind once its returned tensors are disposed. */
function expectNoLeak(fn: () => tf.Tensor | tf.Tensor[]) {
  const before = tf.memory().numTensors;
  tf.dispose(fn());
  expect(tf.memory().numTensors).toBe(before);
}

describe('conv2dFilterGrad and conv2dInputGrad (cpu)', () => {
  it.each(CASES.map((c) => [name(c), c] as const))('%s: equals tfjs autodiff ∂L/∂W', (_, c) => {
    const { x, w, r } = inputs(c, 11);
    const [dx, dwRef] = autodiff(x, w, r, c);
    const dw = conv2dFilterGrad(x, r, [c.k, c.k, CIN, COUT], c.stride, c.pad);
    expect(dw.shape).toEqual(w.shape);
    expect(maxAbsDiff(dw.dataSync(), dwRef!.dataSync())).toBeLessThan(1e-4);
    tf.dispose([x, w, r, dx!, dwRef!, dw]);
  });

  it.each(CASES.map((c) => [name(c), c] as const))('%s: conv2dInputGrad equals tfjs autodiff ∂L/∂x', (_, c) => {
    const { x, w, r } = inputs(c, 23);
    const [dxRef, dw] = autodiff(x, w, r, c);
    const dx = conv2dInputGrad(r, w, x.shape, c.stride, c.pad);
    expect(dx.shape).toEqual(x.shape);
    expect(maxAbsDiff(dx.dataSync(), dxRef!.dataSync())).toBeLessThan(1e-4);
    tf.dispose([x, w, r, dxRef!, dw!, dx]);
  });

  it('rejects a dy that does not fit the convolution', () => {
    const x = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
    const dy = tf.zeros([2, 8, 8, 5]) as tf.Tensor4D;
    expect(() => conv2dFilterGrad(x, dy, [3, 3, 3, 5], 2, 1)).toThrow(/do not fit/);
    expect(() => conv2dFilterGrad(x, dy, [3, 3, 4, 5], 1, 1)).toThrow(/do not fit/);
    tf.dispose([x, dy]);
  });

  it('leaks no tensor', () => {
    for (const c of CASES) {
      const { x, w, r } = inputs(c, 5);
      expectNoLeak(() => conv2dFilterGrad(x, r, [c.k, c.k, CIN, COUT], c.stride, c.pad));
      expectNoLeak(() => conv2dInputGrad(r, w, x.shape, c.stride, c.pad));
      tf.dispose([x, w, r]);
    }
  });

  it('conv2d is plain tf.conv2d on cpu (its own gradient kernel exists)', () => {
    expect(needsForwardOnlyFilterGrad()).toBe(false);
    const c = CASES[1]!;
    const { x, w, r } = inputs(c, 3);
    const a = conv2d(x, w, c.stride, c.pad);
    const b = tf.conv2d(x, w, c.stride, c.pad);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([x, w, r, a, b]);
  });
});

describe('conv2d on the WASM backend', () => {
  // Reference gradients from the CPU backend's autodiff, computed before switching.
  let reference: { c: Case; x: number[]; w: number[]; r: number[]; dx: number[]; dw: number[] }[] = [];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    reference = CASES.map((c, i) => {
      const { x, w, r } = inputs(c, 100 + 10 * i);
      const [dx, dw] = autodiff(x, w, r, c);
      const [xv, wv, rv, dxv, dwv] = values([x, w, r, dx!, dw!]).map((v) => v.data);
      tf.dispose([x, w, r, dx!, dw!]);
      return { c, x: xv!, w: wv!, r: rv!, dx: dxv!, dw: dwv! };
    });
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('lacks Conv2DBackpropFilter, so plain tf.conv2d cannot train there', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(needsForwardOnlyFilterGrad()).toBe(true);
    const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
    const w = tf.variable(tf.ones([3, 3, 2, 3]), true, 'conv-test/plain-w');
    expect(() => tf.variableGrads(() => tf.sum(tf.conv2d(x, w as tf.Tensor4D, 1, 1)), [w])).toThrow();
    tf.dispose([x, w]);
  });

  it.each(CASES.map((c, i) => [name(c), i] as const))(
    '%s: variableGrads through conv2d match the CPU autodiff (dx and dW)',
    (_, i) => {
      const ref = reference[i]!;
      const { c } = ref;
      const out = Math.floor((c.size + 2 * c.pad - c.k) / c.stride) + 1;
      const x = tf.variable(tf.tensor4d(ref.x, [N, c.size, c.size, CIN]), true, `conv-test/x${i}`);
      const w = tf.variable(tf.tensor4d(ref.w, [c.k, c.k, CIN, COUT]), true, `conv-test/w${i}`);
      const r = tf.tensor4d(ref.r, [N, out, out, COUT]);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad), r)) as tf.Scalar,
        [x, w],
      );
      const dx = grads[x.name]!;
      const dw = grads[w.name]!;
      expect(dx.shape).toEqual(x.shape);
      expect(dw.shape).toEqual(w.shape);
      expect(maxAbsDiff(dx.dataSync(), ref.dx)).toBeLessThan(1e-3);
      expect(maxAbsDiff(dw.dataSync(), ref.dw)).toBeLessThan(1e-3);
      // And the forward value is tf.conv2d's.
      const plain = tf.tidy(() => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad), r)));
      expect(value.dataSync()[0]).toBeCloseTo(plain.dataSync()[0]!, 3);
      tf.dispose([x, w, r, value, dx, dw, plain]);
    },
  );

  it('tf.grad through conv2d on a non-variable input, inside tidy, leaks no tensor', () => {
    const c = CASES[2]!; // k=3 stride 2
    const { x, w, r } = tf.tidy(() => inputs(c, 7));
    const before = tf.memory().numTensors;
    for (let step = 0; step < 3; step++) {
      const grads = tf.tidy(() =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.relu(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad)), r)),
        )([x, w]),
      );
      expect(grads.map((g) => g.shape)).toEqual([x.shape, w.shape]);
      tf.dispose(grads);
      expect(tf.memory().numTensors).toBe(before);
    }
    // Forward only, no tape: nothing saved, nothing left behind.
    expectNoLeak(() => conv2d(x, w, c.stride, c.pad));
    tf.dispose([x, w, r]);
  });

  // Opt-in (CONV_BENCH=1 npx vitest run src/model/conv.test.ts): the CPU backend alone takes ~8 s a step.
  it.runIf(import.meta.env.CONV_BENCH)(
    'timing (printed): forward+backward of a 16→16 3×3 conv, batch 32, 32×32',
    async () => {
      const shapeX: [number, number, number, number] = [32, 32, 32, 16];
      const xv = Array.from(tf.tidy(() => tf.randomNormal(shapeX, 0, 1, 'float32', 1)).dataSync());
      const wv = Array.from(tf.tidy(() => tf.randomNormal([3, 3, 16, 16], 0, 0.1, 'float32', 2)).dataSync());
      const time = (backend: string, reps: number, op: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D) => {
        // x a variable too, so one forward and one backward yield dx and dW, as inside a network.
        const x = tf.variable(tf.tensor4d(xv, shapeX), true, `conv-test/time-x-${backend}`);
        const w = tf.variable(tf.tensor4d(wv, [3, 3, 16, 16]), true, `conv-test/time-w-${backend}`);
        const step = () => {
          const { value, grads } = tf.variableGrads(
            () => tf.sum(op(x as tf.Tensor4D, w as tf.Tensor4D)) as tf.Scalar,
            [x, w],
          );
          grads[x.name]!.dataSync();
          grads[w.name]!.dataSync();
          tf.dispose([value, grads[x.name]!, grads[w.name]!]);
        };
        if (reps > 1) step(); // warm-up
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) step();
        const ms = (performance.now() - t0) / reps;
        tf.dispose([x, w]);
        return ms;
      };
      const wasmMs = time('wasm', 10, (x, w) => conv2d(x, w, 1, 1));
      // The same, but dx from WASM's own Conv2DBackpropInput kernel, for comparison.
      const viaTranspose = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [x, w] = args as [tf.Tensor4D, tf.Tensor4D];
        return {
          value: tf.conv2d(x, w, 1, 1),
          gradFunc: (dy: tf.Tensor) => [
            tf.conv2dTranspose(dy as tf.Tensor4D, w, x.shape, 1, 1),
            conv2dFilterGrad(x, dy as tf.Tensor4D, w.shape, 1, 1),
          ],
        };
      });
      const wasmTransposeMs = time('wasm-t', 10, (x, w) => viaTranspose(x, w) as tf.Tensor4D);
      await tf.setBackend('cpu');
      const cpuMs = time('cpu', 1, (x, w) => tf.conv2d(x, w, 1, 1));
      await tf.setBackend('wasm');
      console.log(
        `conv 16→16 3×3, batch 32, 32×32, forward+backward (dx and dW): ` +
          `wasm conv2d ${wasmMs.toFixed(1)} ms, wasm with dx by conv2dTranspose ${wasmTransposeMs.toFixed(1)} ms, ` +
          `cpu autodiff ${cpuMs.toFixed(1)} ms`,
      );
      expect(wasmMs).toBeGreaterThan(0);
    },
    120_000,
  );
});
