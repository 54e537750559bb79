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
  private readonly opt: Sgd;
  private readonly sampler: EpochSampler;

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

  /** One SGD iteration; resolves to its training loss. */
  async step(): Promise<number> {
    const available = this.data.train.reduce((a, s) => a + s.count, 0);
    const indices = this.sampler.nextBatch(available, this.config.batch);
    const { pixels, labels } = gatherBatch(this.data.train, indices);
    const lr = this.lr;
    const vars = this.net.trainable.map((t) => t.variable);
    const loss = tf.tidy(() => {
      const normalized = toNormalizedImages(pixels, indices.length, this.data.normalization);
      // Crops from a stream per iteration, apart from the data order's: a resumed run draws the same ones.
      const x = this.config.augment
        ? augment(normalized, createRng(deriveSeed(this.config.seed, 1, this.iter)))
        : normalized;
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

  /**
   * Test error (%) and mean loss on the test set (or testSubset), in inference mode, without augmentation; and
   * from the same pass, what it gets wrong: every image's predicted class (for the confusion matrix) and, for the
   * gallery's first test images, the probability of that prediction.
   */
  async evaluate(batchSize = Math.min(500, Math.max(this.config.batch, 100))): Promise<Evaluation> {
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
