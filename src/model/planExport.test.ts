import { describe, expect, it } from 'vitest';
import { parseQuery } from '../experiment/codec';
import { BN_EPSILON, BN_MOMENTUM, planNetwork } from './plan';
import { exportPlan, PLAN_VERSION } from './planExport';

const plan = (query: string) => {
  const { config, problems } = parseQuery(query);
  expect(problems).toEqual([]);
  return planNetwork(config);
};

describe('exportPlan', () => {
  it('is the plan itself as JSON, with its version, link and conventions', () => {
    const p = plan('unit=full-preact&block=bottleneck&depth=20&dataset=cifar100');
    const doc = JSON.parse(JSON.stringify(exportPlan(p)));
    expect(doc.planVersion).toBe(PLAN_VERSION);
    expect(doc.link).toBe('/?block=bottleneck&dataset=cifar100');
    expect(doc.conventions).toEqual({
      layout: 'NHWC',
      convPadding: 'symmetric',
      batchNorm: { epsilon: BN_EPSILON, momentum: BN_MOMENTUM, runningVariance: 'unbiased' },
      dropout: 'inverted',
    });
    // Every op, parameter, shape and initialiser comes from plan.ts unchanged (JSON keeps all of it).
    for (const key of ['config', 'classes', 'stem', 'head', 'fc', 'params'] as const)
      expect(doc[key]).toEqual(JSON.parse(JSON.stringify(p[key])));
    expect(doc.units.map(({ shortcutParams, ...u }: { shortcutParams: unknown }) => u)).toEqual(
      JSON.parse(JSON.stringify(p.units)),
    );
    expect(doc.classes).toBe(100);
    // Pre-activation bottleneck nets project without BN where the shape changes (preresnet.lua).
    expect(doc.units[0].downsample).toEqual({
      kind: 'projection',
      ops: [{ op: 'conv', w: 's1.u0.proj.w', k: 1, stride: 1, cin: 16, cout: 64 }],
    });
  });

  it('gives every unit the config values its shortcut rule reads, and only those', () => {
    const shortcutParams = (query: string) => exportPlan(plan(query)).units.map((u) => u.shortcutParams);
    expect(shortcutParams('unit=scale&shortcutScale=0.3&depth=8')).toEqual(
      Array(3).fill({ shortcutScale: 0.3, residualScale: 1 }),
    );
    expect(shortcutParams('unit=dropout-shortcut&dropRate=0.2&depth=8')[0]).toEqual({ dropRate: 0.2 });
    expect(shortcutParams('unit=exclusive-gate&gateBias=-4&depth=8')[2]).toEqual({ gateBias: -4 });
    expect(shortcutParams('unit=original&depth=8')[1]).toEqual({});
  });

  it('says how each basic unit reaches the addition where its shape changes: option A', () => {
    const units = exportPlan(plan('unit=original&depth=8')).units;
    expect(units.map((u) => [u.shortcut, u.downsample])).toEqual([
      ['identity', { kind: 'none' }],
      ['identity', { kind: 'zero-pad', stride: 2, extraChannels: 16 }],
      ['identity', { kind: 'zero-pad', stride: 2, extraChannels: 32 }],
    ]);
  });
});
