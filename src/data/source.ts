/**
 * Loading a dataset into the engine worker: the embedded set is generated from the seed; CIFAR comes from the
 * server (its data/ folder, npm run data) or from this browser's imports, shard by shard, each checked against its SHA-256. The
 * test set comes first, then training shards one at a time, so training can start when the first is in.
 */
import type { DatasetId } from '../experiment/schema';
import { channelStats, sha256, splitRecords } from './cifar';
import { listImported, loadImportedShard } from './browserStore';
import {
  CIFAR10_LAYOUT,
  recordSet,
  type ChannelStats,
  type Manifest,
  type RecordLayout,
  type RecordSet,
} from './format';
import { generateSynthetic, SYNTHETIC_CLASS_NAMES } from './synthetic';

export interface LoadedDataset {
  dataset: DatasetId;
  layout: RecordLayout;
  classNames: string[];
  normalization: ChannelStats;
  test: RecordSet;
  /** Grows as shards arrive. */
  train: RecordSet[];
  /** Training records expected once every shard is in. */
  trainTotal: number;
  where: 'embedded' | 'server' | 'browser';
}

export interface ShardEvent {
  split: 'train' | 'test';
  records: number;
  /** Wall time to fetch/read, check and wrap the shard, in the worker. */
  ms: number;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function serverManifest(dataset: DatasetId, base: string): Promise<Manifest | null> {
  try {
    const res = await fetch(`${base}data/${dataset}/manifest.json`);
    return res.ok ? ((await res.json()) as Manifest) : null;
  } catch {
    return null;
  }
}

/** Loads the copy of `dataset` found at `where` (the page's catalog chooses), calling `onShard` after each shard. */
export async function loadDataset(
  dataset: DatasetId,
  where: LoadedDataset['where'],
  seed: number,
  onShard: (d: LoadedDataset, e: ShardEvent) => void = () => {},
  base = '/',
): Promise<LoadedDataset> {
  if (dataset === 'synthetic') {
    const t0 = performance.now();
    const test = generateSynthetic(seed, 'test');
    const train = generateSynthetic(seed, 'train');
    const d: LoadedDataset = {
      dataset,
      layout: CIFAR10_LAYOUT,
      classNames: SYNTHETIC_CLASS_NAMES,
      normalization: channelStats([train]), // generated, so measured exactly rather than assumed
      test,
      train: [train],
      trainTotal: train.count,
      where: 'embedded',
    };
    onShard(d, { split: 'train', records: train.count + test.count, ms: performance.now() - t0 });
    return d;
  }

  const useServer = where === 'server';
  const manifest = useServer
    ? await serverManifest(dataset, base)
    : ((await listImported()).find((m) => m.dataset === dataset) ?? null);
  if (!manifest)
    throw new Error(`${dataset} is not ${useServer ? 'on the server' : 'imported in this browser'} any more`);

  const read = async (file: string, sha: string): Promise<RecordSet> => {
    const bytes = useServer
      ? await fetchBytes(`${base}data/${dataset}/${file}`)
      : await loadImportedShard(dataset, file);
    if ((await sha256(bytes)) !== sha)
      throw new Error(`shard ${file} of ${dataset} is corrupt (its SHA-256 differs from the manifest's)`);
    return recordSet(manifest.layout, bytes);
  };

  let t0 = performance.now();
  const testShards = await Promise.all(manifest.splits.test.map((s) => read(s.file, s.sha256)));
  const d: LoadedDataset = {
    dataset,
    layout: manifest.layout,
    classNames: manifest.classNames,
    normalization: manifest.normalization,
    test: testShards.length === 1 ? testShards[0]! : concat(manifest.layout, testShards),
    train: [],
    trainTotal: splitRecords(manifest, 'train'),
    where: useServer ? 'server' : 'browser',
  };
  onShard(d, { split: 'test', records: d.test.count, ms: performance.now() - t0 });
  for (const s of manifest.splits.train) {
    t0 = performance.now();
    d.train.push(await read(s.file, s.sha256));
    onShard(d, { split: 'train', records: s.records, ms: performance.now() - t0 });
  }
  return d;
}

function concat(layout: RecordLayout, sets: RecordSet[]): RecordSet {
  const out = new Uint8Array(sets.reduce((a, s) => a + s.bytes.length, 0));
  let o = 0;
  for (const s of sets) {
    out.set(s.bytes, o);
    o += s.bytes.length;
  }
  return recordSet(layout, out);
}
