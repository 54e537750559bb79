/**
 * Config → trainable tfjs network. Read `forward` top to bottom: it is the whole model.
 *
 * Layout NHWC. Parameters are tf.Variables created from the plan (plan.ts); BN running averages are
 * non-trainable variables, updated in training mode only. Convolutions pad explicitly by (k − 1)/2 on every
 * side, as Torch does: TensorFlow's 'same' pads a stride-2 conv on one side only, which would shift the
 * residual branch by a pixel against the strided shortcut.
 */
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../experiment/schema';
import { batchNormTraining } from './batchNorm';
import {
  BN_EPSILON,
  BN_MOMENTUM,
  planNetwork,
  type BNOp,
  type ConvOp,
  type NetworkPlan,
  type Op,
  type ParamSpec,
  type UnitPlan,
} from './plan';
import { SHORTCUTS } from './shortcuts';

export interface ForwardOptions {
  /** Batch statistics and running-average updates, dropout on: training mode. */
  training: boolean;
  /** Seeds the dropout masks of this step (dropout shortcut only). */
  seed?: number;
  /**
   * Applied to each unit's output x_l (l = index in plan.units, from 0) before it feeds the next unit; what it
   * returns is x_l from then on. signal.ts adds a zero tensor p_l here, so ∂E/∂p_l = ∂E/∂x_l (Eqn. 5).
   */
  probe?: (l: number, x: tf.Tensor4D) => tf.Tensor4D;
}

export interface Network {
  plan: NetworkPlan;
  /** Every variable by its plan name. */
  variables: Map<string, tf.Variable>;
  /** What the optimizer updates, in plan order, with each one's spec (role tells weights from BN parameters). */
  trainable: { spec: ParamSpec; variable: tf.Variable }[];
  /** Logits [batch, classes] for images [batch, 32, 32, 3]. */
  forward(x: tf.Tensor4D, options: ForwardOptions): tf.Tensor2D;
  /** Output of each residual unit, x_1 … x_L (for the signal-propagation view). */
  forwardUnits(x: tf.Tensor4D, options: ForwardOptions): { logits: tf.Tensor2D; unitOutputs: tf.Tensor4D[] };
  dispose(): void;
}

/** A per-parameter seed derived from the experiment's seed: one stream per tensor, stable across runs. */
function paramSeed(seed: number, index: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) % 2147483647;
}

function initialValue(spec: ParamSpec, seed: number): tf.Tensor {
  const { init, shape } = spec;
  if (init.kind === 'normal') return tf.randomNormal(shape, 0, init.std, 'float32', seed);
  if (init.kind === 'uniform') return tf.randomUniform(shape, -init.limit, init.limit, 'float32', seed);
  return tf.fill(shape, init.value);
}

/** The seed of unit `index`'s dropout mask in a forward pass seeded `seed` (dropout shortcut only). */
export function dropoutSeed(seed: number, index: number): number {
  return (seed * 1009 + index) >>> 0;
}

let built = 0;

export function buildNetwork(config: Config): Network {
  const plan = planNetwork(config);
  const variables = new Map<string, tf.Variable>();
  const id = `net${built++}`; // tfjs variable names are global: two networks may live side by side
  plan.params.forEach((spec, i) => {
    const value = initialValue(spec, paramSeed(config.seed, i));
    variables.set(spec.name, tf.variable(value, spec.trainable, `${id}/${spec.name}`));
    value.dispose();
  });
  const v = (name: string) => variables.get(name)!;

  function conv(x: tf.Tensor4D, op: ConvOp): tf.Tensor4D {
    // On WASM the gradients are our kernels (src/kernels/wasm/conv.ts): tfjs-backend-wasm has no filter gradient.
    return tf.conv2d(x, v(op.w) as tf.Tensor4D, op.stride, (op.k - 1) / 2);
  }

  function batchNorm(x: tf.Tensor4D, op: BNOp, training: boolean): tf.Tensor4D {
    const gamma = v(op.gamma);
    const beta = v(op.beta);
    const runningMean = v(op.mean);
    const runningVar = v(op.variance);
    if (!training) return tf.batchNorm(x, runningMean, runningVar, beta, gamma, BN_EPSILON) as tf.Tensor4D;
    // Batch statistics (one op with a lean gradient: batchNorm.ts). Running averages as Torch keeps them, the
    // variance estimate unbiased (n / (n − 1)). assign() is not an op, so no gradient flows through these updates.
    const n = x.shape[0] * x.shape[1] * x.shape[2];
    return batchNormTraining(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, BN_EPSILON, (mean, variance) =>
      tf.tidy(() => {
        runningMean.assign(tf.add(tf.mul(runningMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
        const unbiased = tf.mul(variance, n / Math.max(n - 1, 1));
        runningVar.assign(tf.add(tf.mul(runningVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
      }),
    );
  }

  function run(ops: Op[], x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    for (const op of ops) {
      if (op.op === 'conv') x = conv(x, op);
      else if (op.op === 'bn') x = batchNorm(x, op, training);
      else x = tf.relu(x);
    }
    return x;
  }

  /** h(x): the unit's input, reshaped where the unit changes resolution or width (NOTES.md "Downsampling"). */
  function downsample(x: tf.Tensor4D, u: UnitPlan, training: boolean): tf.Tensor4D {
    const d = u.downsample;
    if (d.kind === 'none') return x;
    if (d.kind === 'projection') return run(d.ops, x, training);
    // Option A: keep every other pixel (1×1 average pooling with stride 2, as Torch's code), append zero channels.
    const strided = d.stride === 1 ? x : tf.avgPool(x, 1, d.stride, 'valid');
    return d.extraChannels > 0
      ? tf.pad(strided, [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, d.extraChannels],
        ])
      : strided;
  }

  /** x_{l+1} = f(combine(h(x_l), F(x_l))), Eqn. (1)–(2) with the unit's shortcut rule (shortcuts.ts). */
  function residualUnit(x: tf.Tensor4D, u: UnitPlan, index: number, o: ForwardOptions): tf.Tensor4D {
    x = run(u.hoisted, x, o.training); // pre-activation before the split, first unit of a stage (Appendix)
    const f = run(u.branch, x, o.training); // F(x)
    const h = downsample(x, u, o.training); // h(x)
    const sum = SHORTCUTS[u.shortcut](x, h, f, {
      unit: u,
      training: o.training,
      seed: dropoutSeed(o.seed ?? 0, index),
      config,
      run: (ops, t) => run(ops, t, o.training),
      gate: (t) => tf.sigmoid(tf.add(conv(t, u.gate!.conv), v(u.gate!.bias))) as tf.Tensor4D,
    });
    return run(u.afterAdd, sum, o.training); // f: ReLU, BN-ReLU, or the identity (Fig. 4)
  }

  function forwardUnits(images: tf.Tensor4D, o: ForwardOptions) {
    let x = run(plan.stem, images, o.training); // conv1 (3 → 16) and what follows it
    const unitOutputs: tf.Tensor4D[] = [];
    plan.units.forEach((u, i) => {
      x = residualUnit(x, u, i, o);
      if (o.probe) x = o.probe(i, x);
      unitOutputs.push(x);
    });
    x = run(plan.head, x, o.training); // the extra BN-ReLU after the last addition (pre-activation)
    const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D; // global average pooling, 8×8
    const logits = tf.add(tf.matMul(pooled, v(plan.fc.w) as tf.Tensor2D), v(plan.fc.b)) as tf.Tensor2D;
    return { logits, unitOutputs };
  }

  return {
    plan,
    variables,
    trainable: plan.params.filter((s) => s.trainable).map((spec) => ({ spec, variable: v(spec.name) })),
    forward: (x, o) => forwardUnits(x, o).logits,
    forwardUnits,
    dispose: () => variables.forEach((t) => t.dispose()),
  };
}
