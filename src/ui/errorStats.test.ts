import { describe, expect, it } from 'vitest';
import type { ErrorPoint } from '../experiment/record';
import { errorsAt, galleryOrder, matrixError, perClassErrors, topConfusions } from './errorStats';

// 3 classes: rows are true classes. Class 0: 5 images, 1 taken for class 2; class 1: 4, 2 taken for class 0;
// class 2: 1, right.
const confusion = [4, 0, 1, 2, 2, 0, 0, 0, 1];
const point = (iter: number, change: Partial<ErrorPoint> = {}): ErrorPoint => ({
  iter,
  confusion,
  predicted: [0, 2, 1, 0],
  confidence: [0.9, 0.8, 0.4, 0.6],
  ...change,
});

describe('error statistics', () => {
  it('the matrix error is off-diagonal over total', () => {
    expect(matrixError(confusion)).toBeCloseTo(30, 10);
    expect(matrixError([0, 0, 0, 0])).toBe(0);
  });

  it('per-class error from the class counts and the diagonal', () => {
    const rows = perClassErrors(point(1), { classNames: ['a', 'b', 'c'], classCounts: [5, 4, 1] });
    expect(rows.map((r) => [r.name, r.images, r.wrong, r.error])).toEqual([
      ['a', 5, 1, 20],
      ['b', 4, 2, 50],
      ['c', 1, 0, 0],
    ]);
    expect(perClassErrors(point(1), { classNames: ['a'], classCounts: [0, 0, 0] })[1]).toMatchObject({
      name: '1',
      error: null,
    });
  });

  it('the most frequent confusions, largest first, never the diagonal', () => {
    expect(topConfusions(confusion)).toEqual([
      { trueClass: 1, predicted: 0, count: 2 },
      { trueClass: 0, predicted: 2, count: 1 },
    ]);
    expect(topConfusions(confusion, 1)).toHaveLength(1);
  });

  it('the gallery shows mistakes first (most confident first), then the least confident correct ones', () => {
    // labels [0, 1, 1, 1]: image 1 (p=0.8) and image 3 (p=0.6) are wrong; 2 (0.4) and 0 (0.9) right.
    expect(galleryOrder([0, 1, 1, 1], point(1))).toEqual([1, 3, 2, 0]);
    expect(galleryOrder([0, 1, 1, 1], point(1), 3)).toEqual([1, 3, 2]);
  });

  it('an iteration picks the last evaluation at or before it', () => {
    const errors = [point(10), point(20), point(30)];
    expect(errorsAt(errors, 'latest')!.iter).toBe(30);
    expect(errorsAt(errors, 25)!.iter).toBe(20);
    expect(errorsAt(errors, 5)).toBeUndefined();
    expect(errorsAt(undefined, 'latest')).toBeUndefined();
  });
});
