import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withKeysTable } from '../src/experiment/docs';

const root = new URL('..', import.meta.url).pathname;
const summary = (link: string, ...flags: string[]) =>
  JSON.parse(
    execFileSync('npm', ['run', '--silent', 'summary', '--', link, ...flags], { cwd: root, encoding: 'utf8' }),
  );

describe('npm run summary', () => {
  it('prints the resolved config, no problems and the canonical query of a good link', () => {
    const out = summary('unit=full-preact&depth=110&batch=64');
    expect(out.config).toMatchObject({ unit: 'full-preact', depth: 110, batch: 64 });
    expect(out.problems).toEqual([]);
    expect(out.shareQuery).toBe('depth=110&batch=64');
    expect(summary(out.shareQuery).config).toEqual(out.config);
    expect(out.model).toEqual({
      params: 1_736_058,
      trainableParams: 1_727_962,
      units: 54,
      weightLayers: 110,
      block: 'basic',
    });
  });

  it('counts a ResNet-1001 from shapes', () => {
    const out = summary('block=bottleneck&depth=1001');
    expect(out.model).toMatchObject({
      trainableParams: 10_327_706,
      units: 333,
      weightLayers: 1001,
      block: 'bottleneck',
    });
  });

  it('gives the memory of a step per backend: the micro-batch a run would use, the largest that fits, or the refusal', () => {
    const out = summary('block=bottleneck&depth=1001');
    const wasm = out.memory.backends.wasm;
    expect(out.memory).toMatchObject({ batch: 128, microBatch: 'auto' });
    expect(wasm.budgetBytes).toBeLessThan(4 * 2 ** 30);
    expect(wasm.microBatch).toBe(wasm.largestMicroBatch);
    expect(wasm.stepBytes).toBeLessThanOrEqual(wasm.budgetBytes);
    expect(Object.values(wasm.breakdown as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(wasm.stepBytes);
    expect(wasm.note).toMatch(/^BN sees only \d+ images per pass \(the paper: 64\)\. microBatch auto → \d+/);
    const fixed = summary('block=bottleneck&depth=1001&microBatch=64').memory.backends.wasm;
    expect(fixed.microBatch).toBeNull();
    expect(fixed.stepBytes).toBeGreaterThan(fixed.budgetBytes);
    expect(fixed.note).toMatch(
      /^ResNet-1001 \(bottleneck\): micro-batches of 64 images need [\d.]+ GiB .*: use microBatch ≤ \d+ \(or auto\)\.$/,
    );
  });

  it('lists each problem of a bad link, still prints a config and exits 0', () => {
    const out = summary('http://localhost:4173/?depth=abc&unit=nope&batch=-1&zzz=1');
    expect(out.problems).toHaveLength(4);
    expect(out.config.depth).toBe(20);
  });

  it('adds the network plan (planVersion 1) with --plan, and only then', () => {
    expect(summary('depth=8')).not.toHaveProperty('plan');
    const out = summary('unit=shortcut-gate&gateBias=-3&depth=8', '--plan');
    expect(out.plan).toMatchObject({ planVersion: 1, link: '/?unit=shortcut-gate&gateBias=-3&depth=8', classes: 10 });
    expect(out.plan.config).toEqual(out.config);
    expect(out.plan.units).toHaveLength(3);
    expect(out.plan.units[1]).toMatchObject({
      name: 's2.u0',
      stride: 2,
      shortcut: 'shortcut-gate',
      shortcutParams: { gateBias: -3 },
      downsample: { kind: 'zero-pad', stride: 2, extraChannels: 16 },
      gate: { conv: { op: 'conv', w: 's2.u0.gate.w', k: 1, stride: 2, cin: 16, cout: 32 }, bias: 's2.u0.gate.b' },
    });
    expect(out.plan.params.find((p: { name: string }) => p.name === 's2.u0.gate.b')).toEqual({
      name: 's2.u0.gate.b',
      shape: [32],
      init: { kind: 'constant', value: -3 },
      trainable: true,
      role: 'gate-bias',
    });
  });

  it('adds the signal profile at initialisation with --signal, and only then', () => {
    expect(summary('dataset=synthetic&depth=8')).not.toHaveProperty('signal');
    const out = summary('dataset=synthetic&depth=8', '--signal', '--batch', '4');
    expect(out.config).toMatchObject({ dataset: 'synthetic', depth: 8 });
    expect(out.signal).toMatchObject({ source: 'embedded synthetic set (test)', images: 4 });
    expect(out.signal.units).toHaveLength(3);
    expect(out.signal.backwardRatio).toBeCloseTo(out.signal.units[0].backward / out.signal.units[2].backward, 10);
  });
});

describe('README', () => {
  it('lists the URL keys exactly as the schema defines them (npm run docs:keys)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toBe(withKeysTable(readme));
  });
});
