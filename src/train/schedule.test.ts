import { describe, expect, it } from 'vitest';
import { defaults } from '../experiment/schema';
import { lrAt, scheduledLr } from './schedule';

describe('learning-rate schedule (paper defaults)', () => {
  const c = defaults();
  it('warms up at 0.01 for 400 iterations, then 0.1, divided by 10 at 32k and 48k', () => {
    expect([0, 399, 400, 31_999, 32_000, 47_999, 48_000, 63_999].map((i) => scheduledLr(c, i))).toEqual([
      0.01, 0.01, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001,
    ]);
  });

  it('has no warm-up when warmupIters is 0 and no drops without milestones', () => {
    expect(scheduledLr({ ...c, warmupIters: 0, milestones: [] }, 0)).toBe(0.1);
    expect(scheduledLr({ ...c, milestones: [] }, 60_000)).toBe(0.1);
  });

  it('scales the rest of the schedule from a learning rate set by hand', () => {
    const o = [{ iter: 1000, lr: 0.05 }];
    expect(lrAt(c, 999, o)).toBe(0.1);
    expect(lrAt(c, 1000, o)).toBeCloseTo(0.05, 12);
    expect(lrAt(c, 32_000, o)).toBeCloseTo(0.005, 12);
    expect(lrAt(c, 2000, [...o, { iter: 1500, lr: 0.2 }])).toBeCloseTo(0.2, 12);
  });
});
