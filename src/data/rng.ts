/**
 * Seeded randomness for the data pipeline (epoch order, crop offsets, flips). Math.random cannot be seeded, and a
 * run must be repeatable from its seed, so everything random on the JS side draws from here.
 * Generator: mulberry32 (32-bit state, full 2^32 period) — tiny, fast, and plenty for shuffles and crop offsets.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in 0..n-1. */
  int(n: number): number;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int(n: number): number {
      if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new RangeError(`int(n) needs 1 ≤ n ≤ 2^32, got ${n}`);
      // Bias from floor(u * n) is below n / 2^32: negligible for the n used here (≤ dataset size).
      return Math.floor(next() * n);
    },
  };
}

/** MurmurHash3's 32-bit finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seed for an independent stream, e.g. deriveSeed(runSeed, epoch). Hashing (rather than seed + epoch) keeps
 * neighbouring seeds and salts from giving overlapping or correlated streams.
 */
export function deriveSeed(seed: number, ...salts: number[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const salt of salts) h = fmix32((h ^ fmix32((salt >>> 0) + 0x7f4a7c15)) + 0x9e3779b9);
  return h;
}

/** Fisher–Yates, in place; returns the same array for chaining. */
export function shuffle<T extends Uint32Array | number[]>(indices: T, rng: Rng): T {
  for (let i = indices.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = indices[i]!;
    indices[i] = indices[j]!;
    indices[j] = t;
  }
  return indices;
}
