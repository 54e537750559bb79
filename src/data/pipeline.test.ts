import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CIFAR100_LAYOUT,
  CIFAR10_LAYOUT,
  PAPER_NORMALIZATION,
  PIXEL_BYTES,
  pixelOf,
  recordSet,
  type ChannelStats,
  type RecordLayout,
  type RecordSet,
} from './format';
import {
  EpochSampler,
  PAD,
  augment,
  augmentWith,
  drawAugmentation,
  gatherBatch,
  labelsTensor,
  rangeIndices,
  testBatches,
  toNormalizedImages,
  type CropFlip,
} from './pipeline';
import { createRng } from './rng';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Known byte for pixel (c, y, x) of record i. */
const pv = (i: number, c: number, y: number, x: number) => (i * 37 + c * 85 + y * 7 + x * 3) % 256;

/** A RecordSet of `count` records; label of record i is (i * 3) % classes, CIFAR-100's coarse byte is 200 + i. */
function makeSet(layout: RecordLayout, count: number): RecordSet {
  const bytes = new Uint8Array(count * layout.recordBytes);
  for (let i = 0; i < count; i++) {
    const base = i * layout.recordBytes;
    if (layout.labelOffset === 1) bytes[base] = (200 + i) % 256;
    bytes[base + layout.labelOffset] = (i * 3) % layout.classes;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) bytes[base + layout.pixelOffset + c * 1024 + y * 32 + x] = pv(i, c, y, x);
  }
  return recordSet(layout, bytes);
}

/** Asserts fn leaves no tensor behind once its returned tensors are disposed. */
function expectNoLeak(fn: () => tf.Tensor | tf.Tensor[]) {
  const before = tf.memory().numTensors;
  const out = fn();
  tf.dispose(out);
  expect(tf.memory().numTensors).toBe(before);
}

const sorted = (a: ArrayLike<number>) => Array.from(a).sort((x, y) => x - y);
const iota = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Pulls `batches` batches and returns all indices in order. */
function pull(sampler: EpochSampler, available: number, batchSize: number, batches: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < batches; b++) out.push(...sampler.nextBatch(available, batchSize));
  return out;
}

describe('EpochSampler', () => {
  it('covers every index exactly once per epoch, also when batches span epoch boundaries', () => {
    for (const batch of [5, 3, 7, 10, 25]) {
      const s = new EpochSampler(1);
      const all = pull(s, 10, batch, Math.ceil(40 / batch));
      for (let e = 0; e < 4; e++) expect(sorted(all.slice(e * 10, e * 10 + 10)), `batch ${batch}`).toEqual(iota(10));
    }
  });

  it('reshuffles differently every epoch', () => {
    const all = pull(new EpochSampler(1), 50, 50, 4);
    const epochs = [0, 1, 2, 3].map((e) => all.slice(e * 50, e * 50 + 50).join(','));
    expect(new Set(epochs).size).toBe(4);
    expect(epochs[0]).not.toBe(iota(50).join(','));
  });

  it('is deterministic per seed and differs for another', () => {
    expect(pull(new EpochSampler(7), 40, 16, 6)).toEqual(pull(new EpochSampler(7), 40, 16, 6));
    expect(pull(new EpochSampler(7), 40, 16, 6)).not.toEqual(pull(new EpochSampler(8), 40, 16, 6));
  });

  it("an epoch's order depends on seed and epoch only, not on the batch sizes used", () => {
    expect(pull(new EpochSampler(3), 30, 10, 6)).toEqual(pull(new EpochSampler(3), 30, 6, 10));
  });

  it('honours limit: only the first `limit` records, each once per epoch', () => {
    const s = new EpochSampler(2, 7);
    const all = pull(s, 20, 7, 3);
    for (let e = 0; e < 3; e++) expect(sorted(all.slice(e * 7, e * 7 + 7))).toEqual(iota(7));
    expect(s.epochSize).toBe(7);
    // limit above what is available: all available records
    const t = new EpochSampler(2, 100);
    expect(sorted(t.nextBatch(12, 12))).toEqual(iota(12));
    // 0 means no limit
    expect(sorted(new EpochSampler(2, 0).nextBatch(12, 12))).toEqual(iota(12));
  });

  it('picks up newly available records at the next epoch, not mid-epoch', () => {
    const s = new EpochSampler(4);
    const first = [...s.nextBatch(10, 4), ...s.nextBatch(20, 4)];
    expect(first.every((i) => i < 10)).toBe(true);
    expect(s.epochSize).toBe(10);
    // 2 left in epoch 0, then 2 from epoch 1 over all 20 records
    const spanning = Array.from(s.nextBatch(20, 4));
    expect(sorted([...first, ...spanning.slice(0, 2)])).toEqual(iota(10));
    expect(s.epochSize).toBe(20);
    const epoch1 = [...spanning.slice(2), ...s.nextBatch(20, 18)];
    expect(sorted(epoch1)).toEqual(iota(20));
    expect(s.epoch).toBe(2);
  });

  it('reports epochs as a float', () => {
    const s = new EpochSampler(1);
    expect(s.epoch).toBe(0);
    s.nextBatch(10, 5);
    expect(s.epoch).toBe(0.5);
    s.nextBatch(10, 5);
    expect(s.epoch).toBe(1);
    s.nextBatch(10, 5);
    expect(s.epoch).toBe(1.5);
    const t = new EpochSampler(1);
    t.nextBatch(10, 4);
    expect(t.epoch).toBeCloseTo(0.4, 12);
    t.nextBatch(10, 4);
    t.nextBatch(10, 4);
    expect(t.epoch).toBeCloseTo(1.2, 12);
    t.nextBatch(10, 25); // runs through epoch 2 into epoch 3
    expect(t.epoch).toBeCloseTo(3.7, 12);
  });

  it('rejects no records, a shrinking record count and a bad batch size', () => {
    expect(() => new EpochSampler(1).nextBatch(0, 4)).toThrow(RangeError);
    const s = new EpochSampler(1);
    s.nextBatch(10, 4);
    expect(() => s.nextBatch(9, 4)).toThrow(RangeError);
    expect(() => s.nextBatch(10, 0)).toThrow(RangeError);
  });
});

describe('gatherBatch', () => {
  it.each([
    ['CIFAR-10', CIFAR10_LAYOUT],
    ['CIFAR-100', CIFAR100_LAYOUT],
  ] as const)('%s: copies the chosen records and their training labels', (_, layout) => {
    const set = makeSet(layout, 6);
    const indices = [4, 0, 5, 4];
    const { pixels, labels } = gatherBatch(set, indices);
    expect(pixels.length).toBe(4 * PIXEL_BYTES);
    // fine label, not CIFAR-100's coarse byte (200 + i)
    expect(Array.from(labels)).toEqual(indices.map((i) => (i * 3) % layout.classes));
    indices.forEach((i, k) => {
      for (const [c, y, x] of [
        [0, 0, 0],
        [1, 5, 17],
        [2, 31, 31],
        [2, 0, 31],
      ] as const) {
        expect(pixels[k * PIXEL_BYTES + c * 1024 + y * 32 + x]).toBe(pixelOf(set, i, c, y, x));
        expect(pixelOf(set, i, c, y, x)).toBe(pv(i, c, y, x));
      }
      const record = set.bytes.subarray(i * layout.recordBytes + layout.pixelOffset, (i + 1) * layout.recordBytes);
      expect(pixels.subarray(k * PIXEL_BYTES, (k + 1) * PIXEL_BYTES)).toEqual(record);
    });
  });

  it('accepts a Uint32Array from the sampler and rejects an out-of-range index', () => {
    const set = makeSet(CIFAR10_LAYOUT, 3);
    expect(Array.from(gatherBatch(set, Uint32Array.of(2, 1)).labels)).toEqual([6, 3]);
    expect(gatherBatch(set, []).pixels.length).toBe(0);
    expect(() => gatherBatch(set, [3])).toThrow(RangeError);
  });
});

describe('toNormalizedImages', () => {
  // Powers of two as std so the expected values are exact in float32.
  const norm: ChannelStats = { mean: [10, 20, 30], std: [2, 4, 8] };

  it('puts planar pixel (c, y, x) at [y, x, c] and normalises per channel', () => {
    const set = makeSet(CIFAR10_LAYOUT, 3);
    const { pixels } = gatherBatch(set, [2, 0]);
    const t = toNormalizedImages(pixels, 2, norm);
    expect(t.shape).toEqual([2, 32, 32, 3]);
    expect(t.dtype).toBe('float32');
    const a = t.arraySync();
    t.dispose();
    [2, 0].forEach((i, k) => {
      for (let c = 0; c < 3; c++)
        for (const [y, x] of [
          [0, 0],
          [0, 1],
          [1, 0],
          [13, 29],
          [31, 31],
        ] as const) {
          expect(a[k]![y]![x]![c]).toBe((pv(i, c, y, x) - norm.mean[c]!) / norm.std[c]!);
        }
    });
    // record 0, pixel (0,0): bytes 0, 85, 170 → (0−10)/2, (85−20)/4, (170−30)/8
    expect(a[1]![0]![0]).toEqual([-5, 16.25, 17.5]);
  });

  it("matches the paper's normalisation on every pixel", () => {
    const set = makeSet(CIFAR100_LAYOUT, 1);
    const { pixels } = gatherBatch(set, [0]);
    const stats = PAPER_NORMALIZATION.cifar100;
    const t = toNormalizedImages(pixels, 1, stats);
    const v = t.dataSync();
    t.dispose();
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++)
        for (let c = 0; c < 3; c++) {
          const want = (pv(0, c, y, x) - stats.mean[c]!) / stats.std[c]!;
          expect(Math.abs(v[(y * 32 + x) * 3 + c]! - want)).toBeLessThan(1e-5);
        }
  });

  it('leaks no tensors', () => {
    const { pixels } = gatherBatch(makeSet(CIFAR10_LAYOUT, 2), [0, 1]);
    expectNoLeak(() => toNormalizedImages(pixels, 2, norm));
  });
});

describe('augmentation', () => {
  const N = 3;
  let images: tf.Tensor4D;
  let orig: number[][][][];
  beforeAll(() => {
    // Values well away from 0 so zero padding is distinguishable from content.
    images = tf.tidy(() => tf.randomUniform([N, 32, 32, 3], 1, 2, 'float32', 11)) as tf.Tensor4D;
    orig = images.arraySync();
  });

  /** Plain-JS reference: pixel (y, x) of the crop at (oy, ox) of the zero-padded image, mirrored if flip. */
  function reference(img: number[][][], { oy, ox, flip }: CropFlip): number[][][] {
    const at = (Y: number, X: number) => img[Y - PAD]?.[X - PAD] ?? [0, 0, 0];
    return iota(32).map((y) => iota(32).map((x) => at(oy + y, flip ? ox + 31 - x : ox + x)));
  }
  const run = (draws: CropFlip[], input: tf.Tensor4D = images) => {
    const t = augmentWith(input, draws);
    const a = t.arraySync();
    t.dispose();
    return a;
  };

  it('offset (4, 4) without flip returns the original exactly', () => {
    const d = { oy: 4, ox: 4, flip: false };
    expect(run([d, d, d])).toEqual(orig);
  });

  it('offset (0, 0) shifts the content by +4 px and fills the border with zeros', () => {
    const d = { oy: 0, ox: 0, flip: false };
    const a = run([d, d, d]);
    for (let k = 0; k < N; k++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) {
          const want = y < 4 || x < 4 ? [0, 0, 0] : orig[k]![y - 4]![x - 4];
          expect(a[k]![y]![x]).toEqual(want);
        }
  });

  it('offset (8, 8) shifts the content by −4 px with zeros on the far side', () => {
    const d = { oy: 8, ox: 8, flip: false };
    const a = run([d, d, d])[0]!;
    expect(a[0]![0]).toEqual(orig[0]![4]![4]);
    expect(a[27]![27]).toEqual(orig[0]![31]![31]);
    expect(a[28]![0]).toEqual([0, 0, 0]);
    expect(a[0]![28]).toEqual([0, 0, 0]);
  });

  it('flip mirrors the columns', () => {
    const d = { oy: 4, ox: 4, flip: true };
    const a = run([d, d, d]);
    for (let k = 0; k < N; k++)
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) expect(a[k]![y]![x]).toEqual(orig[k]![y]![31 - x]);
  });

  /** Every offset and flip, one image each (cycling through the N sources), against the reference. */
  function expectAllDrawsExact() {
    const draws: CropFlip[] = [];
    for (let oy = 0; oy <= 2 * PAD; oy++)
      for (let ox = 0; ox <= 2 * PAD; ox++) for (const flip of [false, true]) draws.push({ oy, ox, flip });
    const sources = draws.map((_, i) => i % N);
    const input = tf.tidy(() => tf.gather(images, sources)) as tf.Tensor4D;
    const a = run(draws, input);
    input.dispose();
    draws.forEach((d, i) => expect(a[i], JSON.stringify(d)).toEqual(reference(orig[i % N]!, d)));
  }

  it('every offset and flip copies exact pixels (no interpolation blur), per image', expectAllDrawsExact);

  // The WASM backend has its own cropAndResize (with a fast path that ignores x1), and the app trains on it too.
  describe('on the WASM backend', () => {
    beforeAll(async () => {
      await tf.setBackend('wasm');
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });

    it('every offset and flip copies exact pixels', () => {
      expect(tf.getBackend()).toBe('wasm');
      expectAllDrawsExact();
    });
  });

  it('augment preserves the shape and draws offsets in 0..8 and flips with probability ½', () => {
    const t = augment(images, createRng(1));
    expect(t.shape).toEqual([N, 32, 32, 3]);
    t.dispose();
    const draws = drawAugmentation(4000, createRng(2));
    const offsets = new Set(draws.flatMap((d) => [d.oy, d.ox]));
    expect(sorted([...offsets])).toEqual(iota(9));
    const flips = draws.filter((d) => d.flip).length;
    expect(Math.abs(flips - 2000)).toBeLessThan(150);
  });

  it('augment is deterministic for the same seed and differs for another', () => {
    const out = (seed: number) => {
      const t = augment(images, createRng(seed));
      const a = t.arraySync();
      t.dispose();
      return a;
    };
    expect(out(5)).toEqual(out(5));
    expect(out(5)).not.toEqual(out(6));
    // augment = augmentWith(the draws taken from the same rng)
    expect(out(5)).toEqual(run(drawAugmentation(N, createRng(5))));
  });

  it('rejects bad draws', () => {
    expect(() => augmentWith(images, [{ oy: 0, ox: 0, flip: false }])).toThrow(RangeError);
    const bad = { oy: 9, ox: 0, flip: false };
    expect(() => augmentWith(images, [bad, bad, bad])).toThrow(RangeError);
  });

  it('leaks no tensors', () => {
    expectNoLeak(() => augment(images, createRng(3)));
    expectNoLeak(() => augmentWith(images, drawAugmentation(N, createRng(3))));
  });
});

describe('labelsTensor', () => {
  it('is one-hot float32 [n, classes]', () => {
    const t = labelsTensor(Int32Array.of(2, 0, 9), 10);
    expect(t.shape).toEqual([3, 10]);
    expect(t.dtype).toBe('float32');
    const a = t.arraySync();
    t.dispose();
    expect(a[0]).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(a[1]![0]).toBe(1);
    expect(a[2]![9]).toBe(1);
    expect(a.flat().reduce((s, v) => s + v, 0)).toBe(3);
  });

  it('leaks no tensors', () => {
    expectNoLeak(() => labelsTensor(Int32Array.of(1, 99), 100));
  });
});

describe('testBatches', () => {
  it('walks the records in order in batches, the last one short', () => {
    const set = makeSet(CIFAR10_LAYOUT, 10);
    expect([...testBatches(set, 4)]).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 8 },
      { start: 8, end: 10 },
    ]);
    expect([...testBatches(set, 10)]).toEqual([{ start: 0, end: 10 }]);
  });

  it('honours limit (0 or undefined: all records)', () => {
    const set = makeSet(CIFAR10_LAYOUT, 10);
    expect([...testBatches(set, 4, 6)]).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 6 },
    ]);
    expect([...testBatches(set, 4, 0)].at(-1)).toEqual({ start: 8, end: 10 });
    expect([...testBatches(set, 4, 50)].at(-1)).toEqual({ start: 8, end: 10 });
  });

  it('ranges gather to the same records as explicit indices', () => {
    const set = makeSet(CIFAR100_LAYOUT, 5);
    const ranges = [...testBatches(set, 2)];
    const labels = ranges.flatMap(({ start, end }) => Array.from(gatherBatch(set, rangeIndices(start, end)).labels));
    expect(labels).toEqual(iota(5).map((i) => (i * 3) % 100));
    expect(Array.from(rangeIndices(3, 6))).toEqual([3, 4, 5]);
  });
});

describe('EpochSampler state and restore', () => {
  /** A sampler restored from `s`'s state, and both samplers' next batches. */
  function resumed(s: EpochSampler, available: number, batch: number, batches: number) {
    const r = new EpochSampler(s.seed, s.limit);
    r.restore(structuredClone(s.state()));
    expect(r.state()).toEqual(s.state());
    expect(r.epoch).toBe(s.epoch);
    return { original: pull(s, available, batch, batches), restored: pull(r, available, batch, batches) };
  }

  it('continues with the same batches, from before the first batch', () => {
    const s = new EpochSampler(5);
    expect(s.state()).toEqual({ completed: 0, pos: 0, size: 0 });
    const { original, restored } = resumed(s, 10, 4, 6);
    expect(restored).toEqual(original);
  });

  it('continues with the same batches mid-epoch and across an epoch boundary', () => {
    for (const taken of [1, 2, 3, 5, 7]) {
      const s = new EpochSampler(5, 9);
      pull(s, 12, 4, taken); // epochs of 9: mid-epoch, or exactly at a boundary (taken = 9 → 36 = 4 epochs)
      const { original, restored } = resumed(s, 12, 4, 6);
      expect(restored, `after ${taken} batches`).toEqual(original);
    }
    const atBoundary = new EpochSampler(6);
    pull(atBoundary, 10, 5, 2);
    expect(atBoundary.state()).toEqual({ completed: 0, pos: 10, size: 10 });
    const { original, restored } = resumed(atBoundary, 10, 5, 3);
    expect(restored).toEqual(original);
  });

  it('keeps an epoch over fewer records than are now available', () => {
    const s = new EpochSampler(7);
    s.nextBatch(10, 4);
    const { original, restored } = resumed(s, 20, 4, 4); // rest of the 10-record epoch, then 20 records
    expect(restored).toEqual(original);
    expect(original.slice(0, 6).every((i) => i < 10)).toBe(true);
  });

  it('rejects an impossible state', () => {
    const s = new EpochSampler(1);
    expect(() => s.restore({ completed: 0, pos: 5, size: 4 })).toThrow(RangeError);
    expect(() => s.restore({ completed: 1.5, pos: 0, size: 4 })).toThrow(RangeError);
    expect(() => s.restore({ completed: 2, pos: 0, size: 0 })).toThrow(RangeError);
  });
});
