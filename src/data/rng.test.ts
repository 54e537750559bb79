import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed, shuffle } from './rng';

const draws = (seed: number, n: number) => {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => rng.next());
};

describe('createRng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    expect(draws(42, 100)).toEqual(draws(42, 100));
    expect(draws(42, 100)).not.toEqual(draws(43, 100));
  });

  it('next() lies in [0, 1) and is roughly uniform', () => {
    const xs = draws(7, 20000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean).toBeCloseTo(0.5, 1.5);
  });

  it('int(n) covers 0..n-1 evenly', () => {
    const rng = createRng(1);
    const counts = new Array<number>(9).fill(0);
    for (let i = 0; i < 9000; i++) {
      const k = rng.int(9);
      expect(Number.isInteger(k)).toBe(true);
      counts[k]!++;
    }
    expect(counts.length).toBe(9);
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
    expect(createRng(1).int(1)).toBe(0);
  });

  it('int rejects a non-positive or fractional n', () => {
    const rng = createRng(1);
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => rng.int(2.5)).toThrow(RangeError);
  });
});

describe('deriveSeed', () => {
  it('is deterministic and separates salts and seeds', () => {
    expect(deriveSeed(5, 0)).toBe(deriveSeed(5, 0));
    const seeds = new Set<number>();
    for (let s = 0; s < 20; s++) for (let e = 0; e < 20; e++) seeds.add(deriveSeed(s, e));
    expect(seeds.size).toBe(400);
    expect(deriveSeed(1, 2)).not.toBe(deriveSeed(2, 1));
  });
});

describe('shuffle', () => {
  it('permutes in place, deterministically per seed, for both array kinds', () => {
    const a = Uint32Array.from({ length: 50 }, (_, i) => i);
    const b = Array.from({ length: 50 }, (_, i) => i);
    expect(shuffle(a, createRng(3))).toBe(a);
    shuffle(b, createRng(3));
    expect(Array.from(a)).toEqual(b);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(b).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    const c = Array.from({ length: 50 }, (_, i) => i);
    expect(shuffle(c, createRng(4))).not.toEqual(b);
  });

  it('gives every permutation of three equally often', () => {
    const rng = createRng(9);
    const counts = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const key = shuffle([0, 1, 2], rng).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('leaves empty and single-element arrays alone', () => {
    expect(shuffle([], createRng(1))).toEqual([]);
    expect(shuffle([7], createRng(1))).toEqual([7]);
  });
});
