import { describe, expect, it } from 'vitest';
import { parseQuery } from './codec';
import { chooseMicroBatch, fits, memoryLimit, stepMemory } from '../model/memory';
import { applyPreset, isPresetApplied, PRESETS } from './presets';
import { UNIT_IDS } from './units';

const byId = (id: string) => PRESETS.find((p) => p.id === id)!;

describe('presets', () => {
  it('are valid links on their own', () => {
    for (const p of PRESETS) expect(parseQuery(p.query).problems, p.id).toEqual([]);
  });

  it('set the network and protocol but keep the unit, its parameters, the dataset and the backend', () => {
    const { config } = parseQuery('unit=scale&shortcutScale=0&dataset=cifar100&backend=wasm&batch=7&lr=0.3&depth=44');
    const c = applyPreset(config, byId('paper-164'));
    expect(c).toMatchObject({ unit: 'scale', shortcutScale: 0, dataset: 'cifar100', backend: 'wasm' });
    expect(c).toMatchObject({ depth: 164, block: 'bottleneck', batch: 128, lr: 0.1, iters: 64_000, warmupIters: 400 });
    expect(isPresetApplied(c, byId('paper-164'))).toBe(true);
    expect(isPresetApplied(c, byId('paper-110'))).toBe(false);
  });

  it('the quick demo trains the embedded set without warm-up', () => {
    const c = applyPreset(parseQuery('').config, byId('demo'));
    expect(c).toMatchObject({ dataset: 'synthetic', depth: 8, warmupIters: 0, iters: 300, milestones: [200] });
    expect(isPresetApplied(c, byId('demo'))).toBe(true);
  });

  it('start on WASM and on WebGPU, with every unit: the memory plan finds a micro-batch, 64 where it fits', () => {
    for (const p of PRESETS)
      for (const unit of UNIT_IDS)
        for (const backend of ['wasm', 'webgpu'] as const) {
          const c = applyPreset(parseQuery(`unit=${unit}`).config, p);
          const choice = chooseMicroBatch(c, memoryLimit(c, backend));
          expect(choice.ok, `${p.id} ${unit} ${backend}`).toBe(true);
          if (choice.ok && fits(stepMemory(c, Math.min(64, c.batch), backend), memoryLimit(c, backend)))
            expect(choice.microBatch).toBe(Math.min(64, c.batch));
        }
  });
});
