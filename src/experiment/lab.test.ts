import { describe, expect, it } from 'vitest';
import { parseQuery } from './codec';
import { experimentKey, LAB, rowConfig, seedStats } from './lab';
import { UNITS } from './units';
import { chooseMicroBatch, fits, memoryLimit, stepMemory } from '../model/memory';

describe('paper lab', () => {
  it('every row is a valid link, and rows of one experiment differ', () => {
    for (const e of LAB) {
      for (const r of e.rows) expect(parseQuery(r.query).problems, `${e.id}: ${r.label}`).toEqual([]);
      const keys = e.rows.map((r) => experimentKey(rowConfig(r, { quick: false, seed: 1 })));
      expect(new Set(keys).size, e.id).toBe(keys.length);
    }
  });

  it('every row starts on WASM and on WebGPU; rows that say microBatch=64 fit it on WASM, the others cannot', () => {
    for (const e of LAB)
      for (const r of e.rows)
        for (const quick of [false, true]) {
          const c = rowConfig(r, { quick, seed: 1 });
          const at64 = (backend: 'wasm' | 'webgpu') => fits(stepMemory(c, 64, backend), memoryLimit(c, backend));
          for (const backend of ['wasm', 'webgpu'] as const)
            expect(chooseMicroBatch(c, memoryLimit(c, backend)).ok, `${e.id} ${r.label} ${backend}`).toBe(true);
          if (c.microBatch === 64) expect(at64('wasm'), `${e.id} ${r.label}: 64 fits WASM`).toBe(true);
          else if (!quick) expect(at64('wasm'), `${e.id} ${r.label}: could say microBatch=64`).toBe(false);
        }
  });

  it("rows carry the paper's numbers, consistent with the unit registry", () => {
    const t2 = LAB.find((e) => e.id === 'table2')!;
    for (const r of t2.rows) {
      const c = parseQuery(r.query).config;
      const paper = UNITS[c.unit].paper.find((p) => p.depth === c.depth);
      expect(paper?.error, r.label).toBe(r.paper);
    }
    const paperOf = (id: string, label: string) =>
      LAB.find((e) => e.id === id)!.rows.find((r) => r.label === label)!.paper;
    expect(paperOf('table2', 'bn-after-add · ResNet-110')).toBe(8.17);
    expect(paperOf('table2', 'full-preact · ResNet-164')).toBe(5.46);
    expect(paperOf('fig1', 'original · ResNet-1001')).toBe(7.61);
    expect(paperOf('fig3', '(d) 1×1 conv shortcut')).toBe(12.22);
    expect(paperOf('fig6', 'BN after addition · ResNet-110')).toBe(8.17);
    const t1 = LAB.find((e) => e.id === 'table1')!;
    expect(t1.rows.filter((r) => r.paper === null)).toHaveLength(4); // λ=0; λ=0.5,s=1; b_g=0; dropout
    expect(t1.rows.find((r) => r.label === '1×1 conv shortcut')!.paper).toBe(12.22);
  });

  it('the paper protocol by default; quick runs a tenth of it and 56 layers for basic 110', () => {
    const row = LAB.find((e) => e.id === 'table1')!.rows[0]!;
    expect(rowConfig(row, { quick: false, seed: 3 })).toMatchObject({ depth: 110, iters: 64_000, batch: 128, seed: 3 });
    expect(rowConfig(row, { quick: true, seed: 1 })).toMatchObject({
      depth: 56,
      iters: 6400,
      milestones: [3200, 4800],
    });
    const big = LAB.find((e) => e.id === 'fig1')!.rows[0]!;
    expect(rowConfig(big, { quick: true, seed: 1 })).toMatchObject({ depth: 1001, iters: 6400 });
  });

  it('seeds of one experiment share a key', () => {
    const row = LAB[0]!.rows[3]!;
    expect(experimentKey(rowConfig(row, { quick: false, seed: 1 }))).toBe(
      experimentKey(rowConfig(row, { quick: false, seed: 5 })),
    );
  });

  it('summarises seeds as median with mean ± std', () => {
    expect(seedStats([])).toBeNull();
    expect(seedStats([7])).toEqual({ n: 1, median: 7, mean: 7, std: 0 });
    const s = seedStats([6.5, 6.1, 7.3, 6.4, 6.2])!;
    expect(s.median).toBe(6.4);
    expect(s.mean).toBeCloseTo(6.5, 12);
    expect(s.std).toBeCloseTo(Math.sqrt((0 + 0.16 + 0.64 + 0.01 + 0.09) / 4), 12);
    expect(seedStats([1, 2, 3, 10])!.median).toBe(2.5);
  });
});
