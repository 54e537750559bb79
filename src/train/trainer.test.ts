import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../experiment/codec';
import { onWasmWithEmbeddedSet } from './testing';
import { toNormalizedImages } from '../data/pipeline';
import { GALLERY_SIZE } from '../experiment/record';
import { galleryOf } from './errors';
import { Trainer } from './trainer';

const data = onWasmWithEmbeddedSet();

const config = (query: string) => {
  const { config, problems } = parseQuery(
    `dataset=synthetic&depth=8&${query.includes('warmupIters') ? '' : 'warmupIters=0&'}${query}`,
  );
  expect(problems).toEqual([]);
  return config;
};

describe('Trainer', () => {
  it('keeps the live tensor count constant across iterations and evaluations', async () => {
    const t = new Trainer(config('batch=8&testSubset=64'), data());
    const counts: number[] = [];
    for (let i = 0; i < 6; i++) {
      await t.step();
      counts.push(tf.memory().numTensors);
    }
    await t.evaluate();
    const afterEval = tf.memory().numTensors;
    await t.evaluate();
    await t.step();
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(afterEval);
    expect(afterEval).toBe(counts.at(-1));
    t.dispose();
  });

  it('learns the embedded set: training loss falls and test error drops below chance', async () => {
    const t = new Trainer(config('batch=32&lr=0.1&testSubset=500'), data());
    const losses: number[] = [];
    for (let i = 0; i < 80; i++) losses.push(await t.step());
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)) - 0.3);
    const e = await t.evaluate();
    expect(e.images).toBe(500);
    expect(e.testError).toBeLessThan(75); // chance is 90%
    console.log(
      `embedded set, 80 iterations: loss ${mean(losses.slice(0, 10)).toFixed(3)} → ${mean(losses.slice(-10)).toFixed(3)}, test error ${e.testError.toFixed(1)}%`,
    );
    t.dispose();
  }, 180_000);

  it('counts what it gets wrong in the same pass: confusion matrix, and the gallery images with their predictions', async () => {
    const t = new Trainer(config('batch=16&testSubset=300'), data());
    for (let i = 0; i < 3; i++) await t.step();
    const before = tf.memory().numTensors;
    // Batches of 100: the gallery's 256 images end inside the third batch.
    const e = await t.evaluate(100);
    expect(tf.memory().numTensors).toBe(before);
    expect(e.images).toBe(300);
    expect(e.confusion).toHaveLength(100);
    const total = e.confusion.reduce((a, b) => a + b, 0);
    const trace = e.confusion.reduce((a, v, i) => (i % 11 === 0 ? a + v : a), 0);
    expect(total).toBe(300);
    expect((100 * (total - trace)) / total).toBeCloseTo(e.testError, 10);
    const gallery = galleryOf(data(), 300);
    expect(gallery.labels).toHaveLength(GALLERY_SIZE);
    expect(gallery.pixels).toHaveLength(GALLERY_SIZE * 3072);
    expect(gallery.classNames).toEqual(data().classNames);
    // Row sums of the matrix are the class counts, counted from the labels alone.
    const rowSums = gallery.classCounts.map((_, c) => e.confusion.slice(c * 10, c * 10 + 10).reduce((a, b) => a + b));
    expect(rowSums).toEqual(gallery.classCounts);
    expect(e.predicted).toHaveLength(GALLERY_SIZE);
    expect(e.confidence).toHaveLength(GALLERY_SIZE);
    // The gallery's predictions are the network's own: a separate forward pass over its first images agrees.
    const [argmax, maxProb] = tf.tidy(() => {
      const x = toNormalizedImages(gallery.pixels, 8, data().normalization);
      const p = tf.softmax(t.net.forward(x, { training: false }));
      return [tf.argMax(p, 1).arraySync() as number[], tf.max(p, 1).arraySync() as number[]];
    });
    expect(e.predicted.slice(0, 8)).toEqual(argmax);
    e.confidence.slice(0, 8).forEach((c, i) => expect(c).toBeCloseTo(maxProb[i]!, 3));
    expect(e.confidence.every((c) => c >= 0.1 - 1e-3 && c <= 1)).toBe(true); // the top of 10 is at least 1/10
    t.dispose();
  });

  it('a test subset smaller than the gallery gives a gallery of that size', async () => {
    const t = new Trainer(config('batch=4&testSubset=40'), data());
    const e = await t.evaluate();
    expect(e.predicted).toHaveLength(40);
    expect(galleryOf(data(), 40).labels).toHaveLength(40);
    expect(galleryOf(data(), 40).classCounts.reduce((a, b) => a + b)).toBe(40);
    t.dispose();
  });

  it('follows the schedule and a learning rate set by hand, from the next iteration on', async () => {
    const t = new Trainer(config('batch=4&warmupIters=2&warmupLr=0.01&lr=0.1&milestones=4'), data());
    const lrs: number[] = [];
    for (let i = 0; i < 3; i++) {
      lrs.push(t.lr);
      await t.step();
    }
    t.setLr(0.5);
    lrs.push(t.lr);
    await t.step();
    lrs.push(t.lr); // iteration 4: the milestone divides the hand-set rate too
    expect(lrs).toEqual([0.01, 0.01, 0.1, 0.5, expect.closeTo(0.05, 12)]);
    t.dispose();
  });

  it('is reproducible: the same seed gives the same losses', async () => {
    const run = async () => {
      const t = new Trainer(config('batch=4&seed=3'), data());
      const l = [await t.step(), await t.step()];
      t.dispose();
      return l;
    };
    expect(await run()).toEqual(await run());
  });
});
