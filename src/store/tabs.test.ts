import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseQuery } from '../experiment/codec';
import type { TrainPoint } from '../experiment/record';
import { loadRun, resetDbForTests, saveCheckpoint } from '../persist/db';
import { RunLocks } from '../persist/runLocks';
import { lockOrigin } from '../persist/testing';
import { syncWithDatabase } from './persistence';
import { createPlaygroundStore } from './playground';
import { syncWithEngine } from './sync';
import { RUNS_CHANNEL, syncWithTabs } from './tabs';
import { fakeEngine, SYNTHETIC } from './testing';

const point = (iter: number): TrainPoint => ({
  iter,
  epoch: iter / 100,
  loss: 2 / iter,
  lr: 0.1,
  imagesPerSec: 1,
  elapsedMs: iter,
});

type Origin = ReturnType<typeof lockOrigin>;
const open: { close(): void }[] = [];

/**
 * One tab of the page as main.tsx wires it (store, worker, run locks, channel, database), with a fake worker the
 * test answers for. Tabs share the fake IndexedDB, one origin's locks and Node's BroadcastChannel.
 */
async function openTab(origin: Origin) {
  const { engine, reply: worker, starts } = fakeEngine();
  const lockTab = origin.tab();
  const locks = new RunLocks(lockTab.locks);
  const { config } = parseQuery('dataset=synthetic&depth=8');
  const store = createPlaygroundStore(config);
  store.setState({ locks });
  syncWithEngine(store, engine);
  const channel = new BroadcastChannel(RUNS_CHANNEL);
  const offTabs = syncWithTabs(store, engine, channel);
  const offDb = await syncWithDatabase(store, locks, 20);
  store.getState().setDatasets([SYNTHETIC]);
  const tab = {
    store,
    s: () => store.getState(),
    worker,
    starts,
    run: (id: string) => store.getState().runs.find((r) => r.id === id),
    /** Starts a run and waits until this tab holds its lock. */
    async start() {
      expect(store.getState().startRun()).toBeNull();
      const id = store.getState().runs.at(-1)!.id;
      await expect.poll(() => store.getState().owned[id]).toBe(true);
      worker({ type: 'run-status', runId: id, status: 'running' });
      return id;
    },
    train(id: string, from: number, to: number) {
      for (let i = from; i <= to; i++) worker({ type: 'run-train', runId: id, point: point(i) });
    },
    /** The tab goes away as a closed or crashed tab does: no final status, its locks released by the browser. */
    close() {
      offTabs();
      offDb();
      channel.close();
      lockTab.close();
    },
  };
  open.push(tab);
  return tab;
}

const iters = (r?: { train: TrainPoint[] }) => r?.train.map((p) => p.iter) ?? [];
const stored = async (id: string) => (await loadRun(id))?.status;

beforeEach(resetDbForTests);
afterEach(async () => {
  for (const t of open.splice(0)) t.close();
  await resetDbForTests();
});

describe('a run belongs to the tab that trains it', () => {
  it('another tab shows it live, can neither resume, delete nor write it, and trains its own run beside it', async () => {
    const origin = lockOrigin();
    const a = await openTab(origin);
    const id = await a.start();
    a.train(id, 1, 5);
    a.worker({ type: 'run-checkpoint', runId: id, checkpoint: { iter: 5, bytes: 100, savedAt: 1 } });
    await expect.poll(() => stored(id)).toBe('running');

    const b = await openTab(origin);
    await expect.poll(() => b.s().elsewhere[id]).toBe(true);
    await expect.poll(() => iters(b.run(id))).toEqual([1, 2, 3, 4, 5]);
    expect(b.run(id)!.status).toBe('running');
    expect(b.s().checkpoints[id]?.iter).toBe(5);
    a.train(id, 6, 9);
    await expect.poll(() => iters(b.run(id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);

    expect(await b.s().resumeFromCheckpoint(id)).toBe('this run is training in another tab');
    b.s().deleteRun(id);
    expect(b.run(id)).toBeDefined();
    // A change of B's copy (hiding it) is not written: only A writes the run.
    b.s().setRunVisible(id, false);
    await new Promise((r) => setTimeout(r, 100));
    expect((await loadRun(id))?.visible).toBe(true);

    // B trains a run of its own at the same time; A's run does not count as B's.
    const mine = await b.start();
    expect(b.starts()).toHaveLength(1);
    expect(a.s().elsewhere[mine]).toBe(true);
    expect(a.starts()).toHaveLength(1);
  });

  it('closing the tab mid-run makes the run interrupted in the other tab, whole, and resumable there', async () => {
    const origin = lockOrigin();
    const a = await openTab(origin);
    const id = await a.start();
    a.train(id, 1, 3);
    a.worker({ type: 'run-checkpoint', runId: id, checkpoint: { iter: 3, bytes: 100, savedAt: 1 } });
    const b = await openTab(origin);
    await expect.poll(() => iters(b.run(id))).toEqual([1, 2, 3]);
    await expect.poll(() => stored(id)).toBe('running');
    // Points the closing tab sent but never saved: the other tab has them, and keeps them.
    a.train(id, 4, 7);
    await expect.poll(() => iters(b.run(id))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    a.close();

    await expect.poll(() => b.run(id)?.status).toBe('interrupted');
    expect(b.s().elsewhere[id]).toBeUndefined();
    expect(iters(b.run(id))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const saved = await loadRun(id);
    expect(saved?.status).toBe('interrupted');
    expect(iters(saved)).toEqual([1, 2, 3, 4, 5, 6, 7]);

    expect(await b.s().resumeFromCheckpoint(id)).toBeNull();
    expect(b.starts()).toEqual([expect.objectContaining({ runId: id, resume: true })]);
    expect(b.s().owned[id]).toBe(true);
  });

  it('a run that ends in its tab is shown ended, not interrupted, and may then be deleted from another tab', async () => {
    const origin = lockOrigin();
    const a = await openTab(origin);
    const id = await a.start();
    a.train(id, 1, 4);
    const b = await openTab(origin);
    await expect.poll(() => b.s().elsewhere[id]).toBe(true);
    a.worker({ type: 'run-status', runId: id, status: 'finished' });
    await expect.poll(() => b.s().elsewhere[id]).toBeUndefined();
    expect(b.run(id)?.status).toBe('finished');
    expect(a.s().owned[id]).toBeUndefined();
    expect(await stored(id)).toBe('finished');

    b.s().deleteRun(id);
    await expect.poll(() => a.run(id)).toBeUndefined();
    await expect.poll(() => stored(id)).toBeUndefined();
    // A does not write it back from its own copy.
    a.s().setChart({ logLoss: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(await stored(id)).toBeUndefined();
  });

  it('at load, an active run whose lock is free is interrupted; one whose lock is held is live', async () => {
    const origin = lockOrigin();
    const a = await openTab(origin);
    const gone = await a.start();
    a.train(gone, 1, 2);
    await expect.poll(() => stored(gone)).toBe('running');
    a.close();
    const c = await openTab(origin);
    const live = await c.start();
    await expect.poll(() => stored(live)).toBe('running');

    const b = await openTab(origin);
    expect(b.run(gone)?.status).toBe('interrupted');
    await expect.poll(() => stored(gone)).toBe('interrupted');
    expect(b.run(live)?.status).toBe('running');
    expect(b.s().elsewhere[live]).toBe(true);
  });

  it('two tabs pressing Resume on the same interrupted run: one trains it, the other is told why not', async () => {
    const origin = lockOrigin();
    const a = await openTab(origin);
    const id = await a.start();
    await saveCheckpoint(id, { iter: 1, savedAt: 1 }); // as A's worker does
    await expect.poll(() => stored(id)).toBe('running');
    a.close();
    const [b, c] = [await openTab(origin), await openTab(origin)];
    for (const t of [b, c]) await expect.poll(() => t.run(id)?.status).toBe('interrupted');
    const answers = await Promise.all([b.s().resumeFromCheckpoint(id), c.s().resumeFromCheckpoint(id)]);
    expect(answers.sort()).toEqual([null, 'this run is training in another tab'].sort());
    expect(b.starts().length + c.starts().length).toBe(1);
  });
});
