import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../experiment/codec';
import type { Config } from '../experiment/schema';
import { onWasmWithEmbeddedSet } from '../train/testing';
import { Trainer } from '../train/trainer';
import {
  chooseMicroBatch,
  formatBytes,
  GIB,
  isOutOfMemory,
  memoryLimit,
  outOfMemoryMessage,
  stepMemory,
  WASM_LIMIT,
} from './memory';
import { probeWasmMemory } from './memoryProbe';

const data = onWasmWithEmbeddedSet();

const cfg = (query: string): Config => {
  const { config, problems } = parseQuery(`dataset=synthetic&warmupIters=0&${query}`);
  expect(problems).toEqual([]);
  return config;
};

describe('the memory plan against WASM', () => {
  // Small networks of every kind of op the plan counts: BN, ReLU, convs (strided, 1×1), identity, option-A and
  // projection shortcuts, gates (sigmoid, products), dropout masks, and a step of several micro-batches.
  it.each([
    'depth=8&batch=8&unit=original',
    'depth=11&block=bottleneck&batch=4&unit=full-preact',
    'depth=8&batch=8&unit=exclusive-gate',
    'depth=8&batch=8&microBatch=4&unit=dropout-shortcut',
    'depth=14&batch=8&microBatch=2&unit=conv-shortcut',
  ])('predicts the bytes a warm step holds at its peak within 25%: %s', async (query) => {
    const c = cfg(query);
    const m = c.microBatch === 'auto' ? c.batch : c.microBatch;
    const probe = probeWasmMemory();
    const before = probe.live;
    const t = new Trainer({ ...c, microBatch: m }, data());
    await t.step(); // warm: the first step also builds kernels' caches
    probe.resetPeak();
    await t.step();
    const measured = probe.peak - before;
    // The probe counts tfjs's tensors; XNNPACK's own copies (native) are allocated inside the module, unseen.
    const plan = stepMemory(c, m, 'wasm');
    const predicted = plan.peak - plan.native;
    console.log(`${query}: predicted ${formatBytes(predicted)}, measured ${formatBytes(measured)}`);
    expect(Math.abs(predicted / measured - 1)).toBeLessThan(0.25);
    t.dispose();
    expect(probe.live).toBe(before); // and the trainer gives everything back
  });
});

describe('choosing the micro-batch', () => {
  it('auto: the largest divisor of the batch that fits, at most 64; a small one is said in the note', () => {
    const c = cfg('depth=1001&block=bottleneck');
    const choice = chooseMicroBatch(c, memoryLimit(c, 'wasm'));
    expect(choice.ok).toBe(true);
    if (!choice.ok) return;
    expect(128 % choice.microBatch).toBe(0);
    expect(choice.memory.peak).toBeLessThanOrEqual(WASM_LIMIT);
    expect(stepMemory(c, choice.microBatch * 2, 'wasm').peak).toBeGreaterThan(memoryLimit(c, 'wasm').budget);
    expect(choice.note).toMatch(/^BN sees only \d+ images per pass \(the paper: 64\)\. microBatch auto → \d+: /);
    const small = cfg('depth=20&batch=128');
    expect(chooseMicroBatch(small, memoryLimit(small, 'wasm'))).toMatchObject({
      ok: true,
      microBatch: 64,
      note: expect.stringContaining("at most 64 images per BN, as the paper's 2 GPUs × 64"),
    });
    const whole = cfg('depth=20&batch=32');
    expect(chooseMicroBatch(whole, memoryLimit(whole, 'webgpu'))).toMatchObject({ ok: true, microBatch: 32 });
  });

  it('refuses a config that cannot fit even one image per pass, with the numbers and what to change', () => {
    const c = cfg('depth=1001&block=bottleneck&memoryBudget=0.25');
    const choice = chooseMicroBatch(c, memoryLimit(c, 'wasm'));
    expect(choice).toEqual({
      ok: false,
      reason: expect.stringMatching(
        /^ResNet-1001 \(bottleneck\) cannot train on WASM: one image per pass needs [\d.]+ MiB \([\d.]+ MiB of activations\); the budget is 256 MiB \(memoryBudget=0\.25\): use a smaller depth, or WebGPU with memoryBudget set to your GPU’s memory\.$/,
      ),
    });
  });

  it('refuses a micro-batch set too large, naming the largest that fits', () => {
    const c = cfg('depth=164&block=bottleneck&microBatch=64');
    const limit = memoryLimit(c, 'wasm');
    const choice = chooseMicroBatch(c, limit);
    expect(choice.ok).toBe(false);
    if (choice.ok) return;
    expect(choice.reason).toMatch(
      /^ResNet-164 \(bottleneck\): micro-batches of 64 images need [\d.]+ GiB \([\d.]+ GiB of activations\); WASM allows 3\.6 GiB \(90% of its 4 GiB\): use microBatch ≤ 32 \(or auto\)\.$/,
    );
    expect(chooseMicroBatch({ ...c, microBatch: 32 }, limit)).toMatchObject({ ok: true, microBatch: 32 });
  });

  it("checks WebGPU's largest buffer, and takes memoryBudget as the step's budget there", () => {
    const c = cfg('depth=20&batch=128&microBatch=128&memoryBudget=16');
    const tiny = memoryLimit(c, 'webgpu', { maxBufferSize: 4 * 2 ** 20, maxStorageBufferBindingSize: 128 * 2 ** 20 });
    expect(tiny.budget).toBe(16 * GIB);
    const choice = chooseMicroBatch(c, tiny);
    expect(choice.ok).toBe(false);
    if (!choice.ok)
      expect(choice.reason).toMatch(
        /micro-batches of 128 images need a 8 MiB tensor; it takes WebGPU's 4 MiB per buffer \(maxBufferSize\): use microBatch ≤ 64/,
      );
    // On WASM a larger budget than the module can hold is capped.
    expect(memoryLimit(c, 'wasm').budget).toBeLessThan(WASM_LIMIT);
  });

  it('grows with the micro-batch, and a step of k passes holds one more copy of the gradients', () => {
    const c = cfg('depth=20');
    const [a, b] = [16, 32].map((m) => stepMemory(c, m, 'wasm'));
    expect(b!.activations).toBe(2 * a!.activations);
    const [one, two] = [128, 64].map((m) => stepMemory(c, m, 'wasm').gradients);
    expect(two! / one!).toBeGreaterThan(2);
    expect(two! / one!).toBeLessThan(2.2); // the sum, and one parameter’s new sum while it is added
    expect(tf.getBackend()).toBe('wasm');
  });

  it('names running out of memory in tfjs’s words, and says what the plan expected and what to change', () => {
    expect(isOutOfMemory('memory access out of bounds')).toBe(true);
    expect(isOutOfMemory('Aborted(). Build with -sASSERTIONS for more info.')).toBe(true);
    expect(isOutOfMemory('Array buffer allocation failed')).toBe(true);
    expect(isOutOfMemory('Invalid typed array length: 67108864')).toBe(true);
    expect(isOutOfMemory('device lost')).toBe(false);
    const c = cfg('depth=20&batch=128');
    const limit = memoryLimit(c, 'wasm');
    const choice = chooseMicroBatch(c, limit);
    if (!choice.ok) throw new Error(choice.reason);
    expect(outOfMemoryMessage('Aborted(). Build with -sASSERTIONS for more info.', 3, choice, limit)).toMatch(
      /^ran out of memory at iteration 3 on WASM \(its module aborted\), although/,
    );
    expect(outOfMemoryMessage('Invalid typed array length: 67108864', 3, choice, limit)).toMatch(
      /^ran out of memory at iteration 3 on WASM \(its heap had no room for the next tensor\), although/,
    );
    expect(outOfMemoryMessage('memory access out of bounds\n    at wasm-function', 12, choice, limit)).toBe(
      `ran out of memory at iteration 12 on WASM (memory access out of bounds), although the plan put a step of 64 images per pass at ${formatBytes(choice.memory.peak)} and WASM allows 3.6 GiB (90% of its 4 GiB); the curves and the last checkpoint are kept: start it again with microBatch 32`,
    );
  });
});
