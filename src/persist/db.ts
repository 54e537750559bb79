/**
 * Runs and their checkpoints in IndexedDB, so they survive a reload. Opened by the page (run records) and by the
 * engine worker (checkpoints), hence no DOM here: only the `indexedDB` global. Kept apart from the datasets
 * database so that clearing one never touches the other.
 *
 * Every write is one transaction: a run's record, or a checkpoint with its meta record, lands whole or not at
 * all, and a failed write leaves the previous version in place. A run is written only by the tab that holds its
 * lock (runLocks.ts): a second writer of the same run is refused.
 */
import { deleteDB, openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { RunRecord } from '../experiment/record';
import { completeSavedConfig } from '../experiment/schema';
import type { RunLease } from './runLocks';

export const RUNS_DB_NAME = 'identity-mappings-runs';
const VERSION = 2;

/**
 * A run's histories are stored in chunks of CHUNK points beside its record, so saving a long run rewrites only
 * its newest chunk: a 64,000-point history is never cloned whole on the page's thread once a second.
 */
export const HISTORY_KINDS = ['train', 'evals', 'lrChanges', 'signals', 'errors'] as const;
type HistoryKind = (typeof HISTORY_KINDS)[number];
export const CHUNK = 1024;
/**
 * An error point holds a confusion matrix (100 counts on CIFAR-10, 10,000 on CIFAR-100) and the gallery's
 * predictions: its chunks are small, so one evaluation rewrites at most ERRORS_CHUNK of them.
 */
export const ERRORS_CHUNK = 16;
const chunkOf = (kind: HistoryKind) => (kind === 'errors' ? ERRORS_CHUNK : CHUNK);

/**
 * The gallery (its pixels: 256 test images, 786 KB) is the same at every evaluation: it sits in the history store
 * as one chunk of its own kind, written when it changes (once per run), never with the once-a-second record.
 */
const GALLERY = 'gallery';

interface HistoryChunk {
  runId: string;
  kind: HistoryKind | typeof GALLERY;
  index: number;
  points: unknown[];
}

const historyOf = (run: RunRecord, kind: HistoryKind): readonly unknown[] => run[kind] ?? [];
/** Every chunk key of a run: [runId] sorts before [runId, kind, index], and [runId, []] after (arrays follow strings). */
const runRange = (runId: string) => IDBKeyRange.bound([runId], [runId, []]);
const kindRange = (runId: string, kind: HistoryKind) => IDBKeyRange.bound([runId, kind], [runId, kind, Infinity]);

/** The least a checkpoint must carry; the rest (weights, momentum, sampler state) is opaque here. */
export interface CheckpointLike {
  iter: number;
  savedAt: number;
}

/** What the checkpoint store holds; the caller (src/train/checkpoint.ts) knows the full type. */
export type StoredCheckpoint = CheckpointLike;

export interface CheckpointInfo {
  runId: string;
  iter: number;
  bytes: number;
  savedAt: number;
}

interface CheckpointRecord {
  runId: string;
  checkpoint: CheckpointLike;
}

interface RunsSchema extends DBSchema {
  runs: { key: string; value: RunRecord };
  history: { key: [string, string, number]; value: HistoryChunk };
  checkpoints: { key: string; value: CheckpointRecord };
  /** Small records beside the payloads, so listing checkpoints never reads megabytes of weights. */
  checkpointMeta: { key: string; value: CheckpointInfo };
}

type Store = StoreNames<RunsSchema>;
type WriteTx = IDBPTransaction<RunsSchema, Store[], 'readwrite'>;

export class StorageFullError extends Error {
  override readonly name = 'StorageFullError';
  constructor(
    message = "Browser storage is full: the run's latest state was not saved. Delete runs or checkpoints to free space.",
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

let connection: Promise<IDBPDatabase<RunsSchema>> | null = null;

function open(): Promise<IDBPDatabase<RunsSchema>> {
  const opening = openDB<RunsSchema>(RUNS_DB_NAME, VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore('runs', { keyPath: 'id' });
        db.createObjectStore('checkpoints', { keyPath: 'runId' });
        db.createObjectStore('checkpointMeta', { keyPath: 'runId' });
      }
      if (oldVersion < 2) db.createObjectStore('history', { keyPath: ['runId', 'kind', 'index'] });
    },
    // Another context (a newer page, or a delete) needs the database: let go so it is not blocked forever.
    blocking() {
      void opening.then((db) => db.close());
      if (connection === opening) connection = null;
    },
    terminated() {
      if (connection === opening) connection = null;
    },
  });
  return opening;
}

async function database(): Promise<IDBPDatabase<RunsSchema>> {
  if (typeof indexedDB === 'undefined') {
    throw new Error('This browser has no IndexedDB: runs cannot be kept across reloads.');
  }
  connection ??= open();
  try {
    return await connection;
  } catch (e) {
    connection = null;
    throw describe(e, 'open the runs database');
  }
}

function isQuota(e: unknown): boolean {
  return e instanceof Error && (e.name === 'QuotaExceededError' || e.name === 'NS_ERROR_DOM_QUOTA_REACHED');
}

/** A quota failure becomes StorageFullError; anything else an Error that says what was being done. */
function describe(e: unknown, doing: string, txError?: DOMException | null): Error {
  if (e instanceof StorageFullError) return e;
  // An aborted transaction reports AbortError on its requests; the reason (e.g. quota) is on the transaction.
  if (isQuota(e) || isQuota(txError)) return new StorageFullError(undefined, { cause: e });
  const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new Error(`Could not ${doing} in browser storage (${reason}).`, { cause: e });
}

/** A transaction on the shared connection; one closed under us (e.g. by the browser) is reopened once. */
async function transaction<M extends IDBTransactionMode>(stores: Store[], mode: M, doing: string) {
  const db = await database();
  try {
    return db.transaction(stores, mode);
  } catch (e) {
    if (!(e instanceof Error) || e.name !== 'InvalidStateError') throw describe(e, doing);
    if (connection && (await connection.catch(() => null)) === db) connection = null;
    const fresh = await database();
    try {
      return fresh.transaction(stores, mode);
    } catch (e2) {
      throw describe(e2, doing);
    }
  }
}

type Op = (tx: WriteTx) => Promise<unknown>;

/** Runs the requests of one read-write transaction; resolves once it has committed, and aborts it on any error. */
async function write(stores: Store[], doing: string, ops: Op[]): Promise<void> {
  const tx = await transaction(stores, 'readwrite', doing);
  // Each promise is observed at once: when a later request throws, earlier ones reject (AbortError) unawaited.
  const pending: Promise<unknown>[] = [];
  const track = (p: Promise<unknown>) => {
    p.catch(() => undefined);
    pending.push(p);
  };
  track(tx.done);
  try {
    for (const op of ops) track(op(tx));
    await Promise.all(pending);
  } catch (e) {
    try {
      tx.abort();
    } catch {
      // Already aborted or finished.
    }
    throw describe(e, doing, tx.error);
  }
}

async function read<T>(
  stores: Store[],
  doing: string,
  body: (tx: IDBPTransaction<RunsSchema, Store[], 'readonly'>) => Promise<T>,
) {
  const tx = await transaction(stores, 'readonly', doing);
  try {
    return await body(tx);
  } catch (e) {
    throw describe(e, doing, tx.error);
  }
}

/** Refuses a write of a run whose lock the caller does not hold: another tab trains it, or may. */
function checkLease(lease: RunLease, runId: string): void {
  if (lease.runId !== runId || !lease.held) {
    throw new Error(`Run ${runId} was not written: this tab does not hold its lock (another tab may be training it).`);
  }
}

/**
 * Saves a run: its record and its history chunks, in one transaction, holding the run's lock. Given the version
 * saved last, a history that only grew since (appended points, as training gives them) rewrites just the chunks
 * from its old end on; any other change rewrites that history whole.
 */
export async function saveRun(lease: RunLease, run: RunRecord, previous?: RunRecord): Promise<void> {
  checkLease(lease, run.id);
  const { signals: _, errors: __, gallery, ...rest } = run;
  const record: RunRecord = { ...rest, train: [], evals: [], lrChanges: [] }; // the points live in chunks
  const ops: Op[] = [(tx) => tx.objectStore('runs').put(record)];
  if (gallery !== previous?.gallery) {
    const key: [string, string, number] = [run.id, GALLERY, 0];
    ops.push((tx) =>
      gallery
        ? tx.objectStore('history').put({ runId: run.id, kind: GALLERY, index: 0, points: [gallery] })
        : tx.objectStore('history').delete(key),
    );
  }
  for (const kind of HISTORY_KINDS) {
    const now = historyOf(run, kind);
    const before = previous ? historyOf(previous, kind) : null;
    if (before === now) continue;
    const grew =
      before !== null &&
      before.length <= now.length &&
      (before.length === 0 || now[before.length - 1] === before[before.length - 1]);
    const size = chunkOf(kind);
    const from = grew ? Math.floor(before.length / size) : 0;
    if (!grew) ops.push((tx) => tx.objectStore('history').delete(kindRange(run.id, kind)));
    for (let index = from; index * size < now.length; index++) {
      const points = now.slice(index * size, (index + 1) * size);
      ops.push((tx) => tx.objectStore('history').put({ runId: run.id, kind, index, points }));
    }
  }
  return write(['runs', 'history'], `save run ${run.id}`, ops);
}

/** Records joined with their history chunks (which come in key order: by run, kind, then index). */
function withHistories(runs: RunRecord[], chunks: HistoryChunk[]): RunRecord[] {
  const byRun = new Map<string, Partial<Record<HistoryKind, unknown[]> & { gallery: unknown }>>();
  for (const c of chunks) {
    const h = byRun.get(c.runId) ?? {};
    byRun.set(c.runId, h);
    if (c.kind === GALLERY) h.gallery = c.points[0];
    else (h[c.kind] ??= []).push(...c.points);
  }
  return runs.map((r) => ({
    ...r,
    config: completeSavedConfig(r.config) as RunRecord['config'], // runs saved before a key existed
    ...(byRun.get(r.id) as Partial<RunRecord>),
  }));
}

/** Every stored run with its whole history, oldest first. */
export async function loadRuns(): Promise<RunRecord[]> {
  const [runs, chunks] = await read(['runs', 'history'], 'read the saved runs', (tx) =>
    Promise.all([tx.objectStore('runs').getAll(), tx.objectStore('history').getAll()]),
  );
  return withHistories(runs, chunks).sort(
    (a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/** One stored run with its whole history, or undefined. */
export async function loadRun(id: string): Promise<RunRecord | undefined> {
  const [run, chunks] = await read(['runs', 'history'], `read run ${id}`, (tx) =>
    Promise.all([tx.objectStore('runs').get(id), tx.objectStore('history').getAll(runRange(id))]),
  );
  return run && withHistories([run], chunks)[0];
}

/** Deletes a run and its checkpoint together, holding the run's lock. */
export async function deleteRun(lease: RunLease): Promise<void> {
  const id = lease.runId;
  checkLease(lease, id);
  return write(['runs', 'history', 'checkpoints', 'checkpointMeta'], `delete run ${id}`, [
    (tx) => tx.objectStore('runs').delete(id),
    (tx) => tx.objectStore('history').delete(runRange(id)),
    (tx) => tx.objectStore('checkpoints').delete(id),
    (tx) => tx.objectStore('checkpointMeta').delete(id),
  ]);
}

/** Size of the typed arrays and buffers in a value: what a checkpoint costs, its small fields aside. */
export function payloadBytes(value: unknown, seen = new Set<object>()): number {
  if (typeof value !== 'object' || value === null || seen.has(value)) return 0;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof ArrayBuffer) return value.byteLength;
  let sum = 0;
  for (const v of Array.isArray(value) ? value : Object.values(value)) sum += payloadBytes(v, seen);
  return sum;
}

/**
 * Replaces a run's checkpoint (payload and meta record in one transaction). `bytes` is what checkpointInfo
 * reports; by default the size of the checkpoint's typed arrays.
 */
export function saveCheckpoint<C extends CheckpointLike>(
  runId: string,
  checkpoint: C,
  bytes: number = payloadBytes(checkpoint),
): Promise<void> {
  const meta: CheckpointInfo = { runId, iter: checkpoint.iter, bytes, savedAt: checkpoint.savedAt };
  return write(['checkpoints', 'checkpointMeta'], `save the checkpoint of run ${runId}`, [
    (tx) => tx.objectStore('checkpoints').put({ runId, checkpoint }),
    (tx) => tx.objectStore('checkpointMeta').put(meta),
  ]);
}

/** The run's checkpoint as it was saved (the caller knows its type), or undefined when there is none. */
export async function loadCheckpoint<C extends CheckpointLike = CheckpointLike>(runId: string): Promise<C | undefined> {
  const record = await read(['checkpoints'], `read the checkpoint of run ${runId}`, (tx) =>
    tx.objectStore('checkpoints').get(runId),
  );
  return record?.checkpoint as C | undefined;
}

export function deleteCheckpoint(runId: string): Promise<void> {
  return write(['checkpoints', 'checkpointMeta'], `delete the checkpoint of run ${runId}`, [
    (tx) => tx.objectStore('checkpoints').delete(runId),
    (tx) => tx.objectStore('checkpointMeta').delete(runId),
  ]);
}

/** Every stored checkpoint's iteration, size and time, read from the meta records only. */
export function checkpointInfo(): Promise<CheckpointInfo[]> {
  return read(['checkpointMeta'], 'list the saved checkpoints', (tx) => tx.objectStore('checkpointMeta').getAll());
}

/** How much of its quota this origin uses, or null when the browser does not say. */
export async function storageEstimate(): Promise<{ usage: number; quota: number } | null> {
  try {
    const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
    const e = await storage?.estimate?.();
    return e ? { usage: e.usage ?? 0, quota: e.quota ?? 0 } : null;
  } catch {
    return null;
  }
}

/** Tests: closes the connection and deletes the database, so each test starts empty. */
export async function resetDbForTests(): Promise<void> {
  const current = connection;
  connection = null;
  if (current) await current.then((db) => db.close()).catch(() => undefined);
  await deleteDB(RUNS_DB_NAME);
}
