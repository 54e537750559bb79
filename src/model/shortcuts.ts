/**
 * One small builder per shortcut kind of Fig. 2: given the unit's input x (after any hoisted pre-activation),
 * the shortcut signal h(x) (x downsampled where the shape changes) and the residual F(x), return the sum that
 * goes into f. Everything else about a unit is data (src/experiment/units.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { ShortcutKind } from '../experiment/units';
import type { UnitPlan } from './plan';

export interface ShortcutContext {
  unit: UnitPlan;
  training: boolean;
  /** Seed for this unit's dropout mask (dropout shortcut only). */
  seed: number;
  config: { shortcutScale: number; residualScale: number; dropRate: number };
  /** Applies a list of planned ops (conv, BN, ReLU) to a tensor. */
  run(ops: UnitPlan['branch'], x: tf.Tensor4D): tf.Tensor4D;
  /** The gate g(x) = σ(W_g x + b_g) of a gating unit (Fig. 2c, 2d). */
  gate(x: tf.Tensor4D): tf.Tensor4D;
}

type Combine = (x: tf.Tensor4D, h: tf.Tensor4D, f: tf.Tensor4D, c: ShortcutContext) => tf.Tensor4D;

export const SHORTCUTS: Record<ShortcutKind, Combine> = {
  // Fig. 2a: x_{l+1} = f(h(x) + F(x)), h the identity (or option-A / projection where the shape changes).
  identity: (_x, h, f) => tf.add(h, f),

  // Fig. 2b: λ·h(x) + s·F(x). λ = 0 is a plain network; λ = s = 0.5 is the paper's "frozen gating".
  scale: (_x, h, f, c) => tf.add(tf.mul(h, c.config.shortcutScale), tf.mul(f, c.config.residualScale)),

  // Fig. 2c: (1 − g(x))·h(x) + g(x)·F(x), as in Highway networks.
  'exclusive-gate': (x, h, f, c) => {
    const g = c.gate(x);
    return tf.add(tf.mul(tf.sub(1, g), h), tf.mul(g, f));
  },

  // Fig. 2d: (1 − g(x))·h(x) + F(x): only the shortcut is gated.
  'shortcut-gate': (x, h, f, c) => tf.add(tf.mul(tf.sub(1, c.gate(x)), h), f),

  // Fig. 2e: BN(W_s x) + F(x): a 1×1 conv on every shortcut (it also does the downsampling).
  conv: (x, _h, f, c) => tf.add(c.run(c.unit.convShortcut!, x), f),

  // Fig. 2f: dropout(h(x)) + F(x), training only. Inverted dropout (kept values scaled by 1/(1−p)), as Caffe's
  // and Torch's dropout layers do, so evaluation uses the shortcut unchanged.
  dropout: (_x, h, f, c) =>
    tf.add(c.training && c.config.dropRate > 0 ? tf.dropout(h, c.config.dropRate, undefined, c.seed) : h, f),
};
