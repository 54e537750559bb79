import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../experiment/codec';
import { onWasmWithEmbeddedSet } from './testing';
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
