import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaults } from '../experiment/schema';
import {
  checkpointInfo,
  deleteCheckpoint,
  deleteRun,
  loadCheckpoint,
  loadRun,
  loadRuns,
  payloadBytes,
  resetDbForTests,
  saveCheckpoint,
  saveRun,
  StorageFullError,
} from './db';
import type { RunRecord } from '../experiment/record';
import { RunLocks } from './runLocks';
import { lockOrigin } from './testing';

// This test file is one tab: it holds each run's lock while it writes the run.
const locks = new RunLocks(null);
const lease = async (id: string) => locks.held(id) ?? (await locks.claim(id))!;
const save = async (r: RunRecord, previous?: RunRecord) => saveRun(await lease(r.id), r, previous);
const remove = async (id: string) => deleteRun(await lease(id));

function run(id: string, startedAt: number, change: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    config: { ...defaults(), depth: 32 },
    status: 'finished',
    info: {
      backend: 'wasm',
      adapter: null,
      fallbacks: [{ backend: 'webgpu', error: 'no adapter' }],
      trainableParams: 464_154,
      trainImages: 50_000,
      testImages: 10_000,
    },
    train: [
      { iter: 10, epoch: 0.02, loss: 2.3, lr: 0.01, imagesPerSec: 120, elapsedMs: 1000 },
      { iter: 20, epoch: 0.05, loss: Infinity, lr: 0.01, imagesPerSec: 118, elapsedMs: 2000 },
    ],
    evals: [{ iter: 20, epoch: 0.05, testError: 0.9, testLoss: NaN, tensors: 12, elapsedMs: 2500 }],
    lrChanges: [{ iter: 15, lr: 0.001 }],
    startedAt,
    visible: true,
    color: 3,
    ...change,
  };
}

function checkpoint(iter: number, floats = 1000) {
  return {
    version: 1 as const,
    iter,
    epoch: iter / 390,
    savedAt: 1_700_000_000_000 + iter,
    params: [{ name: 'conv0/w', shape: [floats], data: new Float32Array(floats).fill(iter) }],
    momentum: [{ name: 'conv0/w', shape: [floats], data: new Float32Array(floats) }],
  };
}

/** Makes the next put fail the way a full disk does; `how` picks the shape browsers report it in. */
function failNextPut(how: 'throw' | 'abort') {
  const original = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
    IDBObjectStore.prototype.put = original;
    if (how === 'throw') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    const request = original.apply(this, args);
    // fake-indexeddb's internal abort (as the engine does when a commit hits the quota): the transaction's
    // error is QuotaExceededError while its requests only see AbortError.
    (this.transaction as unknown as { _abort(name: string): void })._abort('QuotaExceededError');
    return request;
  };
  return () => {
    IDBObjectStore.prototype.put = original;
  };
}

beforeEach(resetDbForTests);
afterEach(resetDbForTests);

describe('runs', () => {
  it('saves, loads (ordered by start) and deletes runs, keeping non-finite losses', async () => {
    await save(run('b', 2000));
    await save(run('a', 1000, { status: 'interrupted', message: 'page closed' }));
    await save(run('c', 3000));
    const loaded = await loadRuns();
    expect(loaded.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(loaded[1]).toEqual(run('b', 2000));
    expect(loaded[1]!.train[1]!.loss).toBe(Infinity);
    expect(loaded[1]!.evals[0]!.testLoss).toBeNaN();
    expect(loaded[0]!.status).toBe('interrupted');

    await save(run('b', 2000, { status: 'stopped' }));
    expect((await loadRuns()).find((r) => r.id === 'b')!.status).toBe('stopped');

    await remove('b');
    expect((await loadRuns()).map((r) => r.id)).toEqual(['a', 'c']);
  });

  it('deleteRun removes the run and its checkpoint together', async () => {
    await save(run('a', 1));
    await save(run('b', 2));
    await saveCheckpoint('a', checkpoint(100));
    await saveCheckpoint('b', checkpoint(200));
    await remove('a');
    expect(await loadCheckpoint('a')).toBeUndefined();
    expect((await checkpointInfo()).map((c) => c.runId)).toEqual(['b']);
    expect((await loadCheckpoint('b'))?.iter).toBe(200);
  });
});

describe('one writer per run', () => {
  it('refuses to write or delete a run without its lock, and while another tab holds it', async () => {
    const origin = lockOrigin();
    const [a, b] = [new RunLocks(origin.tab().locks), new RunLocks(origin.tab().locks)];
    const leaseA = (await a.claim('r'))!;
    await saveRun(leaseA, run('r', 1, { status: 'running' }));
    // Tab B cannot take the lock while A trains the run, and a lease for another run is no lease for this one.
    expect(await b.claim('r')).toBeNull();
    expect(await b.withLease('r', async () => 'written')).toBeNull();
    const other = (await b.claim('s'))!;
    const refused = /^Run r was not written: this tab does not hold its lock \(another tab may be training it\)\.$/;
    await expect(saveRun(other, run('r', 1, { status: 'interrupted' }))).rejects.toThrow(refused);
    expect((await loadRun('r'))?.status).toBe('running');
    // A released lease writes nothing either; once A lets go, B may write.
    leaseA.release();
    await expect(saveRun(leaseA, run('r', 1, { status: 'finished' }))).rejects.toThrow(refused);
    await expect(deleteRun(leaseA)).rejects.toThrow(refused);
    expect(await b.withLease('r', (l) => saveRun(l, run('r', 1, { status: 'interrupted' })))).toEqual({
      value: undefined,
    });
    expect(await loadRun('r')).toEqual(run('r', 1, { status: 'interrupted' }));
    expect(await loadRun('absent')).toBeUndefined();
  });
});

describe('checkpoints', () => {
  it('round-trips a checkpoint with its typed arrays, replaces it, and deletes it', async () => {
    const c = checkpoint(400);
    await saveCheckpoint('r', c);
    const back = await loadCheckpoint<ReturnType<typeof checkpoint>>('r');
    expect(back).toEqual(c);
    expect(back!.params[0]!.data).toBeInstanceOf(Float32Array);

    await saveCheckpoint('r', checkpoint(800));
    expect((await loadCheckpoint('r'))?.iter).toBe(800);
    expect(await checkpointInfo()).toEqual([{ runId: 'r', iter: 800, bytes: 8000, savedAt: c.savedAt + 400 }]);

    await deleteCheckpoint('r');
    expect(await loadCheckpoint('r')).toBeUndefined();
    expect(await checkpointInfo()).toEqual([]);
  });

  it('checkpointInfo reads only the meta records, never the payloads', async () => {
    await saveCheckpoint('x', checkpoint(10, 250_000), 123);
    await saveCheckpoint('y', checkpoint(20));
    const read: string[] = [];
    const getAll = IDBObjectStore.prototype.getAll;
    IDBObjectStore.prototype.getAll = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['getAll']>) {
      read.push(this.name);
      return getAll.apply(this, args);
    };
    try {
      const info = await checkpointInfo();
      expect(info).toEqual([
        { runId: 'x', iter: 10, bytes: 123, savedAt: 1_700_000_000_010 },
        { runId: 'y', iter: 20, bytes: 8000, savedAt: 1_700_000_000_020 },
      ]);
    } finally {
      IDBObjectStore.prototype.getAll = getAll;
    }
    expect(read).toEqual(['checkpointMeta']);
  });

  it('payloadBytes counts the typed arrays', () => {
    expect(payloadBytes(checkpoint(1, 10))).toBe(80);
    expect(payloadBytes({ a: 1, b: 'x', c: null })).toBe(0);
  });
});

describe('a full disk', () => {
  for (const how of ['throw', 'abort'] as const) {
    it(`(${how}) throws StorageFullError and keeps the previous record and a working database`, async () => {
      const before = run('a', 1);
      await save(before);
      const restore = failNextPut(how);
      try {
        const error = await save(run('a', 1, { status: 'stopped', train: [] })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageFullError);
        expect((error as Error).message).toMatch(/storage is full/i);
      } finally {
        restore();
      }
      expect(await loadRuns()).toEqual([before]);

      await save(run('a', 1, { status: 'stopped' }));
      await save(run('b', 2));
      expect((await loadRuns()).map((r) => [r.id, r.status])).toEqual([
        ['a', 'stopped'],
        ['b', 'finished'],
      ]);
    });
  }

  it('a checkpoint that does not fit leaves the previous checkpoint and its meta record', async () => {
    await saveCheckpoint('r', checkpoint(100));
    const restore = failNextPut('abort');
    try {
      await expect(saveCheckpoint('r', checkpoint(200))).rejects.toBeInstanceOf(StorageFullError);
    } finally {
      restore();
    }
    expect((await loadCheckpoint('r'))?.iter).toBe(100);
    expect((await checkpointInfo()).map((c) => c.iter)).toEqual([100]);
  });

  it('other failures say what was being done', async () => {
    const original = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = () => {
      throw new DOMException('cannot clone', 'DataCloneError');
    };
    try {
      const error = await save(run('z', 1)).catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(StorageFullError);
      expect((error as Error).message).toBe('Could not save run z in browser storage (DataCloneError: cannot clone).');
    } finally {
      IDBObjectStore.prototype.put = original;
    }
    expect(await loadRuns()).toEqual([]);
  });
});

describe('long histories', () => {
  beforeEach(resetDbForTests);
  afterEach(resetDbForTests);

  const point = (iter: number) => ({
    iter,
    epoch: iter / 390,
    loss: 1 / iter,
    lr: 0.1,
    imagesPerSec: 1,
    elapsedMs: iter,
  });

  it('a grown history rewrites only its newest chunk; a replaced one is rewritten whole', async () => {
    const first = run('long', 1, { train: Array.from({ length: 3000 }, (_, i) => point(i + 1)) });
    await save(first);
    const grown = { ...first, train: [...first.train, point(3001), point(3002)] };
    const puts: unknown[] = [];
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      puts.push(value);
      return put.call(this, value, key);
    };
    try {
      await save(grown, first);
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    // The record and the chunk holding points 2048… (1024 points per chunk): not the 3,000 points before.
    const chunks = puts.filter((v) => (v as { kind?: string }).kind === 'train') as {
      index: number;
      points: unknown[];
    }[];
    expect(chunks.map((c) => [c.index, c.points.length])).toEqual([[2, 954]]);
    expect((await loadRuns())[0]!.train).toEqual(grown.train);

    // A resumed run's history is replaced by the checkpoint's, shorter one: no stale chunk may survive.
    const resumed = { ...grown, train: grown.train.slice(0, 500).map((p) => ({ ...p })) };
    await save(resumed, grown);
    expect((await loadRuns())[0]!.train).toEqual(resumed.train);
    await remove('long');
    expect(await loadRuns()).toEqual([]);
  });

  it("a run's errors are chunked small and its gallery is written once, beside the record", async () => {
    const errors = (iter: number) => ({
      iter,
      confusion: Array.from({ length: 100 }, (_, i) => (i % 11 === 0 ? iter : 0)),
      predicted: [1, 2, 3],
      confidence: [0.5, 0.25, 1],
    });
    const gallery = {
      classNames: Array.from({ length: 10 }, (_, i) => `class ${i}`),
      classCounts: Array.from({ length: 10 }, () => 3),
      labels: [1, 2, 4],
      pixels: new Uint8Array(3 * 3072).map((_, i) => i % 251),
    };
    const first = run('err', 1, { errors: Array.from({ length: 40 }, (_, i) => errors(i + 1)), gallery });
    await save(first);
    const loaded = (await loadRuns())[0]!;
    expect(loaded.errors).toEqual(first.errors);
    expect(loaded.gallery).toEqual(gallery);
    expect(loaded.gallery!.pixels).toBeInstanceOf(Uint8Array);

    const grown = { ...first, errors: [...first.errors!, errors(41)], train: [...first.train] };
    const puts: { kind?: string; index?: number; points?: unknown[] }[] = [];
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      puts.push(value as (typeof puts)[number]);
      return put.call(this, value, key);
    };
    try {
      await save(grown, first);
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    // 16 points per errors chunk: the third (points 33…41) is rewritten; the gallery is not.
    expect(puts.filter((v) => v.kind === 'errors').map((c) => [c.index, c.points!.length])).toEqual([[2, 9]]);
    expect(puts.some((v) => v.kind === 'gallery')).toBe(false);
    expect((await loadRuns())[0]!.errors).toEqual(grown.errors);

    await remove('err');
    expect(await loadRuns()).toEqual([]);
    await save(run('plain', 1));
    expect((await loadRuns())[0]).not.toHaveProperty('gallery');
  });
});
