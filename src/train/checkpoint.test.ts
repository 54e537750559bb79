import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../experiment/codec';
import { captureCheckpoint, checkpointBytes, restoreCheckpoint, type Checkpoint } from './checkpoint';
import { onWasmWithEmbeddedSet, resolved } from './testing';
import { Trainer } from './trainer';

const data = onWasmWithEmbeddedSet();

const config = (query: string) => {
  const { config, problems } = parseQuery(`dataset=synthetic&warmupIters=0&batch=4&${query}`);
  expect(problems).toEqual([]);
  return resolved(config);
};

// trainSubset=10 with batch 4: epochs end mid-batch, so resuming crosses epoch boundaries. With micro-batches
// too: two passes of 2 (BN running averages updated twice a step), and four of 1 with dropout masks per pass.
const QUERIES = [
  'depth=8&trainSubset=10',
  'depth=8&unit=original&trainSubset=10',
  'depth=8&unit=dropout-shortcut',
  'depth=8&trainSubset=10&microBatch=2',
  'depth=8&unit=dropout-shortcut&microBatch=1',
];

async function steps(t: Trainer, n: number): Promise<number[]> {
  const losses: number[] = [];
  for (let i = 0; i < n; i++) losses.push(await t.step());
  return losses;
}

const arrays = (ts: Checkpoint['params']) => Object.fromEntries(ts.map((s) => [s.name, s.data]));

describe('checkpoints', () => {
  it.each(QUERIES)('round trip is exact: %s', async (query) => {
    const a = new Trainer(config(query), data());
    await steps(a, 2);
    a.setLr(0.05);
    await steps(a, 2);
    const saved = await captureCheckpoint(a);
    expect(saved.params.length).toBe(a.net.variables.size);
    expect(saved.momentum.length).toBe(a.net.trainable.length);
    expect(saved.params.some((p) => p.name.includes('mean'))).toBe(true); // BN running averages included
    const b = new Trainer(config(query), data());
    restoreCheckpoint(b, structuredClone(saved)); // as it comes back from IndexedDB or postMessage
    const again = await captureCheckpoint(b);
    expect(arrays(again.params)).toEqual(arrays(saved.params)); // toEqual on Float32Arrays: element by element
    expect(arrays(again.momentum)).toEqual(arrays(saved.momentum));
    expect(again.params.map((p) => p.shape)).toEqual(saved.params.map((p) => p.shape));
    expect(b.iter).toBe(4);
    expect(b.epoch).toBe(a.epoch);
    expect(b.samplerState()).toEqual(a.samplerState());
    expect(b.lrOverrides).toEqual([{ iter: 2, lr: 0.05 }]);
    expect(b.lr).toBe(a.lr);
    expect({ ...again, params: 0, momentum: 0, savedAt: 0 }).toEqual({ ...saved, params: 0, momentum: 0, savedAt: 0 });
    expect(checkpointBytes(saved)).toBeGreaterThan(
      4 * saved.params.reduce((n, p) => n + p.data.length, 0) +
        4 * saved.momentum.reduce((n, p) => n + p.data.length, 0),
    );
    a.dispose();
    b.dispose();
  });

  it.each(QUERIES)(
    'a resumed run continues the same curve: %s',
    async (query) => {
      const a = new Trainer(config(query), data());
      a.setLr(0.05);
      const straight = await steps(a, 2);
      a.setLr(0.2);
      straight.push(...(await steps(a, 4)));
      a.dispose();

      const b = new Trainer(config(query), data());
      b.setLr(0.05);
      await steps(b, 2);
      b.setLr(0.2);
      await steps(b, 1);
      const saved = await captureCheckpoint(b);
      b.dispose();

      const c = new Trainer(config(query), data());
      restoreCheckpoint(c, saved);
      const resumed = await steps(c, 3);
      c.dispose();
      expect(resumed).toEqual(straight.slice(3)); // bit-identical on WASM
    },
    60_000,
  );

  it('refuses a checkpoint of another network, naming the tensor, and changes nothing', async () => {
    const deep = new Trainer(config('depth=14'), data());
    const saved = await captureCheckpoint(deep);
    deep.dispose();
    const t = new Trainer(config('depth=8'), data());
    await steps(t, 1);
    const before = await captureCheckpoint(t);
    expect(() => restoreCheckpoint(t, saved)).toThrow(/does not fit this network: unexpected parameter "[^"]+"/);
    const shallow = await captureCheckpoint(t);
    const reshaped = {
      ...shallow,
      params: shallow.params.map((p, i) => (i === 0 ? { ...p, shape: [...p.shape, 1] } : p)),
    };
    expect(() => restoreCheckpoint(t, reshaped)).toThrow(
      new RegExp(`parameter "${shallow.params[0]!.name}" has shape \\[.*, 1\\], the network's is`),
    );
    const missing = { ...shallow, momentum: shallow.momentum.slice(1) };
    expect(() => restoreCheckpoint(t, missing)).toThrow(`momentum buffer "${shallow.momentum[0]!.name}" is missing`);
    expect(() => restoreCheckpoint(t, { ...shallow, version: 2 } as unknown as Checkpoint)).toThrow(/version 2/);
    const after = await captureCheckpoint(t);
    expect(arrays(after.params)).toEqual(arrays(before.params));
    expect(t.iter).toBe(1);
    t.dispose();
  });

  it('capture and restore leave the tensor count unchanged', async () => {
    const t = new Trainer(config('depth=8'), data());
    await steps(t, 2);
    const count = tf.memory().numTensors;
    const saved = await captureCheckpoint(t);
    expect(tf.memory().numTensors).toBe(count);
    await steps(t, 1);
    const stepped = tf.memory().numTensors;
    restoreCheckpoint(t, saved);
    expect(tf.memory().numTensors).toBe(stepped);
    expect(t.iter).toBe(2);
    t.dispose();
  });
});
