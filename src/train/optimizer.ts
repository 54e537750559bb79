/**
 * SGD with momentum and weight decay, as Torch's optim.sgd (fb.resnet.torch, the paper's code):
 *   d = g + wd·w;   v = μ·v + d;   w = w − lr·(Nesterov ? d + μ·v : v)
 * Weight decay applies to every trainable parameter, BN's γ and β included, as Torch's optim.sgd does; BN's
 * running averages are not trainable and never seen here.
 */
import * as tf from '@tensorflow/tfjs';

export interface SgdConfig {
  momentum: number;
  nesterov: boolean;
  wd: number;
}

export class Sgd {
  private readonly velocity: tf.Variable[];

  constructor(
    private readonly params: tf.Variable[],
    private readonly c: SgdConfig,
  ) {
    this.velocity = params.map((p) => {
      // tf.variable shares the zeros' data; disposing them leaves it to the variable alone (else it outlives it).
      const zeros = tf.zerosLike(p);
      const v = tf.variable(zeros, false);
      zeros.dispose();
      return v;
    });
  }

  /** Momentum buffers, one per parameter in the same order (read for checkpoints, restored by assign). */
  get buffers(): readonly tf.Variable[] {
    return this.velocity;
  }

  /** One update from gradients keyed by variable name (tf.variableGrads' result). */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    const { momentum, nesterov, wd } = this.c;
    // One tidy per parameter: its temporaries (a few copies of that parameter) are freed before the next one's
    // are made, so the update never holds several copies of the whole network (ResNet-1001: 41 MB each).
    this.params.forEach((w, i) => {
      const g = grads[w.name];
      if (!g) throw new Error(`no gradient for ${w.name}: it does not reach the loss`);
      tf.tidy(() => {
        const d = wd > 0 ? tf.add(g, tf.mul(w, wd)) : g;
        const v = this.velocity[i]!;
        v.assign(tf.add(tf.mul(v, momentum), d));
        const step = nesterov ? tf.add(d, tf.mul(v, momentum)) : v;
        w.assign(tf.sub(w, tf.mul(step, lr)));
      });
    });
  }

  dispose(): void {
    this.velocity.forEach((v) => v.dispose());
  }
}
