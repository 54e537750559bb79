/**
 * The plan as a JSON document, for executors outside the page: `npm run --silent summary -- '<link>' --plan`
 * prints it and the PyTorch package (python/identity_mappings) builds its nn.Module from it, so the unit registry
 * (src/experiment/units.ts) and the layout rules of plan.ts exist once. Pure: no tfjs.
 *
 * What it adds to the plan itself: a version (bumped whenever an executor would have to read it differently), the
 * canonical link, the conventions an executor must match that are not per-layer data (tensor layout, BatchNorm's
 * constants), and each unit's shortcut parameters (λ, s, dropout rate, gate bias), the config values its
 * shortcut rule (shortcuts.ts) reads.
 */
import { toQuery } from '../experiment/codec';
import type { Config } from '../experiment/schema';
import { UNITS, type UnitParam } from '../experiment/units';
import { BN_EPSILON, BN_MOMENTUM, type NetworkPlan, type UnitPlan } from './plan';

export const PLAN_VERSION = 1;

export interface PlanDocument extends Omit<NetworkPlan, 'units'> {
  planVersion: typeof PLAN_VERSION;
  /** The experiment as a link path, `/?<canonical query>`. */
  link: string;
  conventions: {
    /** Activations NHWC; conv weights [k, k, cin, cout]; fc weight [cin, classes]. */
    layout: 'NHWC';
    /** Every conv pads (k − 1) / 2 on every side (Torch), never TensorFlow's one-sided 'same'. */
    convPadding: 'symmetric';
    /** running ← (1 − momentum)·running + momentum·batch statistic, the variance unbiased. */
    batchNorm: { epsilon: number; momentum: number; runningVariance: 'unbiased' };
    /** Kept shortcut values are scaled by 1 / (1 − p) in training; evaluation uses the shortcut unchanged. */
    dropout: 'inverted';
  };
  units: (UnitPlan & { shortcutParams: Partial<Record<UnitParam, number>> })[];
}

/** The config values a unit's shortcut rule reads (units.ts lists them per unit). */
function shortcutParams(config: Config): Partial<Record<UnitParam, number>> {
  return Object.fromEntries(UNITS[config.unit].params.map((p) => [p, config[p]]));
}

export function exportPlan(plan: NetworkPlan): PlanDocument {
  const params = shortcutParams(plan.config);
  return {
    planVersion: PLAN_VERSION,
    link: `/?${toQuery(plan.config)}`,
    conventions: {
      layout: 'NHWC',
      convPadding: 'symmetric',
      batchNorm: { epsilon: BN_EPSILON, momentum: BN_MOMENTUM, runningVariance: 'unbiased' },
      dropout: 'inverted',
    },
    ...plan,
    units: plan.units.map((u) => ({ ...u, shortcutParams: params })),
  };
}
