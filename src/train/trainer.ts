/**
 * The training loop's single steps, backend-agnostic: whatever tfjs backend is active runs them. The worker
 * drives it (worker/run.ts); tests drive it directly.
 *
 * Per step: the sampler picks records, JS copies their bytes, and everything else (normalisation, augmentation,
 * forward, softmax cross-entropy, gradients, SGD) runs as tf ops inside one tidy. The only readback is the scalar
 * loss, asynchronously (never dataSync: it stalls WebGPU).
 */
import * as tf from '@tensorflow/tfjs';
import type { LoadedDataset } from '../data/source';
import { augment, EpochSampler, labelsTensor, rangeIndices, testBatches, toNormalizedImages } from '../data/pipeline';
import { PIXEL_BYTES, type RecordSet } from '../data/format';
import { createRng, deriveSeed, type Rng } from '../data/rng';
import type { Config } from '../experiment/schema';
import { buildNetwork, type Network } from '../model/network';
import { Sgd } from './optimizer';
import { lrAt, type LrOverride } from './schedule';

/** Copies the records at global indices (across shards, in load order) into one planar batch. */
export function gatherFrom(
  sets: readonly RecordSet[],
  indices: ArrayLike<number>,
): { pixels: Uint8Array; labels: Int32Array } {
  const n = indices.length;
  const pixels = new Uint8Array(n * PIXEL_BYTES);
  const labels = new Int32Array(n);
  const starts: number[] = [];
  let total = 0;
  for (const s of sets) {
    starts.push(total);
    total += s.count;
  }
  for (let k = 0; k < n; k++) {
    const g = indices[k]!;
    let j = sets.length - 1;
    while (j > 0 && starts[j]! > g) j--;
    const set = sets[j]!;
    const i = g - starts[j]!;
    if (i < 0 || i >= set.count) throw new RangeError(`record ${g} is not loaded`);
    const base = i * set.layout.recordBytes;
    labels[k] = set.bytes[base + set.layout.labelOffset]!;
    pixels.set(
      set.bytes.subarray(base + set.layout.pixelOffset, base + set.layout.pixelOffset + PIXEL_BYTES),
      k * PIXEL_BYTES,
    );
  }
  return { pixels, labels };
}

export interface Evaluation {
  testError: number;
  testLoss: number;
  images: number;
}

export class Trainer {
  readonly net: Network;
  /** Completed iterations. */
  iter = 0;
  readonly lrOverrides: LrOverride[] = [];
  private readonly opt: Sgd;
  private readonly sampler: EpochSampler;
  private readonly augRng: Rng;

  constructor(
    readonly config: Config,
    readonly data: LoadedDataset,
  ) {
    this.net = buildNetwork(config);
    this.opt = new Sgd(
      this.net.trainable.map((t) => t.variable),
      config,
    );
    this.sampler = new EpochSampler(config.seed, config.trainSubset);
    this.augRng = createRng(deriveSeed(config.seed, 1)); // its own stream: crops do not shift the data order
  }

  get epoch(): number {
    return this.sampler.epoch;
  }

  /** Learning rate of the next iteration. */
  get lr(): number {
    return lrAt(this.config, this.iter, this.lrOverrides);
  }

  /** From the next iteration on, train at `lr` (later milestones still divide it). */
  setLr(lr: number): void {
    this.lrOverrides.push({ iter: this.iter, lr });
  }

  /** One SGD iteration; resolves to its training loss. */
  async step(): Promise<number> {
    const available = this.data.train.reduce((a, s) => a + s.count, 0);
    const indices = this.sampler.nextBatch(available, this.config.batch);
    const { pixels, labels } = gatherFrom(this.data.train, indices);
    const lr = this.lr;
    const vars = this.net.trainable.map((t) => t.variable);
    const loss = tf.tidy(() => {
      const normalized = toNormalizedImages(pixels, indices.length, this.data.normalization);
      const x = this.config.augment ? augment(normalized, this.augRng) : normalized;
      const y = labelsTensor(labels, this.net.plan.classes);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, this.net.forward(x, { training: true, seed: this.iter })) as tf.Scalar,
        vars,
      );
      this.opt.apply(grads, lr);
      return value;
    });
    this.iter++;
    const [v] = await loss.data();
    loss.dispose();
    return v!;
  }

  /** Test error (%) and mean loss on the test set (or testSubset), in inference mode, without augmentation. */
  async evaluate(batchSize = Math.min(500, Math.max(this.config.batch, 100))): Promise<Evaluation> {
    const test = this.data.test;
    let wrong = tf.scalar(0);
    let lossSum = tf.scalar(0);
    let images = 0;
    for (const { start, end } of testBatches(test, batchSize, this.config.testSubset)) {
      const { pixels, labels } = gatherFrom([test], rangeIndices(start, end));
      const n = end - start;
      const [w, l] = tf.tidy(() => {
        const logits = this.net.forward(toNormalizedImages(pixels, n, this.data.normalization), { training: false });
        const y = labelsTensor(labels, this.net.plan.classes);
        const miss = tf.sum(tf.cast(tf.notEqual(tf.argMax(logits, 1), tf.tensor1d(labels, 'int32')), 'float32'));
        const loss = tf.mul(tf.losses.softmaxCrossEntropy(y, logits), n);
        return [tf.add(wrong, miss), tf.add(lossSum, loss)];
      });
      wrong.dispose();
      lossSum.dispose();
      [wrong, lossSum] = [w!, l!];
      images += n;
    }
    // One readback for the whole pass.
    const [miss, loss] = await Promise.all([wrong.data(), lossSum.data()]);
    wrong.dispose();
    lossSum.dispose();
    return { testError: (100 * miss[0]!) / images, testLoss: loss[0]! / images, images };
  }

  dispose(): void {
    this.opt.dispose();
    this.net.dispose();
  }
}
