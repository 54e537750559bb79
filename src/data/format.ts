/**
 * CIFAR's own binary record layout, the one format every dataset here is stored and streamed in.
 *   CIFAR-10:  1 label byte, then 3072 pixel bytes (1024 R, 1024 G, 1024 B; each plane 32×32, row-major).
 *   CIFAR-100: 1 coarse label byte, 1 fine label byte, then the same 3072 pixel bytes. We train on fine labels.
 * The embedded demo set is written in the CIFAR-10 layout.
 */
import type { DatasetId } from '../experiment/schema';

export const IMAGE_SIZE = 32;
export const CHANNELS = 3;
export const PIXEL_BYTES = IMAGE_SIZE * IMAGE_SIZE * CHANNELS; // 3072

export interface RecordLayout {
  /** Bytes per record: label byte(s) + 3072 pixel bytes. */
  recordBytes: number;
  /** Offset of the label we train on within a record. */
  labelOffset: number;
  /** Offset of the first pixel byte within a record. */
  pixelOffset: number;
  classes: number;
}

export const CIFAR10_LAYOUT: RecordLayout = { recordBytes: 3073, labelOffset: 0, pixelOffset: 1, classes: 10 };
export const CIFAR100_LAYOUT: RecordLayout = { recordBytes: 3074, labelOffset: 1, pixelOffset: 2, classes: 100 };

/** A run of records in memory: what a shard holds once loaded, and what the pipeline batches from. */
export interface RecordSet {
  layout: RecordLayout;
  bytes: Uint8Array;
  /** bytes.length / layout.recordBytes */
  count: number;
}

export function recordSet(layout: RecordLayout, bytes: Uint8Array): RecordSet {
  if (bytes.length % layout.recordBytes !== 0) {
    throw new Error(`${bytes.length} bytes is not a whole number of ${layout.recordBytes}-byte records`);
  }
  return { layout, bytes, count: bytes.length / layout.recordBytes };
}

export function labelOf(set: RecordSet, i: number): number {
  return set.bytes[i * set.layout.recordBytes + set.layout.labelOffset]!;
}

/** Pixel (row y, column x) of channel c (0 R, 1 G, 2 B) of record i, 0–255. */
export function pixelOf(set: RecordSet, i: number, c: number, y: number, x: number): number {
  return set.bytes[i * set.layout.recordBytes + set.layout.pixelOffset + c * 1024 + y * IMAGE_SIZE + x]!;
}

/** Per-channel mean and standard deviation on the 0–255 scale. */
export interface ChannelStats {
  mean: [number, number, number];
  std: [number, number, number];
}

/**
 * The normalisation the paper's code uses (fb.resnet.torch, NOTES.md "Training protocol"). It is fixed, not
 * recomputed from whatever part of a dataset is present, so a partial import trains exactly like the full one.
 */
export const PAPER_NORMALIZATION: Record<'cifar10' | 'cifar100', ChannelStats> = {
  cifar10: { mean: [125.3, 123.0, 113.9], std: [63.0, 62.1, 66.7] },
  cifar100: { mean: [129.3, 124.1, 112.4], std: [68.2, 65.4, 70.4] },
};

export interface ShardInfo {
  file: string;
  records: number;
  sha256: string;
}

/** manifest.json of a dataset folder (data/<name>/ on the server) or of an imported dataset in the browser. */
export interface Manifest {
  dataset: DatasetId;
  /** Bumped if the layout of shards or manifest changes. */
  version: 1;
  layout: RecordLayout;
  classNames: string[];
  splits: { train: ShardInfo[]; test: ShardInfo[] };
  /** What the pipeline normalises with. */
  normalization: ChannelStats;
  /** Measured on the training records present. */
  trainStats: ChannelStats;
  /** Official files that were expected but not found (a partial set), e.g. ["data_batch_2.bin"]. */
  missing: string[];
  source: string;
}
