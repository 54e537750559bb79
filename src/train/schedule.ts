/**
 * The learning-rate schedule of the paper (Appendix, NOTES.md): warm-up at `warmupLr` for the first `warmupIters`
 * iterations, then `lr`, divided by 10 at each milestone (32k and 48k of 64k by default).
 */
import type { Config } from '../experiment/schema';

export type ScheduleConfig = Pick<Config, 'lr' | 'warmupLr' | 'warmupIters' | 'milestones'>;

/** The scheduled learning rate of iteration `iter` (0-based). */
export function scheduledLr(c: ScheduleConfig, iter: number): number {
  if (iter < c.warmupIters) return c.warmupLr;
  const drops = c.milestones.filter((m) => iter >= m).length;
  return c.lr / 10 ** drops;
}

/** A learning rate set by hand during a run: from `iter` on, the schedule is scaled so that it gives `lr` there. */
export interface LrOverride {
  iter: number;
  lr: number;
}

/** The learning rate actually used at `iter`, given the overrides so far (latest wins); later drops still apply. */
export function lrAt(c: ScheduleConfig, iter: number, overrides: readonly LrOverride[] = []): number {
  const o = [...overrides].reverse().find((x) => x.iter <= iter);
  const base = scheduledLr(c, iter);
  return o ? (o.lr * base) / scheduledLr(c, o.iter) : base;
}
