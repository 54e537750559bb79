import { describe, expect, it } from 'vitest';
import { CIFAR10_LAYOUT, labelOf, pixelOf, type RecordSet } from './format';
import { generateSynthetic, SYNTHETIC_CLASS_NAMES, SYNTHETIC_SIZES } from './synthetic';

function labelCounts(set: RecordSet): number[] {
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < set.count; i++) counts[labelOf(set, i)]!++;
  return counts;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Features of every record: all 3072 raw pixels, or only the image's mean colour (3 numbers). */
function features(set: RecordSet, kind: 'pixels' | 'colour'): Float64Array[] {
  const out: Float64Array[] = [];
  for (let i = 0; i < set.count; i++) {
    const start = i * set.layout.recordBytes + set.layout.pixelOffset;
    const pixels = set.bytes.subarray(start, start + 3072);
    if (kind === 'pixels') {
      out.push(Float64Array.from(pixels));
    } else {
      const mean = new Float64Array(3);
      for (let c = 0; c < 3; c++) {
        for (let k = 0; k < 1024; k++) mean[c]! += pixels[c * 1024 + k]!;
        mean[c]! /= 1024;
      }
      out.push(mean);
    }
  }
  return out;
}

/** Accuracy on `test` of the nearest-class-mean classifier fitted on `train` (Euclidean distance). */
function nearestClassMeanAccuracy(train: RecordSet, test: RecordSet, kind: 'pixels' | 'colour'): number {
  const trainX = features(train, kind);
  const dim = trainX[0]!.length;
  const means = Array.from({ length: 10 }, () => new Float64Array(dim));
  const counts = labelCounts(train);
  trainX.forEach((x, i) => {
    const m = means[labelOf(train, i)]!;
    for (let j = 0; j < dim; j++) m[j]! += x[j]!;
  });
  means.forEach((m, c) => m.forEach((v, j) => (m[j] = v / counts[c]!)));
  let correct = 0;
  features(test, kind).forEach((x, i) => {
    let best = -1;
    let bestDist = Infinity;
    means.forEach((m, c) => {
      let d = 0;
      for (let j = 0; j < dim; j++) d += (x[j]! - m[j]!) ** 2;
      if (d < bestDist) [best, bestDist] = [c, d];
    });
    if (best === labelOf(test, i)) correct++;
  });
  return correct / test.count;
}

describe('embedded synthetic set', () => {
  it('names ten classes and the split sizes', () => {
    expect(SYNTHETIC_CLASS_NAMES).toHaveLength(10);
    expect(new Set(SYNTHETIC_CLASS_NAMES).size).toBe(10);
    expect(SYNTHETIC_SIZES).toEqual({ train: 10000, test: 2000 });
  });

  it('writes CIFAR-10 records with balanced labels', () => {
    const set = generateSynthetic(1, 'test');
    expect(set.layout).toEqual(CIFAR10_LAYOUT);
    expect(set.count).toBe(SYNTHETIC_SIZES.test);
    expect(set.bytes.length).toBe(SYNTHETIC_SIZES.test * 3073);
    expect(labelCounts(set)).toEqual(new Array(10).fill(SYNTHETIC_SIZES.test / 10));
    // Every prefix of a multiple of ten is balanced too, so a training subset is.
    expect(labelCounts(generateSynthetic(1, 'train', 50))).toEqual(new Array(10).fill(5));
    // Labels are shuffled, not simply i % 10.
    const firstTen = Array.from({ length: 10 }, (_, i) => labelOf(set, i));
    expect(firstTen).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(generateSynthetic(1, 'train', 0).count).toBe(0);
    expect(generateSynthetic(1, 'train', 7).count).toBe(7);
  });

  it('refuses a count that is not a whole number', () => {
    expect(() => generateSynthetic(1, 'train', -1)).toThrow();
    expect(() => generateSynthetic(1, 'train', 2.5)).toThrow();
  });

  it('is deterministic per seed and split, and any prefix matches the full split', () => {
    const a = generateSynthetic(7, 'train', 300);
    expect(sameBytes(a.bytes, generateSynthetic(7, 'train', 300).bytes)).toBe(true);
    const prefix = generateSynthetic(7, 'train', 120);
    expect(sameBytes(prefix.bytes, a.bytes.subarray(0, 120 * 3073))).toBe(true);
  });

  it('differs between seeds and between splits', () => {
    const base = generateSynthetic(7, 'train', 100);
    expect(sameBytes(base.bytes, generateSynthetic(8, 'train', 100).bytes)).toBe(false);
    expect(sameBytes(base.bytes, generateSynthetic(7, 'test', 100).bytes)).toBe(false);
    // Not just a few bytes: the images themselves are unrelated.
    const other = generateSynthetic(7, 'test', 100);
    let equal = 0;
    for (let i = 0; i < base.bytes.length; i++) if (base.bytes[i] === other.bytes[i]) equal++;
    expect(equal / base.bytes.length).toBeLessThan(0.05);
  });

  it('spans the pixel range, with varied colours', () => {
    const set = generateSynthetic(3, 'train', 200);
    let min = 255;
    let max = 0;
    let sum = 0;
    for (let i = 0; i < set.count; i++) {
      for (let c = 0; c < 3; c++) {
        for (let k = 0; k < 1024; k++) {
          const v = pixelOf(set, i, c, k >> 5, k & 31);
          min = Math.min(min, v);
          max = Math.max(max, v);
          sum += v;
        }
      }
    }
    expect(min).toBe(0);
    expect(max).toBe(255);
    const mean = sum / (set.count * 3072);
    expect(mean).toBeGreaterThan(60);
    expect(mean).toBeLessThan(190);
    // Background colours vary between images: the corner pixel takes many values.
    const corners = new Set(Array.from({ length: set.count }, (_, i) => pixelOf(set, i, 0, 0, 0)));
    expect(corners.size).toBeGreaterThan(100);
  });

  it('is learnable from the shapes, but not from the colours', () => {
    const train = generateSynthetic(1, 'train', 2000);
    const test = generateSynthetic(1, 'test', 500);
    // Even a template matcher on raw pixels gets well above chance (10%) ...
    expect(nearestClassMeanAccuracy(train, test, 'pixels')).toBeGreaterThan(0.2);
    // ... while the mean colour of an image says next to nothing about its class.
    expect(nearestClassMeanAccuracy(train, test, 'colour')).toBeLessThan(0.25);
  });
});
