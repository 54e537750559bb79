/**
 * What the chart draws from a run's full history: smoothed (as TensorBoard's slider does) and thinned to a
 * few hundred points. The store keeps every point; only the picture is reduced, so a 64,000-iteration run
 * redraws as fast as a short one.
 */

export interface XY {
  x: number;
  y: number;
}

/**
 * TensorBoard's smoothing: an exponential moving average debiased for its zero start, so the first points are
 * not pulled towards 0. weight 0 leaves the series as it is; non-finite values are passed through unsmoothed.
 */
export function smooth(points: readonly XY[], weight: number): XY[] {
  if (weight <= 0) return points.slice();
  let last = 0;
  let n = 0;
  return points.map((p) => {
    if (!Number.isFinite(p.y)) return p;
    last = last * weight + (1 - weight) * p.y;
    n++;
    return { x: p.x, y: last / (1 - weight ** n) };
  });
}

/**
 * Largest-Triangle-Three-Buckets (Steinarsson 2013): keeps the first and last points and, from each of
 * `threshold − 2` buckets between them, the point that makes the largest triangle with its neighbours. Peaks
 * and steps survive, which plain striding or bucket means would flatten.
 */
export function downsample(points: readonly XY[], threshold: number): XY[] {
  const n = points.length;
  if (threshold >= n || threshold < 3) return points.slice();
  const out: XY[] = [points[0]!];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    // The average of the next bucket is the third corner of the triangle.
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += points[j]!.x;
      avgY += points[j]!.y;
    }
    const count = Math.max(nextEnd - nextStart, 1);
    avgX /= count;
    avgY /= count;

    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    const pa = points[a]!;
    let best = start;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      const p = points[j]!;
      const area = Math.abs((pa.x - avgX) * (p.y - pa.y) - (pa.x - p.x) * (avgY - pa.y));
      if (area > bestArea) [best, bestArea] = [j, area];
    }
    out.push(points[best]!);
    a = best;
  }
  out.push(points[n - 1]!);
  return out;
}

/**
 * Points a chart axis can draw: finite, and positive on a log axis. A diverged run's last values (Infinity,
 * NaN, 1e30) would otherwise squash every other curve into a flat line.
 */
export function drawable(points: readonly XY[], log: boolean): XY[] {
  return points.filter((p) => Number.isFinite(p.y) && (!log || p.y > 0));
}

/** The series the chart draws for one curve: drawable, smoothed, then thinned to at most `maxPoints`. */
export function displaySeries(points: readonly XY[], opts: { smoothing: number; log: boolean; maxPoints: number }) {
  return downsample(smooth(drawable(points, opts.log), opts.smoothing), opts.maxPoints);
}
