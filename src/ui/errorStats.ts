/**
 * What the error view reads off a run's errors (pure, so it is unit-tested): per-class test error, the most
 * frequent confusions, the order of the gallery (mistakes first), and which evaluation an iteration picks.
 */
import type { ErrorPoint, Gallery } from '../experiment/record';

/** Images shown in the gallery grid. */
export const GRID_IMAGES = 48;

export interface ClassError {
  cls: number;
  name: string;
  /** Test images of the class (the gallery's class counts). */
  images: number;
  /** Of those, how many the network put in another class (the matrix row minus its diagonal). */
  wrong: number;
  /** wrong / images, in %; null for a class with no test images. */
  error: number | null;
}

export const classCount = (confusion: readonly number[]) => Math.round(Math.sqrt(confusion.length));

/** Images the matrix counts, and how many of them are off its diagonal. */
export function matrixCounts(confusion: readonly number[]): { total: number; wrong: number } {
  const k = classCount(confusion);
  let total = 0;
  let right = 0;
  confusion.forEach((v, i) => {
    total += v;
    if (i % (k + 1) === 0) right += v;
  });
  return { total, wrong: total - right };
}

/** The test error (%) the matrix says: everything off the diagonal over everything. */
export function matrixError(confusion: readonly number[]): number {
  const { total, wrong } = matrixCounts(confusion);
  return total > 0 ? (100 * wrong) / total : 0;
}

export function perClassErrors(point: ErrorPoint, gallery: Pick<Gallery, 'classNames' | 'classCounts'>): ClassError[] {
  const k = classCount(point.confusion);
  return Array.from({ length: k }, (_, c) => {
    const images = gallery.classCounts[c] ?? 0;
    const wrong = images - (point.confusion[c * k + c] ?? 0);
    return {
      cls: c,
      name: gallery.classNames[c] ?? String(c),
      images,
      wrong,
      error: images ? (100 * wrong) / images : null,
    };
  });
}

export interface Confusion {
  trueClass: number;
  predicted: number;
  count: number;
}

/** The `n` largest off-diagonal cells, largest first (ties by class order, so the list is stable). */
export function topConfusions(confusion: readonly number[], n = 20): Confusion[] {
  const k = classCount(confusion);
  const cells: Confusion[] = [];
  confusion.forEach((count, i) => {
    const trueClass = Math.floor(i / k);
    const predicted = i % k;
    if (count > 0 && trueClass !== predicted) cells.push({ trueClass, predicted, count });
  });
  return cells.sort((a, b) => b.count - a.count || a.trueClass - b.trueClass || a.predicted - b.predicted).slice(0, n);
}

/**
 * Gallery images to show, as indices: the mistakes first, the most confident first (a confident mistake says
 * most), then the correct ones, the least confident first (the near misses).
 */
export function galleryOrder(labels: readonly number[], point: ErrorPoint, limit = GRID_IMAGES): number[] {
  const idx = labels.map((_, i) => i);
  const wrong = idx.filter((i) => point.predicted[i] !== labels[i]);
  const right = idx.filter((i) => point.predicted[i] === labels[i]);
  const conf = (i: number) => point.confidence[i] ?? 0;
  wrong.sort((a, b) => conf(b) - conf(a) || a - b);
  right.sort((a, b) => conf(a) - conf(b) || a - b);
  return [...wrong, ...right].slice(0, limit);
}

/** The run's evaluation at `at`: its last at or before that iteration ('latest': its last). */
export function errorsAt(errors: readonly ErrorPoint[] | undefined, at: 'latest' | number): ErrorPoint | undefined {
  if (!errors?.length) return undefined;
  return at === 'latest' ? errors.at(-1) : errors.findLast((e) => e.iter <= at);
}
