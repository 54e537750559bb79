import { describe, expect, it } from 'vitest';
import { parseQuery } from '../experiment/codec';
import { UNIT_IDS } from '../experiment/units';
import { planNetwork, summarizePlan } from './plan';

const summary = (query: string) => {
  const { config, problems } = parseQuery(query);
  expect(problems).toEqual([]);
  return summarizePlan(planNetwork(config));
};
const within = (value: number, target: number, fraction: number) => Math.abs(value - target) / target <= fraction;

describe('parameter counts', () => {
  it('match independent reimplementations of the pre-activation nets within 1%', () => {
    // PreResNet-164 and -1001 agree exactly. PreResNet-110's 1,730,522 uses 1×1 projections where the width
    // changes; the official CIFAR basic nets use option A (no parameters), 2,560 fewer: 0.15% off.
    expect(summary('unit=full-preact&depth=110').trainableParams).toBe(1_727_962);
    expect(within(summary('unit=full-preact&depth=110').trainableParams, 1_730_522, 0.01)).toBe(true);
    expect(summary('unit=full-preact&block=bottleneck&depth=164').trainableParams).toBe(1_703_258);
    expect(summary('unit=full-preact&block=bottleneck&depth=1001').trainableParams).toBe(10_327_706);
  });

  it('agree with the paper (1.7M, 1.7M, 10.2M; the paper rounds, 1001 is 1.2% above its figure)', () => {
    for (const unit of ['original', 'full-preact']) {
      expect(within(summary(`unit=${unit}&depth=110`).trainableParams, 1.7e6, 0.02)).toBe(true);
      expect(within(summary(`unit=${unit}&block=bottleneck&depth=164`).trainableParams, 1.7e6, 0.02)).toBe(true);
      expect(within(summary(`unit=${unit}&block=bottleneck&depth=1001`).trainableParams, 10.2e6, 0.015)).toBe(true);
    }
  });

  it('count BN running averages as parameters but not as trainable ones', () => {
    const s = summary('depth=20');
    // 19 BN layers of 16–64 channels: running mean and variance are 2 numbers per channel.
    expect(s.params - s.trainableParams).toBe(
      planNetwork(parseQuery('depth=20').config)
        .params.filter((p) => !p.trainable)
        .reduce((a, p) => a + p.shape[0]!, 0),
    );
    expect(s.params).toBeGreaterThan(s.trainableParams);
  });

  it('add the gates and 1×1 shortcuts on top of the plain unit', () => {
    const base = summary('unit=original&depth=20').trainableParams;
    // Gate: 1×1 conv cin→cout plus a bias of cout per unit.
    const gates = [16, 16, 16, 32, 32, 32, 64, 64, 64].reduce(
      (a, c, i) => a + [16, 16, 16, 16, 32, 32, 32, 64, 64][i]! * c + c,
      0,
    );
    expect(summary('unit=exclusive-gate&depth=20').trainableParams - base).toBe(gates);
    expect(summary('unit=shortcut-gate&depth=20').trainableParams - base).toBe(gates);
  });
});

describe('depth, units and weight layers', () => {
  it('count weight layers as the paper names the depth', () => {
    for (const depth of [20, 32, 44, 56, 110, 1202]) expect(summary(`depth=${depth}`).weightLayers).toBe(depth);
    for (const depth of [164, 1001]) expect(summary(`block=bottleneck&depth=${depth}`).weightLayers).toBe(depth);
    expect(summary('convsPerUnit=1&depth=110').weightLayers).toBe(110);
  });

  it('has 54 units in ResNet-110 and ResNet-164, 108 in the 1-layer-skip ResNet-110', () => {
    expect(summary('depth=110').units).toBe(54);
    expect(summary('block=bottleneck&depth=164').units).toBe(18 * 3);
    expect(summary('convsPerUnit=1&depth=110').units).toBe(108);
  });

  it('plans every unit variant for both blocks, with 100 classes on CIFAR-100', () => {
    for (const unit of UNIT_IDS) {
      for (const block of ['basic', 'bottleneck']) {
        const plan = planNetwork(parseQuery(`unit=${unit}&block=${block}&depth=164&dataset=cifar100`).config);
        expect(plan.fc.classes).toBe(100);
        expect(plan.units.at(-1)!.cout).toBe(block === 'basic' ? 64 : 256);
      }
    }
  });

  it('puts BN-ReLU before the split in the first unit of each stage of a pre-activation net (Appendix)', () => {
    const plan = planNetwork(parseQuery('unit=full-preact&depth=20').config);
    expect(plan.stem.map((o) => o.op)).toEqual(['conv']);
    expect(plan.units.map((u) => u.hoisted.map((o) => o.op).join('-'))).toEqual([
      'bn-relu',
      '',
      '',
      'bn-relu',
      '',
      '',
      'bn-relu',
      '',
      '',
    ]);
    expect(plan.units[1]!.branch.map((o) => o.op)).toEqual(['bn', 'relu', 'conv', 'bn', 'relu', 'conv']);
    expect(plan.head.map((o) => o.op)).toEqual(['bn', 'relu']);
    const original = planNetwork(parseQuery('unit=original&depth=20').config);
    expect(original.stem.map((o) => o.op)).toEqual(['conv', 'bn', 'relu']);
    expect(original.units[1]!.branch.map((o) => o.op)).toEqual(['conv', 'bn', 'relu', 'conv', 'bn']);
    expect(original.units[1]!.afterAdd.map((o) => o.op)).toEqual(['relu']);
    expect(original.head).toEqual([]);
  });

  it('downsamples as the official code: option A for basic, projection for bottleneck (BN only post-activation)', () => {
    const basic = planNetwork(parseQuery('depth=20').config).units[3]!;
    expect(basic.downsample).toEqual({ kind: 'zero-pad', stride: 2, extraChannels: 16 });
    const pre = planNetwork(parseQuery('block=bottleneck&depth=29').config).units;
    expect(pre[0]!.downsample.kind).toBe('projection'); // 16 → 64 in stage 1 too
    expect(pre[0]!.downsample.kind === 'projection' && pre[0]!.downsample.ops.map((o) => o.op)).toEqual(['conv']);
    const post = planNetwork(parseQuery('unit=original&block=bottleneck&depth=29').config).units[3]!;
    expect(post.downsample.kind === 'projection' && post.downsample.ops.map((o) => o.op)).toEqual(['conv', 'bn']);
  });

  it('plans ResNet-1001 from shapes alone', () => {
    expect(summary('block=bottleneck&depth=1001')).toMatchObject({ units: 333, weightLayers: 1001 });
  });
});
