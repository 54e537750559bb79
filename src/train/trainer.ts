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
import {
  augment,
  EpochSampler,
  gatherBatch,
  type SamplerState,
  labelsTensor,
  rangeIndices,
  testBatches,
  toNormalizedImages,
} from '../data/pipeline';
import { createRng, deriveSeed } from '../data/rng';
import type { Config } from '../experiment/schema';
import { buildNetwork, type Network } from '../model/network';
import { GALLERY_SIZE } from '../experiment/record';
import { confusionMatrix } from './errors';
import { microBatchProblem } from '../experiment/microBatch';
import { Sgd } from './optimizer';
import { lrAt, type LrOverride } from './schedule';

export interface Evaluation {
  testError: number;
  testLoss: number;
  images: number;
  /** classes × classes counts over the images evaluated: row = true class, column = predicted class. */
  confusion: number[];
  /** Predicted class and its softmax probability for the first min(GALLERY_SIZE, images) test images. */
  predicted: number[];
  confidence: number[];
}

export class Trainer {
  readonly net: Network;
  /** Completed iterations. */
  iter = 0;
  readonly lrOverrides: LrOverride[] = [];
  /** Images per forward/backward pass (config.microBatch, resolved: src/model/memory.ts chooses it for auto). */
  readonly microBatch: number;
  private readonly opt: Sgd;
  private readonly sampler: EpochSampler;

  /** Test images per evaluation pass (the worker sizes it to the backend's memory). */
  private readonly evalBatch: number;

  constructor(
    readonly config: Config,
    readonly data: LoadedDataset,
    options: { evalBatch?: number } = {},
  ) {
    this.evalBatch = options.evalBatch ?? Math.min(500, Math.max(config.batch, 100));
    if (config.microBatch === 'auto')
      throw new Error('microBatch=auto must be resolved for the backend before training (chooseMicroBatch)');
    const problem = microBatchProblem(config.microBatch, config.batch);
    if (problem) throw new Error(`microBatch ${config.microBatch} ${problem}`);
    this.microBatch = config.microBatch;
    this.net = buildNetwork(config);
    this.opt = new Sgd(
      this.net.trainable.map((t) => t.variable),
      config,
    );
    this.sampler = new EpochSampler(config.seed, config.trainSubset);
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

  /** The optimizer's momentum buffers, in the order of net.trainable (for checkpoints). */
  get momentum(): readonly tf.Variable[] {
    return this.opt.buffers;
  }

  samplerState(): SamplerState {
    return this.sampler.state();
  }

  restoreSampler(s: SamplerState): void {
    this.sampler.restore(s);
  }

  /**
   * One SGD iteration; resolves to its training loss (the mean over the batch).
   *
   * Micro-batches (Appendix: "mini-batch size 128 on 2 GPUs (64 each)"): the batch is sampled and augmented
   * exactly as one pass would, then split in order into k = batch / microBatch consecutive micro-batches. Each
   * runs forward in training mode, so BN normalises it with its own statistics and updates the running averages
   * once (micro-batch by micro-batch, as each replica's BN would), and backward for its mean cross-entropy
   * loss_j. The update uses g = (1/k)·Σ_j ∇loss_j, the gradient of the batch's mean loss; the loss reported is
   * (1/k)·Σ_j loss_j. Dropout-shortcut masks: micro-batch 0 is seeded by the iteration, as a step without
   * micro-batches is (so microBatch = batch gives exactly that step), micro-batch j > 0 by deriveSeed(iter, j).
   * Memory: one micro-batch's activations at a time; the running sum of the gradients is one more copy of the
   * parameters.
   */
  async step(): Promise<number> {
    const { batch } = this.config;
    const m = this.microBatch;
    const k = batch / m;
    const available = this.data.train.reduce((a, s) => a + s.count, 0);
    const indices = this.sampler.nextBatch(available, batch);
    const { pixels, labels } = gatherBatch(this.data.train, indices);
    const lr = this.lr;
    const vars = this.net.trainable.map((t) => t.variable);
    const [x, y] = tf.tidy(() => {
      const normalized = toNormalizedImages(pixels, indices.length, this.data.normalization);
      // Crops from a stream per iteration, apart from the data order's: a resumed run draws the same ones.
      const augmented = this.config.augment
        ? augment(normalized, createRng(deriveSeed(this.config.seed, 1, this.iter)))
        : normalized;
      return [augmented, labelsTensor(labels, this.net.plan.classes)] as const;
    });
    let sum: { loss: tf.Scalar; grads: tf.NamedTensorMap } | null = null;
    try {
      for (let j = 0; j < k; j++) {
        const { value, grads } = tf.tidy(() => {
          const xj = k === 1 ? x : tf.slice(x, [j * m, 0, 0, 0], [m, -1, -1, -1]);
          const yj = k === 1 ? y : tf.slice(y, [j * m, 0], [m, -1]);
          const seed = j === 0 ? this.iter : deriveSeed(this.iter, j);
          return tf.variableGrads(
            () => tf.losses.softmaxCrossEntropy(yj, this.net.forward(xj, { training: true, seed })) as tf.Scalar,
            vars,
          );
        });
        sum = sum === null ? { loss: value, grads } : accumulate(sum, value, grads);
      }
      const total = sum!;
      const loss = tf.tidy(() => {
        // k = 1 leaves the gradient untouched: bit for bit the step without micro-batches.
        const mean = k === 1 ? total.grads : mapGrads(total.grads, (g) => tf.div(g, k));
        this.opt.apply(mean, lr);
        return k === 1 ? tf.clone(total.loss) : tf.div(total.loss, k);
      });
      this.iter++;
      const [v] = await loss.data();
      loss.dispose();
      return v!;
    } finally {
      tf.dispose([x, y]);
      if (sum) tf.dispose([sum.loss, ...Object.values(sum.grads)]);
    }
  }

  /**
   * Test error (%) and mean loss on the test set (or testSubset), in inference mode, without augmentation; and
   * from the same pass, what it gets wrong: every image's predicted class (for the confusion matrix) and, for the
   * gallery's first test images, the probability of that prediction.
   */
  async evaluate(batchSize = this.evalBatch): Promise<Evaluation> {
    const test = this.data.test;
    const classes = this.net.plan.classes;
    let wrong = tf.scalar(0);
    let lossSum = tf.scalar(0);
    const predictions: tf.Tensor[] = [];
    const galleryProbs: tf.Tensor[] = [];
    const labelsSeen: Int32Array[] = [];
    let images = 0;
    for (const { start, end } of testBatches(test, batchSize, this.config.testSubset)) {
      const { pixels, labels } = gatherBatch(test, rangeIndices(start, end));
      const n = end - start;
      const inGallery = Math.max(0, Math.min(GALLERY_SIZE, end) - start);
      const [w, l, predicted, prob] = tf.tidy(() => {
        const logits = this.net.forward(toNormalizedImages(pixels, n, this.data.normalization), { training: false });
        const y = labelsTensor(labels, classes);
        const predicted = tf.argMax(logits, 1);
        const miss = tf.sum(tf.cast(tf.notEqual(predicted, tf.tensor1d(labels, 'int32')), 'float32'));
        const loss = tf.mul(tf.losses.softmaxCrossEntropy(y, logits), n);
        const prob = inGallery > 0 ? tf.max(tf.softmax(tf.slice(logits, [0, 0], [inGallery, classes])), 1) : null;
        return [tf.add(wrong, miss), tf.add(lossSum, loss), predicted, ...(prob ? [prob] : [])];
      });
      wrong.dispose();
      lossSum.dispose();
      [wrong, lossSum] = [w!, l!];
      predictions.push(predicted!);
      if (prob) galleryProbs.push(prob);
      labelsSeen.push(labels);
      images += n;
    }
    // One readback for the whole pass: the two sums, every prediction, the gallery's probabilities.
    const predictedAll = tf.concat(predictions);
    const probsAll = galleryProbs.length > 0 ? tf.concat(galleryProbs) : tf.zeros([0]);
    tf.dispose([...predictions, ...galleryProbs]);
    const [miss, loss, predictedValues, probValues] = await Promise.all([
      wrong.data(),
      lossSum.data(),
      predictedAll.data(),
      probsAll.data(),
    ]);
    tf.dispose([wrong, lossSum, predictedAll, probsAll]);
    const labels = new Int32Array(images);
    labelsSeen.reduce((offset, l) => (labels.set(l, offset), offset + l.length), 0);
    return {
      testError: (100 * miss[0]!) / images,
      testLoss: loss[0]! / images,
      images,
      confusion: confusionMatrix(labels, predictedValues, classes),
      predicted: Array.from(predictedValues.subarray(0, probValues.length)),
      confidence: Array.from(probValues, (p) => Math.round(p * 1000) / 1000),
    };
  }

  dispose(): void {
    this.opt.dispose();
    this.net.dispose();
  }
}

function mapGrads(grads: tf.NamedTensorMap, f: (g: tf.Tensor) => tf.Tensor): tf.NamedTensorMap {
  return Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, f(g)]));
}

/** sum + (loss, grads), one parameter at a time, freeing the old sums and the addends as it goes. */
function accumulate(
  sum: { loss: tf.Scalar; grads: tf.NamedTensorMap },
  loss: tf.Scalar,
  grads: tf.NamedTensorMap,
): { loss: tf.Scalar; grads: tf.NamedTensorMap } {
  const add = <T extends tf.Tensor>(a: T, b: T): T => {
    const c = tf.add(a, b) as T;
    tf.dispose([a, b]);
    return c;
  };
  const next: tf.NamedTensorMap = {};
  for (const name of Object.keys(sum.grads)) next[name] = add(sum.grads[name]!, grads[name]!);
  return { loss: add(sum.loss, loss), grads: next };
}
