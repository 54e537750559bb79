import { describe, expect, it } from 'vitest';
import { displaySeries, iterationTick, lossDomain, lttb, niceCeil, niceTicks, smoothValues } from './chartSeries';

const f64 = (ys: number[]) => Float64Array.from(ys);
const points = (ys: number[]) => ys.map((y, i) => ({ iter: i, loss: y }));
const show = (ys: number[], opts: { smoothing?: number; log?: boolean; maxPoints?: number } = {}) =>
  displaySeries(
    points(ys),
    (p) => p.iter,
    (p) => p.loss,
    { smoothing: 0, log: false, maxPoints: 1000, ...opts },
  );

describe('smoothValues', () => {
  it('leaves the series unchanged at weight 0', () => {
    expect([...smoothValues(f64([3, 1, 2]), 0)]).toEqual([3, 1, 2]);
  });

  it('is debiased: a constant series stays constant from the first point', () => {
    for (const y of smoothValues(f64([2, 2, 2, 2, 2]), 0.9)) expect(y).toBeCloseTo(2, 12);
  });

  it('follows an exponential moving average', () => {
    const [a, b] = smoothValues(f64([1, 3]), 0.5);
    expect(a).toBeCloseTo(1, 12);
    // EMA: 0.5 after the first point, then 0.5·0.5 + 0.5·3 = 1.75, debiased by 1 − 0.5²
    expect(b).toBeCloseTo(1.75 / 0.75, 12);
  });

  it('damps noise', () => {
    const noisy = f64(Array.from({ length: 400 }, (_, i) => 2 + (i % 2 ? 0.5 : -0.5)));
    const tail = [...smoothValues(noisy, 0.95).slice(200)];
    expect(Math.max(...tail) - Math.min(...tail)).toBeLessThan(0.1);
  });
});

describe('lttb', () => {
  it('keeps every index of a short series', () => {
    expect(lttb([0, 1, 2], [1, 2, 3], 10)).toEqual([0, 1, 2]);
  });

  it('keeps the first and last points and the requested count, in order', () => {
    const n = 64_000;
    const xs = Float64Array.from({ length: n }, (_, i) => i);
    const ys = Float64Array.from({ length: n }, (_, i) => Math.exp(-i / 10_000) + Math.sin(i));
    const idx = lttb(xs, ys, 500);
    expect(idx).toHaveLength(500);
    expect(idx[0]).toBe(0);
    expect(idx.at(-1)).toBe(n - 1);
    for (let i = 1; i < idx.length; i++) expect(idx[i]!).toBeGreaterThan(idx[i - 1]!);
  });

  it('keeps a lone spike and the drop at a learning-rate milestone', () => {
    const ys: number[] = Array.from({ length: 10_000 }, (_, i) => (i < 5000 ? 1 : 0.1));
    ys[2345] = 50;
    const d = show(ys, { maxPoints: 200 });
    expect(d.some((p) => p.y === 50)).toBe(true);
    expect(d.some((p) => p.y === 0.1 && p.x < 5100)).toBe(true);
  });
});

describe('displaySeries', () => {
  it('drops non-finite values, and non-positive ones on a log axis', () => {
    const ys = [1, Infinity, NaN, 0, -1, 2];
    expect(show(ys).map((p) => p.y)).toEqual([1, 0, -1, 2]);
    expect(show(ys, { log: true }).map((p) => [p.x, p.y])).toEqual([
      [0, 1],
      [5, 2],
    ]);
  });

  it('bounds the point count whatever the history length, and smooths before thinning', () => {
    const ys = Array.from({ length: 25_000 }, (_, i) => 2 / (1 + i / 1000) + (i % 2 ? 0.3 : -0.3));
    const d = show(ys, { smoothing: 0.9, maxPoints: 400 });
    expect(d).toHaveLength(400);
    expect(Math.max(...d.slice(100).map((p) => p.y))).toBeLessThan(0.5); // the ±0.3 noise is gone
  });
});

describe('axis domains', () => {
  it('rounds up to 1, 2, 2.5 or 5 times a power of ten', () => {
    expect([0.7, 1, 1.2, 2.2, 2.5, 3, 7, 2.303, 64_000].map(niceCeil)).toEqual([
      1, 1, 2, 2.5, 2.5, 5, 10, 2.5, 100_000,
    ]);
  });

  it('gives a linear loss axis from 0 and a log axis in whole decades, stable as points arrive', () => {
    const start = Math.log(10);
    const a = [
      { x: 0, y: 2.4 },
      { x: 1, y: 0.4 },
    ];
    expect(lossDomain([], false, start)).toEqual([0, 2.5]); // before the first point: ln 10 = 2.30
    expect(lossDomain([a], false, start)).toEqual([0, 2.5]);
    expect(lossDomain([a, [{ x: 2, y: 0.35 }]], false, start)).toEqual([0, 2.5]);
    expect(lossDomain([a, [{ x: 2, y: 7 }]], false, start)).toEqual([0, 10]); // a run that blows up
    expect(lossDomain([a], true, start)).toEqual([0.1, 10]);
    expect(lossDomain([a, [{ x: 2, y: 0.02 }]], true, start)).toEqual([0.01, 10]);
    expect(lossDomain([], false, Math.log(100))).toEqual([0, 5]); // CIFAR-100
  });
});

describe('iteration axis', () => {
  it('has a few round ticks from 0', () => {
    expect(niceTicks(64_000)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000]);
    expect(niceTicks(128_000)).toEqual([0, 20_000, 40_000, 60_000, 80_000, 100_000, 120_000]);
    expect(niceTicks(6)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(niceTicks(300)).toEqual([0, 50, 100, 150, 200, 250, 300]);
  });

  it('writes thousands as k', () => {
    expect([0, 250, 1500, 8000, 32_000, 64_000, 125_000].map(iterationTick)).toEqual([
      '0',
      '250',
      '1,500',
      '8k',
      '32k',
      '64k',
      '125k',
    ]);
  });
});
