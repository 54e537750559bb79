import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseQuery } from '../experiment/codec';
import type { Config } from '../experiment/schema';
import { UNIT_IDS } from '../experiment/units';
import { buildNetwork, type Network } from './network';
import { BN_EPSILON } from './plan';

const cfg = (query: string): Config => {
  const { config, problems } = parseQuery(query);
  expect(problems).toEqual([]);
  return config;
};
const images = (n: number, seed = 3, size = 32) =>
  tf.randomNormal([n, size, size, 3], 0, 1, 'float32', seed) as tf.Tensor4D;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function crossEntropy(net: Network, x: tf.Tensor4D, labels: number[], training: boolean) {
  const logits = net.forward(x, { training, seed: 1 });
  return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits) as tf.Scalar;
}

describe('every variant builds and learns', () => {
  const cases = UNIT_IDS.flatMap(
    (unit) =>
      [
        [unit, 'basic', 8],
        [unit, 'bottleneck', 11],
      ] as const,
  );

  it.each(cases)('%s / %s: logits [N, classes], a gradient step moves every trainable weight', (unit, block, depth) => {
    const net = buildNetwork(cfg(`unit=${unit}&block=${block}&depth=${depth}&dataset=cifar100`));
    // 8×8 images: the network is size-agnostic (global average pooling), and tfjs's CPU conv gradients in Node
    // cost about a second per 32×32 layer.
    const x = images(4, 3, 8);
    for (const training of [true, false]) {
      tf.tidy(() => {
        const logits = net.forward(x, { training, seed: 1 });
        expect(logits.shape).toEqual([4, 100]);
        expect(logits.isNaN().any().dataSync()[0]).toBe(0);
        const vars = net.trainable.map((t) => t.variable);
        const { grads } = tf.variableGrads(() => crossEntropy(net, x, [0, 1, 2, 3], training), vars);
        for (const { spec, variable } of net.trainable) {
          const g = grads[variable.name]!;
          const before = variable.dataSync().slice();
          const after = tf.sub(variable, tf.mul(g, 1)).dataSync();
          const moved = after.some((a, i) => a !== before[i]);
          expect(moved, `${spec.name} (${training ? 'train' : 'eval'}) should move`).toBe(true);
        }
      });
    }
    x.dispose();
    net.dispose();
  });
});

describe('initialisation', () => {
  const values = (net: Network) => net.plan.params.map((p) => Array.from(net.variables.get(p.name)!.dataSync()));

  it('is the same for the same seed and differs for another', () => {
    const a = buildNetwork(cfg('depth=8&seed=5'));
    const b = buildNetwork(cfg('depth=8&seed=5'));
    const c = buildNetwork(cfg('depth=8&seed=6'));
    expect(values(a)).toEqual(values(b));
    const conv1 = (n: Network) => Array.from(n.variables.get('conv1.w')!.dataSync());
    expect(conv1(a)).not.toEqual(conv1(c));
    [a, b, c].forEach((n) => n.dispose());
  });

  it('draws convs from normal(0, √(2 / (k·k·out))) and sets BN to γ = 1, β = 0, mean 0, var 1', () => {
    const net = buildNetwork(cfg('depth=110&unit=original'));
    const w = net.variables.get('s3.u5.conv1.w')!; // 3×3, 64 → 64: std √(2/576) ≈ 0.0589
    const { mean, variance } = tf.moments(w);
    expect(Math.abs(mean.dataSync()[0]!)).toBeLessThan(0.002);
    expect(Math.sqrt(variance.dataSync()[0]!)).toBeCloseTo(Math.sqrt(2 / (9 * 64)), 3);
    expect(tf.max(tf.abs(w)).dataSync()[0]!).toBeGreaterThan(2.5 * Math.sqrt(2 / 576)); // not truncated
    expect(Array.from(net.variables.get('s3.u5.f0.bn0.gamma')!.dataSync())).toEqual(new Array(64).fill(1));
    expect(Array.from(net.variables.get('s3.u5.f0.bn0.beta')!.dataSync())).toEqual(new Array(64).fill(0));
    expect(Array.from(net.variables.get('fc.b')!.dataSync())).toEqual(new Array(10).fill(0));
    expect(net.variables.get('s3.u5.f0.bn0.mean')!.trainable).toBe(false);
    net.dispose();
  });

  it('starts each gate bias at gateBias', () => {
    const net = buildNetwork(cfg('depth=8&unit=exclusive-gate&gateBias=-7'));
    expect(Array.from(net.variables.get('s2.u0.gate.b')!.dataSync())).toEqual(new Array(32).fill(-7));
    net.dispose();
  });
});

describe('training and inference modes', () => {
  it('normalises with batch statistics and updates running averages (momentum 0.9) in training only', () => {
    const net = buildNetwork(cfg('depth=8&unit=original'));
    const mean = net.variables.get('stem.bn0.mean')!;
    const x = images(8);
    tf.tidy(() => net.forward(x, { training: false }));
    expect(Array.from(mean.dataSync()).every((m) => m === 0)).toBe(true);
    const batchMean = tf.tidy(() =>
      tf.moments(tf.conv2d(x, net.variables.get('conv1.w') as tf.Tensor4D, 1, 1), [0, 1, 2]).mean.dataSync(),
    );
    tf.tidy(() => net.forward(x, { training: true }));
    Array.from(mean.dataSync()).forEach((m, i) => expect(m).toBeCloseTo(0.1 * batchMean[i]!, 5));
    x.dispose();
    net.dispose();
  });

  it('gives the optimizer only trainable variables, each tagged with its role', () => {
    const net = buildNetwork(cfg('depth=8&unit=shortcut-gate'));
    const roles = new Set(net.trainable.map((t) => t.spec.role));
    expect([...roles].sort()).toEqual(['bn-beta', 'bn-gamma', 'conv', 'fc-bias', 'fc-weight', 'gate-bias']);
    expect(net.trainable.every((t) => t.variable.trainable)).toBe(true);
    net.dispose();
  });

  it('applies shortcut dropout in training only, the same mask for the same seed', () => {
    const net = buildNetwork(cfg('depth=8&unit=dropout-shortcut&dropRate=0.5'));
    const x = images(2);
    const run = (training: boolean, seed: number) =>
      tf.tidy(() => Array.from(net.forward(x, { training, seed }).dataSync()));
    expect(run(false, 1)).toEqual(run(false, 2));
    // Training mode also moves BN running averages; compare training outputs with themselves only.
    expect(run(true, 1)).toEqual(run(true, 1));
    expect(run(true, 1)).not.toEqual(run(true, 2));
    x.dispose();
    net.dispose();
  });
});

describe('memory', () => {
  it('frees every tensor it made when disposed, and a forward pass in tidy leaks nothing', () => {
    const before = tf.memory().numTensors;
    const net = buildNetwork(cfg('depth=11&block=bottleneck&unit=exclusive-gate'));
    const x = images(2);
    const afterBuild = tf.memory().numTensors;
    tf.tidy(() => {
      net.forward(x, { training: true, seed: 1 });
      net.forward(x, { training: false });
    });
    expect(tf.memory().numTensors).toBe(afterBuild);
    x.dispose();
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/**
 * Each unit against a hand-written reference on a small tensor: the second unit of stage 1 of a ResNet-14
 * (16 → 16 channels, no downsampling, no hoisting), in inference mode so BN uses its running averages.
 */
describe('unit computations against hand-written references', () => {
  function unitIO(query: string, setup?: (net: Network) => void) {
    const net = buildNetwork(cfg(`depth=14&${query}`));
    setup?.(net);
    const { unitOutputs } = net.forwardUnits(images(2, 9), { training: false });
    return { net, x: unitOutputs[0]!, out: unitOutputs[1]! };
  }
  const w = (net: Network, name: string) => net.variables.get(`s1.u1.${name}`)! as tf.Tensor;
  const conv = (x: tf.Tensor4D, net: Network, name: string) =>
    tf.conv2d(x, w(net, `${name}.w`) as tf.Tensor4D, 1, 'same');
  // BN at initialisation in inference mode: (x − 0) / √(1 + ε) · 1 + 0, with γ and β read in case they moved.
  const bn = (x: tf.Tensor, net: Network, name: string) =>
    tf.add(tf.mul(tf.div(x, Math.sqrt(1 + BN_EPSILON)), w(net, `${name}.gamma`)), w(net, `${name}.beta`));
  /** F of a post-activation basic unit: conv-BN-ReLU-conv-BN. */
  const postF = (x: tf.Tensor4D, net: Network) =>
    bn(conv(tf.relu(bn(conv(x, net, 'conv0'), net, 'f0.bn0')) as tf.Tensor4D, net, 'conv1'), net, 'f1.bn0');
  const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;

  it('original: ReLU(x + F(x))', () =>
    tf.tidy(() => {
      const { net, x, out } = unitIO('unit=original');
      expect(maxDiff(out, tf.relu(tf.add(x, postF(x, net))))).toBeLessThan(1e-5);
      net.dispose();
    }));

  it('scale with λ = 0.5, s = 0.5 halves both paths: ReLU(0.5·x + 0.5·F(x))', () =>
    tf.tidy(() => {
      const { net, x, out } = unitIO('unit=scale&shortcutScale=0.5&residualScale=0.5');
      expect(maxDiff(out, tf.relu(tf.add(tf.mul(x, 0.5), tf.mul(postF(x, net), 0.5))))).toBeLessThan(1e-5);
      net.dispose();
    }));

  it('exclusive gate with b_g = −6 and W_g = 0 passes ≈ x through', () =>
    tf.tidy(() => {
      const { net, x, out } = unitIO('unit=exclusive-gate&gateBias=-6', (n) =>
        n.variables.get('s1.u1.gate.w')!.assign(tf.zerosLike(n.variables.get('s1.u1.gate.w')!)),
      );
      const g = 1 / (1 + Math.exp(6));
      expect(maxDiff(out, tf.relu(tf.add(tf.mul(x, 1 - g), tf.mul(postF(x, net), g))))).toBeLessThan(1e-5);
      // x ≥ 0 (it left a ReLU), so ReLU((1 − g)·x + g·F) ≈ x: off by g·|F − x| at most.
      expect(maxDiff(out, x)).toBeLessThan(g * (maxDiff(postF(x, net), x) + 1e-3));
      net.dispose();
    }));

  it('shortcut-only gate with b_g = 0 and W_g = 0: ReLU(0.5·x + F(x))', () =>
    tf.tidy(() => {
      const { net, x, out } = unitIO('unit=shortcut-gate&gateBias=0', (n) =>
        n.variables.get('s1.u1.gate.w')!.assign(tf.zerosLike(n.variables.get('s1.u1.gate.w')!)),
      );
      expect(maxDiff(out, tf.relu(tf.add(tf.mul(x, 0.5), postF(x, net))))).toBeLessThan(1e-5);
      net.dispose();
    }));

  it('1×1 conv shortcut: ReLU(BN(W_s x) + F(x))', () =>
    tf.tidy(() => {
      const { net, x, out } = unitIO('unit=conv-shortcut');
      const s = bn(conv(x, net, 'shortcut'), net, 'shortcut.bn');
      expect(maxDiff(out, tf.relu(tf.add(s, postF(x, net))))).toBeLessThan(1e-5);
      net.dispose();
    }));

  it('dropout shortcut is the identity in inference: ReLU(x + F(x))', () =>
    tf.tidy(() => {
      const { net, x, out } = unitIO('unit=dropout-shortcut&dropRate=0.5');
      expect(maxDiff(out, tf.relu(tf.add(x, postF(x, net))))).toBeLessThan(1e-5);
      net.dispose();
    }));

  it('BN after addition: ReLU(BN(x + conv-BN-ReLU-conv(x)))', () =>
    tf.tidy(() => {
      const { net, x, out } = unitIO('unit=bn-after-add');
      const f = conv(tf.relu(bn(conv(x, net, 'conv0'), net, 'f0.bn0')) as tf.Tensor4D, net, 'conv1');
      expect(maxDiff(out, tf.relu(bn(tf.add(x, f), net, 'post.bn0')))).toBeLessThan(1e-5);
      net.dispose();
    }));

  it('ReLU before addition never makes the sum smaller than x', () =>
    tf.tidy(() => {
      const { net, x, out } = unitIO('unit=relu-before-add');
      expect(tf.min(tf.sub(out, x)).dataSync()[0]!).toBeGreaterThanOrEqual(0);
      expect(maxDiff(out, x)).toBeGreaterThan(0);
      net.dispose();
    }));

  it('full pre-activation: x + conv(ReLU(BN(conv(ReLU(BN(x))))))', () =>
    tf.tidy(() => {
      const { net, x, out } = unitIO('unit=full-preact');
      const f = conv(
        tf.relu(bn(conv(tf.relu(bn(x, net, 'f0.bn0')) as tf.Tensor4D, net, 'conv0'), net, 'f1.bn0')) as tf.Tensor4D,
        net,
        'conv1',
      );
      expect(maxDiff(out, tf.add(x, f))).toBeLessThan(1e-5);
      net.dispose();
    }));

  it('ReLU-only pre-activation: x + BN(conv(ReLU(BN(conv(ReLU(x))))))', () =>
    tf.tidy(() => {
      const { net, x, out } = unitIO('unit=relu-preact');
      const f = bn(
        conv(tf.relu(bn(conv(tf.relu(x) as tf.Tensor4D, net, 'conv0'), net, 'f0.bn0')) as tf.Tensor4D, net, 'conv1'),
        net,
        'f1.bn0',
      );
      expect(maxDiff(out, tf.add(x, f))).toBeLessThan(1e-5);
      net.dispose();
    }));
});
