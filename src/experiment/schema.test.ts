import { describe, expect, it } from 'vitest';
import { depthProblem, nearestDepth, shapeSummary } from './network';
import { parseQuery, toQuery } from './codec';
import { anyField, applies, BLOCKS, completeSavedConfig, CONFIG_KEYS, configSchema, defaults, SCHEMA } from './schema';
import { UNIT_IDS, UNITS } from './units';

describe('schema table', () => {
  it('gives every key a distinct URL name, a label and a line of help', () => {
    const urls = CONFIG_KEYS.map((k) => SCHEMA[k].url);
    expect(new Set(urls).size).toBe(urls.length);
    for (const k of CONFIG_KEYS) {
      expect(SCHEMA[k].label.length, k).toBeGreaterThan(0);
      expect(SCHEMA[k].help.length, k).toBeGreaterThan(20);
      expect(SCHEMA[k].help, k).not.toContain('\n');
    }
  });

  it('has every default within its own bounds, and the defaults form a valid config', () => {
    for (const k of CONFIG_KEYS) {
      const f = anyField(k);
      expect(f.type.zod.safeParse(f.default).success, `${k} default ${String(f.default)}`).toBe(true);
      const back = f.type.parse(f.type.format(f.default));
      expect(back.ok && f.type.equals(back.value, f.default), `${k} default survives format/parse`).toBe(true);
    }
    expect(configSchema.safeParse(defaults()).success).toBe(true);
  });

  it('uses the paper defaults of NOTES.md', () => {
    const d = defaults();
    expect(d).toMatchObject({
      unit: 'full-preact',
      shortcutScale: 0.5,
      residualScale: 1,
      gateBias: -6,
      dropRate: 0.5,
      depth: 20,
      block: 'basic',
      convsPerUnit: 2,
      dataset: 'cifar10',
      batch: 128,
      lr: 0.1,
      momentum: 0.9,
      nesterov: false,
      wd: 1e-4,
      iters: 64_000,
      milestones: [32_000, 48_000],
      warmupIters: 400,
      warmupLr: 0.01,
      augment: true,
      backend: 'auto', // WebGPU on a GPU, else WASM (src/worker/backends.ts)
    });
  });

  it('keeps the default depth valid for every block form, so a refused depth can always fall back to it', () => {
    for (const block of BLOCKS) {
      for (const convsPerUnit of [1, 2]) {
        expect(depthProblem({ depth: SCHEMA.depth.default, block, convsPerUnit })).toBeNull();
      }
    }
  });

  it('reads microBatch and memoryBudget as auto or a number, and a micro-batch must divide the batch', () => {
    expect(parseQuery('microBatch=auto&memoryBudget=auto').config).toMatchObject({
      microBatch: 'auto',
      memoryBudget: 'auto',
    });
    expect(parseQuery('batch=96&microBatch=32&memoryBudget=12.5').config).toMatchObject({
      microBatch: 32,
      memoryBudget: 12.5,
    });
    expect(parseQuery('microBatch=48').problems).toEqual([
      { key: 'microBatch', value: '48', reason: 'must divide the batch (128): 1, 2, 4, 8, 16, 32, 64 or 128' },
    ]);
    expect(parseQuery('microBatch=lots').problems[0]?.reason).toBe('must be a whole number (or auto)');
    expect(parseQuery('batch=32&microBatch=64').problems[0]?.reason).toBe('must be at most the batch (32)');
    expect(toQuery({ ...defaults(), microBatch: 64, memoryBudget: 16 })).toBe('microBatch=64&memoryBudget=16');
    expect(configSchema.safeParse({ ...defaults(), microBatch: 'some' }).success).toBe(false);
    expect(configSchema.safeParse({ ...defaults(), microBatch: 3 }).success).toBe(false); // rules are checked too
  });

  it('completes a config saved before microBatch existed with what it ran: the whole batch per pass', () => {
    const { microBatch: _m, memoryBudget: _b, ...old } = { ...defaults(), batch: 32 };
    expect(completeSavedConfig(old)).toEqual({ ...defaults(), batch: 32, microBatch: 32 });
    expect(completeSavedConfig({ ...defaults(), microBatch: 8, batch: 32 })).toMatchObject({ microBatch: 8 });
  });

  it('bounds what a link can ask for', () => {
    expect(SCHEMA.depth.type.parse('1203').ok).toBe(false);
    expect(SCHEMA.batch.type.parse('1025').ok).toBe(false);
    expect(SCHEMA.iters.type.parse('1000001').ok).toBe(false);
  });

  it('ties each unit parameter to exactly the units that read it', () => {
    expect(UNIT_IDS).toHaveLength(10);
    for (const id of UNIT_IDS) {
      const c = { ...defaults(), unit: id };
      for (const p of ['shortcutScale', 'residualScale', 'gateBias', 'dropRate'] as const) {
        expect(applies(p, c), `${p} with ${id}`).toBe(UNITS[id].params.includes(p));
      }
    }
    expect(applies('gateBias', { ...defaults(), unit: 'exclusive-gate' })).toBe(true);
    expect(applies('convsPerUnit', { ...defaults(), block: 'bottleneck' })).toBe(false);
  });
});

describe('depth forms (6n+2, 9n+2, 3n+2)', () => {
  it('accepts the paper networks', () => {
    for (const depth of [20, 32, 44, 56, 110, 1202])
      expect(depthProblem({ depth, block: 'basic', convsPerUnit: 2 })).toBeNull();
    for (const depth of [164, 1001]) expect(depthProblem({ depth, block: 'bottleneck', convsPerUnit: 2 })).toBeNull();
    expect(depthProblem({ depth: 110, block: 'basic', convsPerUnit: 1 })).toBeNull();
  });

  it('refuses other depths and names the valid neighbours', () => {
    expect(depthProblem({ depth: 21, block: 'basic', convsPerUnit: 2 })).toMatch(/6n\+2.*20, 26/);
    expect(depthProblem({ depth: 100, block: 'bottleneck', convsPerUnit: 2 })).toMatch(/9n\+2.*92, 101/);
    expect(depthProblem({ depth: 5, block: 'basic', convsPerUnit: 2 })).toMatch(/6n\+2/);
  });

  it('moves a depth to the closest valid one', () => {
    expect(nearestDepth({ depth: 32, block: 'bottleneck', convsPerUnit: 2 })).toBe(29);
    expect(nearestDepth({ depth: 164, block: 'basic', convsPerUnit: 2 })).toBe(164);
    expect(nearestDepth({ depth: 5, block: 'basic', convsPerUnit: 2 })).toBe(8);
  });

  it('counts units and weight layers as the paper does', () => {
    expect(shapeSummary({ depth: 110, block: 'basic', convsPerUnit: 2 })).toEqual({
      unitsPerStage: 18,
      units: 54,
      weightLayers: 110,
    });
    expect(shapeSummary({ depth: 164, block: 'bottleneck', convsPerUnit: 2 })).toEqual({
      unitsPerStage: 18,
      units: 54,
      weightLayers: 164,
    });
    expect(shapeSummary({ depth: 110, block: 'basic', convsPerUnit: 1 })).toEqual({
      unitsPerStage: 36,
      units: 108,
      weightLayers: 110,
    });
  });
});
