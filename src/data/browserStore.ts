/**
 * Datasets imported in the page live in IndexedDB (the page lists them; the worker writes and reads shards).
 * A dataset is saved in one transaction, manifest and shards together: an import either lands whole or not at
 * all, and a reload finds it without importing again.
 */
import type { DatasetId } from '../experiment/schema';
import type { BuiltDataset } from './cifar';
import type { Manifest } from './format';

const DB_NAME = 'identity-mappings-playground';
const MANIFESTS = 'manifests';
const SHARDS = 'shards';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted (storage full?)'));
  });
}

export function openStore(): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('this browser has no IndexedDB'));
  const open = indexedDB.open(DB_NAME, 1);
  open.onupgradeneeded = () => {
    open.result.createObjectStore(MANIFESTS, { keyPath: 'dataset' });
    open.result.createObjectStore(SHARDS);
  };
  return request(open);
}

const shardKey = (dataset: DatasetId, file: string) => `${dataset}/${file}`;

/** Replaces any earlier import of the same dataset, atomically. */
export async function saveDataset({ manifest, shards }: BuiltDataset): Promise<void> {
  const db = await openStore();
  try {
    const tx = db.transaction([MANIFESTS, SHARDS], 'readwrite');
    const shardStore = tx.objectStore(SHARDS);
    shardStore.delete(IDBKeyRange.bound(`${manifest.dataset}/`, `${manifest.dataset}/\uffff`));
    for (const s of shards) shardStore.put(s.bytes.slice().buffer, shardKey(manifest.dataset, s.file));
    tx.objectStore(MANIFESTS).put(manifest);
    await done(tx);
  } finally {
    db.close();
  }
}

export async function listImported(): Promise<Manifest[]> {
  const db = await openStore();
  try {
    return (await request(db.transaction(MANIFESTS).objectStore(MANIFESTS).getAll())) as Manifest[];
  } finally {
    db.close();
  }
}

export async function loadImportedShard(dataset: DatasetId, file: string): Promise<Uint8Array> {
  const db = await openStore();
  try {
    const buf = (await request(db.transaction(SHARDS).objectStore(SHARDS).get(shardKey(dataset, file)))) as
      ArrayBuffer | undefined;
    if (!buf) throw new Error(`shard ${file} of the imported ${dataset} is missing from this browser's storage`);
    return new Uint8Array(buf);
  } finally {
    db.close();
  }
}

export async function deleteImported(dataset: DatasetId): Promise<void> {
  const db = await openStore();
  try {
    const tx = db.transaction([MANIFESTS, SHARDS], 'readwrite');
    tx.objectStore(SHARDS).delete(IDBKeyRange.bound(`${dataset}/`, `${dataset}/\uffff`));
    tx.objectStore(MANIFESTS).delete(dataset);
    await done(tx);
  } finally {
    db.close();
  }
}
