import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Sgd } from './optimizer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('SGD as Torch', () => {
  it('applies momentum and weight decay: v = μv + g + wd·w, w −= lr·v', () => {
    const w = tf.variable(tf.tensor1d([1, -2]), true, 'sgd-test-w');
    const opt = new Sgd([w], { momentum: 0.9, nesterov: false, wd: 0.1 });
    const g = { [w.name]: tf.tensor1d([0.5, 0.5]) };
    opt.apply(g, 0.1); // d = [0.6, 0.3], v = d, w = [0.94, -2.03]
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.94, 6), expect.closeTo(-2.03, 6)]);
    opt.apply(g, 0.1); // d = [0.594, 0.297], v = [1.134, 0.567], w = [0.8266, -2.0867]
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.8266, 5), expect.closeTo(-2.0867, 5)]);
    opt.dispose();
    w.dispose();
  });

  it('takes the Nesterov step d + μ·v when asked', () => {
    const w = tf.variable(tf.tensor1d([1]), true, 'sgd-test-n');
    const opt = new Sgd([w], { momentum: 0.9, nesterov: true, wd: 0 });
    opt.apply({ [w.name]: tf.tensor1d([1]) }, 0.1); // v = 1, step = 1 + 0.9 = 1.9
    expect(w.dataSync()[0]).toBeCloseTo(0.81, 6);
    opt.dispose();
    w.dispose();
  });

  it('refuses a parameter without a gradient, and leaks nothing', () => {
    const w = tf.variable(tf.tensor1d([1]), true, 'sgd-test-l');
    const opt = new Sgd([w], { momentum: 0.9, nesterov: false, wd: 1e-4 });
    const before = tf.memory().numTensors;
    const g = tf.tensor1d([1]);
    opt.apply({ [w.name]: g }, 0.1);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => opt.apply({}, 0.1)).toThrow(/no gradient/);
    opt.dispose();
    w.dispose();
  });
});

describe('Sgd memory', () => {
  it('frees every tensor it made when disposed', () => {
    const w = tf.variable(tf.ones([3, 3]));
    const before = tf.memory().numTensors;
    new Sgd([w], { momentum: 0.9, nesterov: false, wd: 0 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
  });
});
