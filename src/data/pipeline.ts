/**
 * Training and test batches, from CIFAR records in memory to normalised (and, for training, augmented) tensors.
 *
 * The paper's protocol (NOTES.md "Training protocol", the same as the original ResNet paper): per-channel mean/std
 * normalisation; for training only, pad 4 pixels with zeros *after* normalisation, take a random 32×32 crop and
 * flip horizontally with probability 0.5. The test set is only normalised.
 *
 * Why the work is split the way it is: JS only copies record bytes (one typed-array copy per image) and draws a few
 * random numbers per image; the per-pixel work (layout change, normalisation, pad, crop, flip) runs as tf ops on the
 * backend, so on WebGPU the batch stays on the device and the worker thread is not a bottleneck.
 */
import * as tf from '@tensorflow/tfjs';
import { CHANNELS, IMAGE_SIZE, PIXEL_BYTES, type ChannelStats, type RecordSet } from './format';
import { createRng, deriveSeed, shuffle, type Rng } from './rng';

/** Where a sampler stands: enough to regenerate its permutation and carry on (checkpoints). */
export interface SamplerState {
  /** Completed epochs. */
  completed: number;
  /** Records of the current permutation already handed out. */
  pos: number;
  /** Length of the current permutation (0 before the first batch). */
  size: number;
}

/**
 * Hands out training record indices epoch by epoch: each epoch is a fresh permutation (seeded by seed and epoch
 * number) of the first min(available, limit) records. Records that become available mid-epoch (more shards loaded)
 * join at the next epoch, so every epoch still sees each of its records exactly once.
 */
export class EpochSampler {
  private order = new Uint32Array(0);
  private pos = 0;
  private completed = 0;

  /** limit: train on only the first `limit` records (0 or undefined: all). */
  constructor(
    readonly seed: number,
    readonly limit = 0,
  ) {}

  /** Completed epochs plus the fraction of the current one, e.g. 1.5. */
  get epoch(): number {
    return this.order.length === 0 ? this.completed : this.completed + this.pos / this.order.length;
  }

  /** Records in the current epoch's permutation (0 before the first batch). */
  get epochSize(): number {
    return this.order.length;
  }

  state(): SamplerState {
    return { completed: this.completed, pos: this.pos, size: this.order.length };
  }

  /** Continues from `s`: the permutation is regenerated from seed and epoch, as startEpoch made it. */
  restore(s: SamplerState): void {
    const { completed, pos, size } = s;
    const ok = [completed, pos, size].every((n) => Number.isInteger(n) && n >= 0) && pos <= size;
    if (!ok || (size === 0 && (pos > 0 || completed > 0))) {
      throw new RangeError(`invalid sampler state ${JSON.stringify(s)}`);
    }
    this.completed = completed;
    this.order = size > 0 ? this.permutation(size) : new Uint32Array(0);
    this.pos = pos;
  }

  /** Indices of the next batchSize training records; a batch may run on into the next epoch. */
  nextBatch(available: number, batchSize: number): Uint32Array {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be ≥ 1, got ${batchSize}`);
    // The current permutation may hold indices up to its size; fewer records would make them dangle.
    if (available < this.order.length) {
      throw new RangeError(`available records fell from ${this.order.length} to ${available} mid-run`);
    }
    const out = new Uint32Array(batchSize);
    let filled = 0;
    while (filled < batchSize) {
      if (this.pos === this.order.length) this.startEpoch(available);
      const take = Math.min(batchSize - filled, this.order.length - this.pos);
      out.set(this.order.subarray(this.pos, this.pos + take), filled);
      filled += take;
      this.pos += take;
    }
    return out;
  }

  private startEpoch(available: number): void {
    if (this.order.length > 0) this.completed++;
    const size = this.limit > 0 ? Math.min(available, this.limit) : available;
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`no training records available (${available})`);
    this.order = this.permutation(size);
    this.pos = 0;
  }

  /** The current epoch's order over `size` records. */
  private permutation(size: number) {
    const order = new Uint32Array(size);
    for (let i = 0; i < size; i++) order[i] = i;
    // Seeded by epoch number, not by a running stream, so epoch k's order does not depend on earlier batch sizes
    // and a checkpoint can regenerate it.
    return shuffle(order, createRng(deriveSeed(this.seed, this.completed)));
  }
}

/**
 * Copies the pixel bytes (planar CHW, as stored) and training labels of the given records. With several sets
 * (shards, in load order) an index counts across them: record 10,000 is the first of the second shard.
 */
export function gatherBatch(
  sets: RecordSet | readonly RecordSet[],
  indices: ArrayLike<number>,
): { pixels: Uint8Array; labels: Int32Array } {
  const shards = Array.isArray(sets) ? (sets as readonly RecordSet[]) : [sets as RecordSet];
  const starts: number[] = [];
  let total = 0;
  for (const s of shards) {
    starts.push(total);
    total += s.count;
  }
  const n = indices.length;
  const pixels = new Uint8Array(n * PIXEL_BYTES);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const g = indices[k]!;
    if (!Number.isInteger(g) || g < 0 || g >= total) throw new RangeError(`record ${g} not in 0..${total - 1}`);
    let j = shards.length - 1;
    while (starts[j]! > g) j--;
    const set = shards[j]!;
    const { recordBytes, labelOffset, pixelOffset } = set.layout;
    const base = (g - starts[j]!) * recordBytes;
    labels[k] = set.bytes[base + labelOffset]!;
    pixels.set(set.bytes.subarray(base + pixelOffset, base + pixelOffset + PIXEL_BYTES), k * PIXEL_BYTES);
  }
  return { pixels, labels };
}

/** Indices start..end-1, for gathering a test range. */
export function rangeIndices(start: number, end: number): Uint32Array {
  const out = new Uint32Array(Math.max(0, end - start));
  for (let k = 0; k < out.length; k++) out[k] = start + k;
  return out;
}

/**
 * Planar bytes of n images → float32 NHWC [n, 32, 32, 3], (value − mean[c]) / std[c] on the 0–255 scale.
 * Only the copy into a Float32Array happens in JS; layout change and normalisation are backend ops.
 */
export function toNormalizedImages(pixels: Uint8Array, n: number, norm: ChannelStats): tf.Tensor4D {
  if (pixels.length < n * PIXEL_BYTES) throw new RangeError(`${pixels.length} bytes hold fewer than ${n} images`);
  return tf.tidy(() => {
    // An explicit Float32Array: tfjs's WebGPU backend uploads a Uint8Array's raw bytes as if they were the
    // tensor's dtype (all zeros here, measured), where the CPU backend converts. One JS copy, no per-pixel math.
    const planar = tf.tensor4d(new Float32Array(pixels.subarray(0, n * PIXEL_BYTES)), [
      n,
      CHANNELS,
      IMAGE_SIZE,
      IMAGE_SIZE,
    ]);
    const nhwc = tf.transpose(planar, [0, 2, 3, 1]);
    return tf.div(tf.sub(nhwc, tf.tensor1d(norm.mean)), tf.tensor1d(norm.std)) as tf.Tensor4D;
  });
}

/** Zero padding on each side before the random crop (the paper: 4). */
export const PAD = 4;

/** One image's augmentation: crop offset on the padded image (0..2·PAD) and whether to mirror it. */
export interface CropFlip {
  oy: number;
  ox: number;
  flip: boolean;
}

/** Draws each image's crop offsets and flip; order per image: oy, ox, flip. */
export function drawAugmentation(n: number, rng: Rng): CropFlip[] {
  const draws: CropFlip[] = [];
  for (let i = 0; i < n; i++) {
    const oy = rng.int(2 * PAD + 1);
    const ox = rng.int(2 * PAD + 1);
    draws.push({ oy, ox, flip: rng.next() < 0.5 });
  }
  return draws;
}

/**
 * Crops are taken with cropAndResize's 'nearest' sampling, each box inset by a quarter pixel at both ends, so every
 * sample lands within ±¼ px of the intended pixel and rounds to it. Why not the exact pixel positions (p / (size − 1))
 * with 'bilinear': float32 box coordinates land only near integers, so bilinear mixes in ~1e-6 of a neighbour and
 * edge samples can fall just outside the image. Why the inset: the WASM kernel (tfjs 4.22) has a fast path for an
 * unscaled, unflipped box that copies rows from column 0, ignoring x1; a box spanning 31 − ½ px never takes it.
 */
const INSET = 0.25;

/**
 * Pads with zeros, then crops and flips every image in one cropAndResize: image i's box covers rows oy..oy+h−1 and
 * columns ox..ox+w−1 of the padded image at one sample per pixel; a flip swaps x1 and x2 so columns are read right
 * to left.
 */
export function augmentWith(images: tf.Tensor4D, draws: readonly CropFlip[]): tf.Tensor4D {
  const [n, h, w] = images.shape;
  if (draws.length !== n) throw new RangeError(`${draws.length} augmentation draws for ${n} images`);
  // On the padded image, normalised coordinate 0 is pixel 0 and 1 is pixel size + 2·PAD − 1.
  const ny = h + 2 * PAD - 1;
  const nx = w + 2 * PAD - 1;
  const boxes = new Float32Array(n * 4);
  const boxInd = new Int32Array(n);
  draws.forEach(({ oy, ox, flip }, i) => {
    for (const o of [oy, ox]) {
      if (!Number.isInteger(o) || o < 0 || o > 2 * PAD) throw new RangeError(`crop offset ${o} not in 0..${2 * PAD}`);
    }
    const [top, bottom] = [(oy + INSET) / ny, (oy + h - 1 - INSET) / ny];
    const [left, right] = [(ox + INSET) / nx, (ox + w - 1 - INSET) / nx];
    boxes.set([top, flip ? right : left, bottom, flip ? left : right], i * 4);
    boxInd[i] = i;
  });
  return tf.tidy(() => {
    const padded = tf.pad(images, [
      [0, 0],
      [PAD, PAD],
      [PAD, PAD],
      [0, 0],
    ]);
    return tf.image.cropAndResize(padded, tf.tensor2d(boxes, [n, 4]), tf.tensor1d(boxInd, 'int32'), [h, w], 'nearest');
  });
}

/** The paper's training augmentation with offsets and flips drawn from rng. */
export function augment(images: tf.Tensor4D, rng: Rng): tf.Tensor4D {
  return augmentWith(images, drawAugmentation(images.shape[0], rng));
}

/** One-hot float32 [n, classes]. */
export function labelsTensor(labels: Int32Array, classes: number): tf.Tensor2D {
  // int32 then cast: tfjs-backend-wasm 4.22's OneHot writes the int32 bit pattern of 1 into a float32 output
  // (1.4e-45, measured), which silently zeroes the loss.
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), classes), 'float32') as tf.Tensor2D);
}

/** Consecutive index ranges [start, end) over the first min(count, limit) test records, in order. */
export function* testBatches(
  set: RecordSet,
  batchSize: number,
  limit?: number,
): Generator<{ start: number; end: number }, void, undefined> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be ≥ 1, got ${batchSize}`);
  const total = limit ? Math.min(set.count, limit) : set.count;
  for (let start = 0; start < total; start += batchSize) yield { start, end: Math.min(start + batchSize, total) };
}
