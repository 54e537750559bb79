import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { augment, EpochSampler, gatherBatch, labelsTensor, toNormalizedImages } from '../data/pipeline';
import { createRng, deriveSeed } from '../data/rng';
import { parseQuery } from '../experiment/codec';
import type { Config } from '../experiment/schema';
import { buildNetwork, type Network } from '../model/network';
import { Sgd } from './optimizer';
import { lrAt } from './schedule';
import { onWasmWithEmbeddedSet, resolved } from './testing';
import { GALLERY_SIZE } from '../experiment/record';
import { galleryOf } from './errors';
import { Trainer } from './trainer';

const data = onWasmWithEmbeddedSet();

const config = (query: string) => {
  const { config, problems } = parseQuery(
    `dataset=synthetic&depth=8&${query.includes('warmupIters') ? '' : 'warmupIters=0&'}${query}`,
  );
  expect(problems).toEqual([]);
  return resolved(config);
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

describe('micro-batches', () => {
  /** Everything a step reads, drawn as Trainer.step draws it: the batch's records and their augmented images. */
  function drawBatch(c: Config, sampler: EpochSampler, iter: number) {
    const d = data();
    const available = d.train.reduce((a, s) => a + s.count, 0);
    const indices = sampler.nextBatch(available, c.batch);
    const { pixels, labels } = gatherBatch(d.train, indices);
    return { pixels, labels, n: indices.length, rng: createRng(deriveSeed(c.seed, 1, iter)) };
  }

  const variables = (net: Network) => new Map([...net.variables].map(([k, v]) => [k, Array.from(v.dataSync())]));

  it.each(['unit=original', 'unit=dropout-shortcut'])(
    'microBatch = batch is bit for bit the step without micro-batches (losses and weights): %s',
    async (query) => {
      const c = config(`batch=8&microBatch=8&${query}`);
      const t = new Trainer(c, data());
      // The step as it was before micro-batches, in one tidy.
      const net = buildNetwork(c);
      const opt = new Sgd(
        net.trainable.map((v) => v.variable),
        c,
      );
      const sampler = new EpochSampler(c.seed, c.trainSubset);
      for (let iter = 0; iter < 3; iter++) {
        const { pixels, labels, n, rng } = drawBatch(c, sampler, iter);
        const want = tf.tidy(() => {
          const x = augment(toNormalizedImages(pixels, n, data().normalization), rng);
          const y = labelsTensor(labels, net.plan.classes);
          const { value, grads } = tf.variableGrads(
            () => tf.losses.softmaxCrossEntropy(y, net.forward(x, { training: true, seed: iter })) as tf.Scalar,
            net.trainable.map((v) => v.variable),
          );
          opt.apply(grads, lrAt(c, iter, []));
          return value.dataSync()[0]!;
        });
        expect(await t.step()).toBe(want);
      }
      const got = variables(t.net);
      for (const [name, values] of variables(net)) expect(got.get(name), name).toEqual(values);
      t.dispose();
      opt.dispose();
      net.dispose();
    },
    60_000,
  );

  it('k micro-batches: the update uses the mean of the k gradients, the loss is the mean, BN averages update k times', async () => {
    const c = config('batch=8&microBatch=2&unit=dropout-shortcut&momentum=0&wd=0');
    const k = 4;
    const t = new Trainer(c, data());
    // What the optimizer is handed: the gradient the step applies.
    const opt = (t as unknown as { opt: Sgd }).opt;
    const apply = opt.apply.bind(opt);
    let applied: Map<string, Float32Array> | null = null;
    opt.apply = (grads, lr) => {
      applied = new Map(Object.entries(grads).map(([name, g]) => [name, g.dataSync().slice() as Float32Array]));
      apply(grads, lr);
    };
    // An explicit loop over the same four micro-batches, on a second copy of the network.
    const net = buildNetwork(c);
    const byName = new Map(t.net.trainable.map(({ spec, variable }) => [variable.name, spec.name]));
    const { pixels, labels, n, rng } = drawBatch(c, new EpochSampler(c.seed, c.trainSubset), 0);
    const x = augment(toNormalizedImages(pixels, n, data().normalization), rng);
    const y = labelsTensor(labels, net.plan.classes);
    const losses: number[] = [];
    const sums = new Map<string, Float64Array>();
    for (let j = 0; j < k; j++) {
      tf.tidy(() => {
        const xj = tf.slice(x, [2 * j, 0, 0, 0], [2, -1, -1, -1]);
        const yj = tf.slice(y, [2 * j, 0], [2, -1]);
        const seed = j === 0 ? 0 : deriveSeed(0, j);
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(yj, net.forward(xj, { training: true, seed })) as tf.Scalar,
          net.trainable.map((v) => v.variable),
        );
        losses.push(value.dataSync()[0]!);
        for (const { spec, variable } of net.trainable) {
          const g = grads[variable.name]!.dataSync();
          const s = sums.get(spec.name) ?? new Float64Array(g.length);
          g.forEach((v, i) => (s[i]! += v / k));
          sums.set(spec.name, s);
        }
      });
    }
    tf.dispose([x, y]);
    const loss = await t.step();
    expect(loss).toBeCloseTo(losses.reduce((a, b) => a + b, 0) / k, 6);
    expect(applied!.size).toBe(sums.size);
    for (const [tfName, g] of applied!) {
      const want = sums.get(byName.get(tfName)!)!;
      const scale = Math.max(...want.map(Math.abs));
      g.forEach((v, i) => expect(Math.abs(v - want[i]!), tfName).toBeLessThanOrEqual(1e-6 * scale + 1e-9));
    }
    // BN running averages: exactly where the explicit loop's k forward passes left them, and not where one pass
    // over all eight images would.
    const running = (nn: Network) =>
      nn.plan.params.filter((p) => !p.trainable).map((p) => Array.from(nn.variables.get(p.name)!.dataSync()));
    expect(running(t.net)).toEqual(running(net));
    const whole = new Trainer({ ...c, microBatch: 8 }, data());
    await whole.step();
    expect(running(whole.net)).not.toEqual(running(net));
    [t, whole].forEach((x) => x.dispose());
    net.dispose();
  }, 60_000);

  it('keeps the live tensor count constant across steps of several passes', async () => {
    const t = new Trainer(config('batch=8&microBatch=2&testSubset=16'), data());
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      await t.step();
      counts.push(tf.memory().numTensors);
    }
    await t.evaluate();
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(counts[0]);
    t.dispose();
  });

  it('needs microBatch resolved, and dividing the batch', () => {
    const c = config('batch=8');
    expect(() => new Trainer({ ...c, microBatch: 'auto' }, data())).toThrow(/must be resolved/);
    expect(() => new Trainer({ ...c, microBatch: 3 }, data())).toThrow(/must divide the batch \(8\)/);
  });
});
