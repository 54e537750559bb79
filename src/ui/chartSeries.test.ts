import { describe, expect, it } from 'vitest';
import { displaySeries, downsample, drawable, smooth, type XY } from './chartSeries';

const series = (ys: number[]): XY[] => ys.map((y, x) => ({ x, y }));

describe('smooth', () => {
  it('leaves the series unchanged at weight 0', () => {
    const s = series([3, 1, 2]);
    expect(smooth(s, 0)).toEqual(s);
  });

  it('is debiased: a constant series stays constant from the first point', () => {
    for (const y of smooth(series([2, 2, 2, 2, 2]), 0.9)) expect(y.y).toBeCloseTo(2, 12);
  });

  it('follows an exponential moving average', () => {
    const [a, b] = smooth(series([1, 3]), 0.5);
    expect(a!.y).toBeCloseTo(1, 12);
    // EMA: 0.5 after the first point, then 0.5·0.5 + 0.5·3 = 1.75, debiased by 1 − 0.5²
    expect(b!.y).toBeCloseTo(1.75 / 0.75, 12);
  });

  it('damps noise', () => {
    const noisy = series(Array.from({ length: 400 }, (_, i) => 2 + (i % 2 ? 0.5 : -0.5)));
    const tail = smooth(noisy, 0.95).slice(200);
    expect(Math.max(...tail.map((p) => p.y)) - Math.min(...tail.map((p) => p.y))).toBeLessThan(0.1);
  });
});

describe('downsample (LTTB)', () => {
  it('returns short series unchanged', () => {
    const s = series([1, 2, 3]);
    expect(downsample(s, 10)).toEqual(s);
  });

  it('keeps the first and last points and the requested count, in order', () => {
    const s = series(Array.from({ length: 64_000 }, (_, i) => Math.exp(-i / 10_000) + Math.sin(i)));
    const d = downsample(s, 500);
    expect(d).toHaveLength(500);
    expect(d[0]).toBe(s[0]);
    expect(d.at(-1)).toBe(s.at(-1));
    for (let i = 1; i < d.length; i++) expect(d[i]!.x).toBeGreaterThan(d[i - 1]!.x);
  });

  it('keeps a lone spike and the drops at learning-rate milestones', () => {
    const ys: number[] = Array.from({ length: 10_000 }, (_, i) => (i < 5000 ? 1 : 0.1));
    ys[2345] = 50;
    const d = downsample(series(ys), 200);
    expect(d.some((p) => p.y === 50)).toBe(true);
    expect(d.some((p) => p.y === 0.1 && p.x < 5100)).toBe(true);
  });
});

describe('drawable', () => {
  it('drops non-finite values, and non-positive ones on a log axis', () => {
    const s = series([1, Infinity, NaN, 0, -1, 2]);
    expect(drawable(s, false).map((p) => p.y)).toEqual([1, 0, -1, 2]);
    expect(drawable(s, true).map((p) => p.y)).toEqual([1, 2]);
  });
});

describe('displaySeries', () => {
  it('bounds the point count whatever the history length', () => {
    const s = series(Array.from({ length: 25_000 }, (_, i) => 2 / (1 + i / 1000)));
    expect(displaySeries(s, { smoothing: 0.6, log: true, maxPoints: 400 })).toHaveLength(400);
  });
});
