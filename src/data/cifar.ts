/**
 * The official CIFAR-10/100 binary files: what each archive holds, how to validate its files, and how to turn
 * them into our shards and manifest. Shared by `npm run data` (Node) and the page's import (in the worker).
 */
import type { DatasetId } from '../experiment/schema';
import { DataError } from './errors';
import {
  CIFAR10_LAYOUT,
  CIFAR100_LAYOUT,
  PAPER_NORMALIZATION,
  PIXEL_BYTES,
  recordSet,
  type ChannelStats,
  type Manifest,
  type RecordLayout,
  type RecordSet,
} from './format';

export type CifarId = Extract<DatasetId, 'cifar10' | 'cifar100'>;

export interface OfficialDataset {
  id: CifarId;
  label: string;
  url: string;
  md5: string;
  archiveBytes: number;
  layout: RecordLayout;
  /** Bound of each label byte of a record: CIFAR-100 has a coarse (20) then a fine (100) label. */
  labelLimits: number[];
  /** Official training files in order, with their record counts. */
  train: { file: string; records: number }[];
  test: { file: string; records: number };
  classNames: string[];
}

const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const CIFAR100_CLASSES = (
  'apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle ' +
  'caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant ' +
  'flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree ' +
  'motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate ' +
  'poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider ' +
  'squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle ' +
  'wardrobe whale willow_tree wolf woman worm'
).split(' ');

/** The dataset authors' archives (https://www.cs.toronto.edu/~kriz/cifar.html), with their published MD5s. */
export const OFFICIAL: Record<CifarId, OfficialDataset> = {
  cifar10: {
    id: 'cifar10',
    label: 'CIFAR-10',
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    md5: 'c32a1d4ab5d03f1284b67883e8d87530',
    archiveBytes: 170_052_171,
    layout: CIFAR10_LAYOUT,
    labelLimits: [10],
    train: [1, 2, 3, 4, 5].map((i) => ({ file: `data_batch_${i}.bin`, records: 10_000 })),
    test: { file: 'test_batch.bin', records: 10_000 },
    classNames: CIFAR10_CLASSES,
  },
  cifar100: {
    id: 'cifar100',
    label: 'CIFAR-100',
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    md5: '03b5dce01913d631647c71ecec9e9cb8',
    archiveBytes: 168_513_733,
    layout: CIFAR100_LAYOUT,
    labelLimits: [20, 100],
    train: [{ file: 'train.bin', records: 50_000 }],
    test: { file: 'test.bin', records: 10_000 },
    classNames: CIFAR100_CLASSES,
  },
};

/** Records per shard: the size of one official CIFAR-10 batch (30 MB), so shards load one by one. */
export const SHARD_RECORDS = 10_000;

const basename = (path: string) => path.split(/[\\/]/).pop() ?? path;

/** Which dataset a set of file names belongs to, from the official names ("data_batch_1.bin" → cifar10). */
export function detectDataset(names: string[]): CifarId {
  const base = names.map(basename);
  for (const d of Object.values(OFFICIAL)) {
    if ([...d.train, d.test].some((f) => base.includes(f.file))) return d.id;
  }
  throw new DataError(
    'unknown-files',
    `none of ${base.length > 5 ? `these ${base.length} files` : base.join(', ') || 'these files'} is an official CIFAR binary file (data_batch_1.bin … test_batch.bin for CIFAR-10, train.bin and test.bin for CIFAR-100)`,
  );
}

/** Checks one official file: whole records, no more than the official count, labels within the classes. */
export function validateFile(d: OfficialDataset, file: string, bytes: Uint8Array): RecordSet {
  const expected = [...d.train, d.test].find((f) => f.file === file);
  if (!expected) throw new DataError('unknown-files', `${file} is not a file of the official ${d.label} set`);
  const { recordBytes } = d.layout;
  if (bytes.length % recordBytes !== 0) {
    throw new DataError(
      'truncated',
      `${file}: ${bytes.length.toLocaleString('en-US')} bytes is not a whole number of ${recordBytes}-byte ${d.label} records (truncated or not ${d.label}?)`,
    );
  }
  const records = bytes.length / recordBytes;
  if (records === 0 || records > expected.records) {
    throw new DataError(
      'record-count',
      `${file}: ${records.toLocaleString('en-US')} records, the official file has ${expected.records.toLocaleString('en-US')}`,
    );
  }
  for (let i = 0; i < records; i++) {
    d.labelLimits.forEach((limit, o) => {
      const label = bytes[i * recordBytes + o]!;
      if (label >= limit) {
        throw new DataError(
          'label-range',
          `${file}: record ${i} has label ${label}, ${d.label} labels are 0–${limit - 1}`,
        );
      }
    });
  }
  return recordSet(d.layout, bytes);
}

/** Per-channel mean and std (0–255) over every pixel of the records. */
export function channelStats(sets: RecordSet[]): ChannelStats {
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  let n = 0;
  for (const set of sets) {
    const { recordBytes, pixelOffset } = set.layout;
    for (let i = 0; i < set.count; i++) {
      const base = i * recordBytes + pixelOffset;
      for (let c = 0; c < 3; c++) {
        let s = 0;
        let q = 0;
        for (let p = base + c * 1024, end = p + 1024; p < end; p++) {
          const v = set.bytes[p]!;
          s += v;
          q += v * v;
        }
        sum[c]! += s;
        sq[c]! += q;
      }
      n += 1024;
    }
  }
  const mean = sum.map((s) => s / n) as ChannelStats['mean'];
  const std = sq.map((q, c) => Math.sqrt(Math.max(q / n - mean[c]! ** 2, 0))) as ChannelStats['std'];
  return { mean, std };
}

export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface Shard {
  file: string;
  bytes: Uint8Array;
}

export interface BuiltDataset {
  manifest: Manifest;
  shards: Shard[];
}

/**
 * Validates the official files found (keyed by file name, any folder) and cuts them into shards of
 * SHARD_RECORDS records with a manifest. A partial set is accepted and its missing files named; the test file
 * and at least one training file are required.
 */
export async function buildDataset(
  d: OfficialDataset,
  found: Map<string, Uint8Array>,
  source: string,
): Promise<BuiltDataset> {
  const byName = new Map([...found].map(([k, v]) => [basename(k), v]));
  const testBytes = byName.get(d.test.file);
  const trainFiles = d.train.filter((f) => byName.has(f.file));
  const missing = [...d.train, d.test].filter((f) => !byName.has(f.file)).map((f) => f.file);
  if (!testBytes || trainFiles.length === 0) {
    throw new DataError(
      'missing',
      `${d.label} needs ${d.test.file} and at least one training file; missing: ${missing.join(', ')}`,
    );
  }
  const train = trainFiles.map((f) => validateFile(d, f.file, byName.get(f.file)!));
  const test = validateFile(d, d.test.file, testBytes);

  const shards: Shard[] = [];
  const cut = (split: 'train' | 'test', sets: RecordSet[]) => {
    let k = 0;
    for (const set of sets) {
      for (let start = 0; start < set.count; start += SHARD_RECORDS) {
        const end = Math.min(set.count, start + SHARD_RECORDS);
        shards.push({
          file: `${split}-${k++}.bin`,
          bytes: set.bytes.subarray(start * set.layout.recordBytes, end * set.layout.recordBytes),
        });
      }
    }
  };
  cut('train', train);
  cut('test', [test]);
  const infos = await Promise.all(
    shards.map(async (s) => ({
      file: s.file,
      records: s.bytes.length / d.layout.recordBytes,
      sha256: await sha256(s.bytes),
    })),
  );
  const manifest: Manifest = {
    dataset: d.id,
    version: 1,
    layout: d.layout,
    classNames: d.classNames,
    splits: {
      train: infos.filter((s) => s.file.startsWith('train-')),
      test: infos.filter((s) => s.file.startsWith('test-')),
    },
    normalization: PAPER_NORMALIZATION[d.id],
    trainStats: channelStats(train),
    missing,
    source,
  };
  return { manifest, shards };
}

export function splitRecords(m: Manifest, split: 'train' | 'test'): number {
  return m.splits[split].reduce((a, s) => a + s.records, 0);
}
