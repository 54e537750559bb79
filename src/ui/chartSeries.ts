/**
 * What the chart draws from a run's full history: smoothed (as TensorBoard's slider does) and thinned to a
 * few hundred points. The store keeps every point; only the picture is reduced, so a 64,000-iteration run
 * redraws as fast as a short one. The work is done on typed arrays in one pass: a long history allocates two
 * arrays here, not one object per point, which kept the garbage collector out of the redraw.
 */

/** Points drawn per curve: enough for a smooth line at any chart width, few enough to redraw in a few ms. */
export const CHART_POINTS = 250;

export interface XY {
  x: number;
  y: number;
}

export interface SeriesOptions {
  /** TensorBoard smoothing weight: 0 leaves values as they are, 0.99 is very smooth. */
  smoothing: number;
  /** For a log axis: values ≤ 0 cannot be drawn and are left out. */
  log: boolean;
  maxPoints: number;
}

/**
 * The drawable values of a history: finite (a diverged run's Infinity and NaN would squash every other curve),
 * and positive on a log axis.
 */
function drawable<T>(items: readonly T[], x: (t: T) => number, y: (t: T) => number, log: boolean) {
  const xs = new Float64Array(items.length);
  const ys = new Float64Array(items.length);
  let n = 0;
  for (const item of items) {
    const v = y(item);
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    xs[n] = x(item);
    ys[n++] = v;
  }
  return { xs: xs.subarray(0, n), ys: ys.subarray(0, n) };
}

/**
 * TensorBoard's smoothing, in place: an exponential moving average debiased for its zero start, so the first
 * points are not pulled towards 0.
 */
export function smoothValues(ys: Float64Array, weight: number): Float64Array {
  if (weight <= 0) return ys;
  let last = 0;
  let debias = 1;
  for (let i = 0; i < ys.length; i++) {
    last = last * weight + (1 - weight) * ys[i]!;
    debias *= weight;
    ys[i] = last / (1 - debias);
  }
  return ys;
}

/**
 * Largest-Triangle-Three-Buckets (Steinarsson 2013): the indices of the first and last points and, from each
 * of `threshold − 2` buckets between them, of the point that makes the largest triangle with its neighbours.
 * Peaks and steps survive, which plain striding or bucket means would flatten.
 */
export function lttb(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): number[] {
  const n = xs.length;
  if (threshold >= n || threshold < 3) return Array.from({ length: n }, (_, i) => i);
  const out = [0];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    // The average of the next bucket is the third corner of the triangle.
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += xs[j]!;
      avgY += ys[j]!;
    }
    const count = Math.max(nextEnd - nextStart, 1);
    avgX /= count;
    avgY /= count;

    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    const ax = xs[a]!;
    const ay = ys[a]!;
    let best = start;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      const area = Math.abs((ax - avgX) * (ys[j]! - ay) - (ax - xs[j]!) * (avgY - ay));
      if (area > bestArea) [best, bestArea] = [j, area];
    }
    out.push(best);
    a = best;
  }
  out.push(n - 1);
  return out;
}

/** The points the chart draws for one curve of a history: drawable, smoothed, thinned to `maxPoints`. */
export function displaySeries<T>(
  items: readonly T[],
  x: (t: T) => number,
  y: (t: T) => number,
  opts: SeriesOptions,
): XY[] {
  const { xs, ys } = drawable(items, x, y, opts.log);
  smoothValues(ys, opts.smoothing);
  return lttb(xs, ys, opts.maxPoints).map((i) => ({ x: xs[i]!, y: ys[i]! }));
}

/** The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ v (v > 0): axis ends a reader can take in at a glance. */
export function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v * (1 - 1e-12)) return m * p;
  return 10 * p;
}

/**
 * A loss axis that changes only when the curves outgrow it: [0, nice max] on a linear axis, whole decades on a
 * log axis, always covering `start` (the loss of a uniform guess, ln(classes), where every run begins). An
 * axis that followed every new extreme would re-measure and re-place its ticks at every redraw.
 */
export function lossDomain(curves: readonly (readonly XY[])[], log: boolean, start: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of curves) {
    for (const p of c) {
      if (p.y < lo) lo = p.y;
      if (p.y > hi) hi = p.y;
    }
  }
  hi = Math.max(hi, start);
  if (!(lo < hi)) lo = start / 10;
  if (!log) return [0, niceCeil(hi)];
  return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))];
}

/** Round ticks from 0 to `end`: about four to eight, each a multiple of 1, 2, 2.5 or 5 × 10^k. */
export function niceTicks(end: number): number[] {
  if (!(end > 0)) return [0];
  const step = niceCeil(end / 8);
  const ticks: number[] = [];
  for (let i = 0; i * step <= end * (1 + 1e-12); i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Iteration counts as the paper writes them: 500, 8k, 32k, 64k. */
export function iterationTick(v: number): string {
  return v >= 10_000 || (v >= 1000 && v % 1000 === 0)
    ? `${Number((v / 1000).toPrecision(4))}k`
    : v.toLocaleString('en-US');
}
