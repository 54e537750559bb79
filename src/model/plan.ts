/**
 * The network as data: config → every layer, every parameter's shape and initialiser, before any tensor exists.
 * Pure (no tfjs), so the page and the summary CLI count a ResNet-1001's parameters in milliseconds, and the
 * builder (network.ts) allocates exactly what is planned here.
 *
 * Architecture (NOTES.md "Networks"): conv1 3→16, three stages of n units at 32², 16², 8² (stride 2 entering
 * stages 2 and 3), global average pooling, fully connected layer. Basic units keep widths 16/32/64; bottleneck
 * units (1×1, 3×3, 1×1) have inner widths 16/32/64 and outputs 4× that.
 */
import type { Config } from '../experiment/schema';
import { convsInUnit, unitsPerStage } from '../experiment/network';
import { isPreActivation, UNITS, type LayerOp, type ShortcutKind } from '../experiment/units';

/** How a parameter starts (He et al. 2015 as in fb.resnet.torch: plain normal, fan-out). */
export type Init =
  { kind: 'normal'; std: number } | { kind: 'uniform'; limit: number } | { kind: 'constant'; value: number };

export type ParamRole = 'conv' | 'bn-gamma' | 'bn-beta' | 'bn-mean' | 'bn-var' | 'fc-weight' | 'fc-bias' | 'gate-bias';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
  /** false for BN running averages: state, never seen by the optimizer or weight decay. */
  trainable: boolean;
  role: ParamRole;
}

export interface ConvOp {
  op: 'conv';
  /** Weight [k, k, cin, cout], no bias (BN follows). */
  w: string;
  k: 1 | 3;
  stride: 1 | 2;
  cin: number;
  cout: number;
}
export interface BNOp {
  op: 'bn';
  gamma: string;
  beta: string;
  mean: string;
  variance: string;
  channels: number;
}
export interface ReluOp {
  op: 'relu';
}
export type Op = ConvOp | BNOp | ReluOp;

/** How a unit's input reaches the addition when its shape changes (NOTES.md "Downsampling"). */
export type Downsample =
  | { kind: 'none' }
  /** Option A: strided identity, extra channels zero (basic units; no parameters). */
  | { kind: 'zero-pad'; stride: 1 | 2; extraChannels: number }
  /** 1×1 strided projection (bottleneck units), with BN in post-activation nets (resnet.lua), without in
   *  pre-activation nets, where the next unit normalises (preresnet.lua). */
  | { kind: 'projection'; ops: Op[] };

export interface UnitPlan {
  name: string;
  stage: number;
  cin: number;
  cout: number;
  stride: 1 | 2;
  /** Pre-activation moved before the split in a stage's first unit, so the shortcut sees it too (Appendix). */
  hoisted: Op[];
  /** The residual function F. */
  branch: Op[];
  shortcut: ShortcutKind;
  downsample: Downsample;
  /** 1×1 conv of the gate g(x) = σ(W_g x + b_g), with its bias (gating units only). */
  gate?: { conv: ConvOp; bias: string };
  /** BN(W_s x), the 1×1 conv shortcut of Fig. 2e. */
  convShortcut?: Op[];
  afterAdd: Op[];
}

export interface NetworkPlan {
  config: Config;
  classes: number;
  stem: Op[];
  units: UnitPlan[];
  head: Op[];
  fc: { w: string; b: string; cin: number; classes: number };
  params: ParamSpec[];
}

export interface ModelSummary {
  params: number;
  trainableParams: number;
  units: number;
  weightLayers: number;
  block: Config['block'];
}

/**
 * Torch's BatchNorm settings (NOTES.md "BatchNorm"), which every executor uses: ε = 1e-5, and running averages
 * `(1 − momentum)·running + momentum·batch` with momentum 0.1 (Torch's convention: the weight of the new batch),
 * the running variance unbiased (n / (n − 1)).
 */
export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

export const CLASSES: Record<Config['dataset'], number> = { cifar10: 10, cifar100: 100, synthetic: 10 };

/** Collects parameter specs while the plan is laid out; names are paths like "s2.u0.conv1.w". */
class Params {
  readonly specs: ParamSpec[] = [];

  private add(name: string, shape: number[], init: Init, role: ParamRole, trainable = true): string {
    this.specs.push({ name, shape, init, role, trainable });
    return name;
  }

  conv(name: string, k: 1 | 3, cin: number, cout: number, stride: 1 | 2 = 1): ConvOp {
    const std = Math.sqrt(2 / (k * k * cout)); // fb.resnet.torch: n = kW·kH·nOutputPlane, normal(0, √(2/n))
    return {
      op: 'conv',
      w: this.add(`${name}.w`, [k, k, cin, cout], { kind: 'normal', std }, 'conv'),
      k,
      stride,
      cin,
      cout,
    };
  }

  bn(name: string, channels: number): BNOp {
    return {
      op: 'bn',
      gamma: this.add(`${name}.gamma`, [channels], { kind: 'constant', value: 1 }, 'bn-gamma'),
      beta: this.add(`${name}.beta`, [channels], { kind: 'constant', value: 0 }, 'bn-beta'),
      mean: this.add(`${name}.mean`, [channels], { kind: 'constant', value: 0 }, 'bn-mean', false),
      variance: this.add(`${name}.var`, [channels], { kind: 'constant', value: 1 }, 'bn-var', false),
      channels,
    };
  }

  bias(name: string, size: number, value: number, role: ParamRole): string {
    return this.add(name, [size], { kind: 'constant', value }, role);
  }

  dense(name: string, cin: number, classes: number) {
    // Torch's nn.Linear weight default, uniform(±1/√fan_in); fb.resnet.torch zeroes the bias.
    const w = this.add(`${name}.w`, [cin, classes], { kind: 'uniform', limit: 1 / Math.sqrt(cin) }, 'fc-weight');
    return { w, b: this.bias(`${name}.b`, classes, 0, 'fc-bias'), cin, classes };
  }

  /** Turns a template like BN-ReLU-W into ops; `weights` supplies the next weight layer for each W. */
  ops(
    prefix: string,
    template: readonly LayerOp[],
    channels: number,
    weights: () => ConvOp,
  ): { ops: Op[]; channels: number } {
    const ops: Op[] = [];
    for (const t of template) {
      if (t === 'ReLU') ops.push({ op: 'relu' });
      else if (t === 'BN') ops.push(this.bn(`${prefix}.bn${ops.filter((o) => o.op === 'bn').length}`, channels));
      else {
        const conv = weights();
        channels = conv.cout;
        ops.push(conv);
      }
    }
    return { ops, channels };
  }
}

const STAGE_WIDTHS = [16, 32, 64];

/** For templates that hold no weight layer (stem, head, after-add). */
const noWeights = (): ConvOp => {
  throw new Error('this template holds no weight layer');
};

/** Plans one residual unit from its structure (units.ts) and its shapes. */
function planUnit(
  p: Params,
  config: Config,
  name: string,
  stage: number,
  cin: number,
  stride: 1 | 2,
  hoist: boolean,
): UnitPlan {
  const s = UNITS[config.unit].structure;
  const bottleneck = config.block === 'bottleneck';
  const width = STAGE_WIDTHS[stage]!;
  const cout = bottleneck ? 4 * width : width;

  // The weight layers of F, in order: bottleneck 1×1 → 3×3 (strided, as fb.resnet.torch) → 1×1; basic 3×3 ×k.
  const shapes: { k: 1 | 3; cin: number; cout: number; stride: 1 | 2 }[] = bottleneck
    ? [
        { k: 1, cin, cout: width, stride: 1 },
        { k: 3, cin: width, cout: width, stride },
        { k: 1, cin: width, cout, stride: 1 },
      ]
    : Array.from({ length: config.convsPerUnit }, (_, i) => ({
        k: 3,
        cin: i === 0 ? cin : cout,
        cout,
        stride: i === 0 ? stride : 1,
      }));
  let next = 0;
  const weight = () => {
    const w = shapes[next]!;
    return p.conv(`${name}.conv${next++}`, w.k, w.cin, w.cout, w.stride);
  };

  // F = each, each, …, last (one template per weight layer). In a stage's first pre-activation unit, the
  // activations before the first weight layer move before the split (hoisted).
  const templates = shapes.map((_, i) => (i === shapes.length - 1 ? s.last : s.each));
  const firstW = templates[0]!.indexOf('W');
  const hoisted = hoist ? p.ops(`${name}.pre`, templates[0]!.slice(0, firstW), cin, weight).ops : [];
  if (hoist) templates[0] = templates[0]!.slice(firstW);
  const branch: Op[] = [];
  let channels = cin;
  templates.forEach((t, i) => {
    const r = p.ops(`${name}.f${i}`, t, channels, weight);
    branch.push(...r.ops);
    channels = r.channels;
  });

  const reshape = stride !== 1 || cin !== cout;
  let downsample: Downsample = { kind: 'none' };
  if (reshape && s.shortcut !== 'conv') {
    downsample = bottleneck
      ? {
          kind: 'projection',
          ops: [
            p.conv(`${name}.proj`, 1, cin, cout, stride),
            ...(isPreActivation(config.unit) ? [] : [p.bn(`${name}.proj.bn`, cout)]),
          ],
        }
      : { kind: 'zero-pad', stride, extraChannels: cout - cin };
  }

  const plan: UnitPlan = {
    name,
    stage,
    cin,
    cout,
    stride,
    hoisted,
    branch,
    shortcut: s.shortcut,
    downsample,
    afterAdd: p.ops(`${name}.post`, s.afterAdd, cout, noWeights).ops,
  };
  if (s.shortcut === 'exclusive-gate' || s.shortcut === 'shortcut-gate') {
    plan.gate = {
      conv: p.conv(`${name}.gate`, 1, cin, cout, stride),
      bias: p.bias(`${name}.gate.b`, cout, config.gateBias, 'gate-bias'),
    };
  }
  if (s.shortcut === 'conv')
    plan.convShortcut = [p.conv(`${name}.shortcut`, 1, cin, cout, stride), p.bn(`${name}.shortcut.bn`, cout)];
  return plan;
}

/** Plans the whole network; throws only for a depth the schema would have refused. */
export function planNetwork(config: Config): NetworkPlan {
  const n = unitsPerStage(config);
  if (n === null) throw new Error(`depth ${config.depth} is not valid for ${config.block} units`);
  const s = UNITS[config.unit].structure;
  const p = new Params();
  // conv1 is followed by what follows a weight layer in the unit (BN-ReLU for post-activation units, nothing
  // for full pre-activation, whose first unit applies BN-ReLU before its split).
  const stem = [p.conv('conv1', 3, 3, 16), ...p.ops('stem', s.stem, 16, noWeights).ops];

  const units: UnitPlan[] = [];
  let channels = 16;
  for (let stage = 0; stage < 3; stage++) {
    for (let i = 0; i < n; i++) {
      const stride = stage > 0 && i === 0 ? 2 : 1;
      const u = planUnit(
        p,
        config,
        `s${stage + 1}.u${i}`,
        stage,
        channels,
        stride,
        i === 0 && isPreActivation(config.unit),
      );
      units.push(u);
      channels = u.cout;
    }
  }
  const head = p.ops('head', s.head, channels, noWeights).ops;
  const classes = CLASSES[config.dataset];
  const fc = p.dense('fc', channels, classes);
  return { config, classes, stem, units, head, fc, params: p.specs };
}

/** The figures `npm run summary` and the page show; weight layers count conv1, the units' convs and fc. */
export function summarizePlan(plan: NetworkPlan): ModelSummary {
  const size = (s: ParamSpec) => s.shape.reduce((a, b) => a * b, 1);
  const units = plan.units.length;
  return {
    params: plan.params.reduce((a, s) => a + size(s), 0),
    trainableParams: plan.params.filter((s) => s.trainable).reduce((a, s) => a + size(s), 0),
    units,
    weightLayers: 1 + units * convsInUnit(plan.config) + 1,
    block: plan.config.block,
  };
}
