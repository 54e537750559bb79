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
import { Sgd } from './optimizer';
import { lrAt, type LrOverride } from './schedule';

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

  /** Test error (%) and mean loss on the test set (or testSubset), in inference mode, without augmentation. */
  async evaluate(batchSize = Math.min(500, Math.max(this.config.batch, 100))): Promise<Evaluation> {
    const test = this.data.test;
    let wrong = tf.scalar(0);
    let lossSum = tf.scalar(0);
    let images = 0;
    for (const { start, end } of testBatches(test, batchSize, this.config.testSubset)) {
      const { pixels, labels } = gatherBatch(test, rangeIndices(start, end));
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
