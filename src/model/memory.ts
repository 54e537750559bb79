/**
 * The memory plan (pure, no tfjs): the peak bytes of one training step of a config, for a micro-batch size and a
 * backend, so a run can be sized (microBatch=auto) or refused before anything is allocated, and the page and
 * `npm run summary` can say what a network needs.
 *
 * What it counts, for a step of m images per pass (src/train/trainer.ts):
 *   weights      every variable: parameters and BN running averages (4 bytes a value); on WASM also the copy of
 *                each conv's filter and BN's γ and statistics that the tape saves for the backward pass
 *   optimizer    SGD's momentum buffers (one per trainable parameter)
 *   gradients    one pass's parameter gradients, plus their running sum when a step has several passes
 *   batch        the step's images, normalised and augmented, and their labels (the whole batch)
 *   activations  what tfjs keeps for the backward pass of m images: every tensor an op saves (a conv its input,
 *                BN its input, ReLU its input, an addition both inputs, …) and, by the end of the backward
 *                pass, a gradient for every tensor on the path (tfjs frees none of them before the pass ends;
 *                a tensor read twice, like x_l on the shortcut and the branch, holds its second contribution and
 *                the sum). The forward pass's own peak (all its tensors, until its scope ends) is counted too and
 *                the larger of the two is used.
 *   workspace    the largest temporary of one op's backward pass: on WASM the conv gradients' relaid copies of
 *                x and dy (src/kernels/wasm/conv.ts); BN's three activation-sized temporaries where BN is the
 *                composition of tfjs ops (CPU, WebGL: src/model/batchNorm.ts), none where it is one kernel
 *                (WASM, WebGPU: src/kernels/batchNorm.ts)
 *   native       WASM only: what XNNPACK holds beside tfjs's tensors, in the same 4 GiB: two copies of every
 *                conv's weights and its indirection pointers, for the whole step (see conv below)
 * The rules are tfjs 4.22's and our kernels', kernel by kernel (which inputs each gradient saves, which gradients
 * are new tensors and which are views, what a kernel allocates while it runs); `npm run bench:memory` checks the
 * total against the WASM module's measured memory.
 *
 * Not counted: the dataset (JS memory outside the WASM heap, or uploaded per batch), WebGPU's pool of freed
 * buffers (it reuses them, but may hold more than the live tensors), tfjs's own bookkeeping, and temporaries that
 * do not grow with the batch (a flipped filter; WebGPU's filter gradient and BN sum per-slice partials of a few MiB
 * at most, src/kernels/webgpu/).
 */
import { divisors, PAPER_MICRO_BATCH, preferredMicroBatch } from '../experiment/microBatch';
import type { BackendName, Config } from '../experiment/schema';
import { CLASSES, planNetwork, type NetworkPlan, type Op, type UnitPlan } from './plan';

const F32 = 4;
const IMAGE = 32;
export const GIB = 2 ** 30;

/** WASM's linear memory cannot grow past 4 GiB (its memory section's maximum; "memory access out of bounds"). */
export const WASM_LIMIT = 4 * GIB;
/**
 * Planned peaks must leave this share of WASM's 4 GiB free: the heap's allocator fragments (measured: the heap
 * grew to 1.1–1.3× the live tensors' peak, part of it the growth policy's overshoot).
 */
export const WASM_HEADROOM = 0.9;
/** The budget `memoryBudget=auto` means on backends that cannot tell their memory (WebGPU, WebGL, CPU). */
export const DEFAULT_BUDGET = 4 * GIB;
/** WebGPU's default limits, when no adapter is at hand (the worker uses the device's own). */
export const WEBGPU_DEFAULT_LIMITS = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 256 * 2 ** 20 };

/** A tensor of one image's forward pass: its size (values per image) and shape. */
interface SimTensor {
  size: number;
  h: number;
  w: number;
  c: number;
  /** Depends on a parameter, so the backward pass gives it a gradient. */
  grad: boolean;
  /** Made and freed inside one op (a mask, say): only its saved copies outlive the op. */
  internal: boolean;
}

/** How an op reads an input: whether its gradient keeps it (saves), and whether its gradient for it is a new tensor. */
interface Read {
  t: SimTensor;
  save: boolean;
  fresh: boolean;
}

interface SimOp {
  reads: Read[];
  out: SimTensor;
  /** Temporaries of its backward pass (values per image), alive while it runs. */
  workspace: number;
  /** Of those, the ones XNNPACK allocates outside tfjs's tensors (WASM). */
  native: number;
}

/**
 * One image through the network's training step, op by op, as tfjs 4.22 runs it on `backend`; then the forward
 * and backward passes are replayed to find the most values alive at once. Sizes are values per image: every
 * activation scales with the number of images.
 */
class StepSimulation {
  readonly ops: SimOp[] = [];
  readonly tensors: SimTensor[] = [];
  /** Values XNNPACK holds for the whole step whatever the micro-batch (WASM; see conv). */
  native = 0;
  /** Values of parameters the tape saves, whatever the micro-batch (copies on WASM; see conv and bn). */
  savedParams = 0;
  private readonly wasm: boolean;
  /** BN is one kernel each way (src/kernels/batchNorm.ts) where the backend registers them. */
  private readonly bnKernels: boolean;

  constructor(backend: BackendName) {
    this.wasm = backend === 'wasm';
    this.bnKernels = backend === 'wasm' || backend === 'webgpu';
  }

  tensor(h: number, w: number, c: number, grad: boolean, internal = false): SimTensor {
    const t = { size: h * w * c, h, w, c, grad, internal };
    this.tensors.push(t);
    return t;
  }

  private op(reads: Read[], out: SimTensor, workspace = 0, native = 0): SimTensor {
    this.ops.push({ reads, out, workspace, native });
    return out;
  }

  conv(x: SimTensor, k: number, stride: number, cout: number): SimTensor {
    const pad = (k - 1) / 2;
    const out = (n: number) => Math.floor((n - 1) / stride) + 1;
    const y = this.tensor(out(x.h), out(x.w), cout, true);
    let workspace = 0;
    let native = 0;
    if (this.wasm) {
      // src/kernels/wasm/conv.ts. tfjs runs the input gradient first (only where x needs one), then the filter
      // gradient with dx alive.
      const dx = x.grad ? x.size : 0;
      // Input gradient: a strided 3×3 conv's dy spread out with stride − 1 zeros between neighbours
      // ((OH − 1)·s + 1 rows and columns, spreadOut), alive while dx is written; otherwise dx alone (a forward
      // conv of dy, or WASM's own kernel for a strided 1×1).
      const spread = stride > 1 && k > 1 ? ((y.h - 1) * stride + 1) * ((y.w - 1) * stride + 1) * cout : 0;
      // Filter gradient: x cut to the rows and columns the conv reads, as images [ci, rows, cols, n]
      // (imagesOf), and dy as a filter [OH, OW, n, co] (filterOf). Running that forward conv, tfjs-backend-wasm
      // keeps a transposed copy of its filter in its operator cache and XNNPACK packs another, until the filter
      // is freed (tfjs's conv2d_impl.cc): dy twice more, outside tfjs's tensors but in the same heap.
      const used = (n: number, o: number) => Math.min(n, (o - 1) * stride + k - pad);
      const images = used(x.h, y.h) * used(x.w, y.w) * x.c;
      const filterPhase = dx + images + y.size;
      workspace = Math.max(spread + dx, filterPhase);
      native = Math.max(spread + dx, filterPhase + 2 * y.size) - workspace;
      // The network's own forward conv: the same cache holds two copies of its weights, from the forward pass
      // until the SGD update replaces them, and XNNPACK an indirection pointer (4 bytes) per output pixel and
      // tap of a k > 1 conv, whatever the batch (measured: 2 × conv weights + Σ OH·OW·k² pointers).
      this.native += 2 * k * k * x.c * cout + (k > 1 ? y.h * y.w * k * k : 0);
      // tf.conv2d's gradient saves its filter as well as x: on WASM a copy of the weights (Identity copies).
      this.savedParams += k * k * x.c * cout;
    }
    return this.op([{ t: x, save: true, fresh: true }], y, workspace, native);
  }

  /**
   * BN in training mode: saves x (a copy on WASM) either way. As one kernel (src/kernels/batchNorm.ts: saves x,
   * γ and the per-channel statistics; the gradient kernel writes dx and nothing else the size of x,
   * src/kernels/wasm/batchNorm.ts, src/kernels/webgpu/batchNorm.ts) it has no temporaries; as tfjs ops
   * (src/model/batchNorm.ts) at most three activation-sized ones in its gradient.
   */
  bn(x: SimTensor): SimTensor {
    const workspace = this.bnKernels ? 0 : 3 * x.size;
    if (this.wasm) this.savedParams += 3 * x.c; // γ, μ and var, copied like x
    return this.op([{ t: x, save: true, fresh: true }], this.tensor(x.h, x.w, x.c, true), workspace);
  }

  relu(x: SimTensor): SimTensor {
    // Gradient dy · step(x), step(x) cast to float32 (a copy on WASM).
    const workspace = (this.wasm ? 2 : 1) * x.size;
    return this.op([{ t: x, save: true, fresh: true }], this.tensor(x.h, x.w, x.c, x.grad), workspace);
  }

  /** a + b, same shape: tfjs saves both inputs; each gradient is a view of dy. */
  add(a: SimTensor, b: SimTensor): SimTensor {
    const reads = [a, b].map((t) => ({ t, save: true, fresh: false }));
    return this.op(reads, this.tensor(a.h, a.w, a.c, a.grad || b.grad));
  }

  /** a · b, same shape: both saved, both gradients new tensors. */
  mul(a: SimTensor, b: SimTensor): SimTensor {
    const reads = [a, b].map((t) => ({ t, save: true, fresh: true }));
    return this.op(reads, this.tensor(a.h, a.w, a.c, a.grad || b.grad));
  }

  /** a · constant (λ and s of the scaling unit) or constant − a (1 − g): saves a, a new gradient. */
  scale(a: SimTensor): SimTensor {
    return this.op([{ t: a, save: true, fresh: true }], this.tensor(a.h, a.w, a.c, a.grad));
  }

  /** σ(x): its gradient reads the output y (dy · y · (1 − y)). */
  sigmoid(x: SimTensor): SimTensor {
    const y = this.tensor(x.h, x.w, x.c, x.grad);
    this.op([{ t: x, save: false, fresh: true }], y, 2 * x.size);
    this.ops.at(-1)!.reads.push({ t: y, save: true, fresh: false }); // saved output; no gradient flows back to it
    return y;
  }

  /** x plus a per-channel bias (the gate's b_g): saves x, its gradient a view. */
  bias(x: SimTensor): SimTensor {
    return this.op([{ t: x, save: true, fresh: false }], this.tensor(x.h, x.w, x.c, true));
  }

  /**
   * tf.dropout: x · mask with mask = floor(uniform + keep) / keep, made inside the op. The tape records the mask's
   * ops too (pruned only when gradients are taken), so the uniform draw and the floor are saved as well.
   */
  dropout(x: SimTensor): SimTensor {
    const internal = () => ({ t: this.tensor(x.h, x.w, x.c, false, true), save: true, fresh: false });
    return this.op(
      [{ t: x, save: true, fresh: true }, internal(), internal(), internal()],
      this.tensor(x.h, x.w, x.c, x.grad),
    );
  }

  /** Option A shortcut: 1×1 average pooling at the stride, then zero channels appended (each saves its input). */
  zeroPad(x: SimTensor, stride: number, extra: number): SimTensor {
    let t = x;
    if (stride > 1) {
      const pooled = this.tensor(Math.floor((t.h - 1) / stride) + 1, Math.floor((t.w - 1) / stride) + 1, t.c, t.grad);
      t = this.op([{ t, save: true, fresh: true }], pooled);
    }
    if (extra > 0) t = this.op([{ t, save: true, fresh: true }], this.tensor(t.h, t.w, t.c + extra, t.grad));
    return t;
  }

  /** Global average pooling: saves x; its gradient broadcasts dy through a ones tensor. */
  pool(x: SimTensor): SimTensor {
    return this.op([{ t: x, save: true, fresh: true }], this.tensor(1, 1, x.c, true), 2 * x.size);
  }

  /**
   * Values per image a save costs: tfjs keeps a clone per saving op, and WASM's clone is a copy (its Identity
   * kernel copies; the other backends share the data, which the original then keeps alive).
   */
  private saveCost(r: Read): number {
    return !r.save ? 0 : this.wasm || r.t.internal ? r.t.size : 0;
  }

  /**
   * The most values per image alive during the forward pass (every top-level op's output and the saved copies
   * stay until it ends) and during the backward pass (the saved tensors, plus every gradient made so far, plus
   * the running op's temporaries), replayed in order; `withNative` also counts XNNPACK's temporaries.
   */
  peaks(): { forward: number; backward: number; withNative: number; kept: number } {
    let forward = 0;
    const savedShared = new Set<SimTensor>();
    for (const op of this.ops) {
      for (const r of op.reads) {
        forward += this.saveCost(r);
        if (r.save && !this.wasm && !r.t.internal) savedShared.add(r.t);
      }
      forward += op.out.size;
    }
    // Saved tensors: WASM's copies; elsewhere the originals the clones share (their data stays alive).
    const saved =
      this.ops.reduce((a, op) => a + op.reads.reduce((b, r) => b + this.saveCost(r), 0), 0) +
      [...savedShared].reduce((a, t) => a + t.size, 0);
    // tfjs walks the tape backwards. A tensor's first gradient contribution sits in its map entry; each later one
    // is added to it (a new sum replaces the entry, which is freed) and itself stays until the pass ends.
    const entry = new Map<SimTensor, number>();
    let alive = 0;
    let backward = 0;
    let withNative = 0;
    for (let i = this.ops.length - 1; i >= 0; i--) {
      const op = this.ops[i]!;
      backward = Math.max(backward, alive + op.workspace);
      withNative = Math.max(withNative, alive + op.workspace + op.native);
      for (const { t, fresh } of op.reads) {
        if (!t.grad) continue;
        const dx = fresh ? t.size : 0;
        const held = entry.get(t);
        if (held === undefined) {
          alive += dx;
          entry.set(t, dx);
        } else {
          alive += dx + t.size - held;
          entry.set(t, t.size);
        }
      }
      backward = Math.max(backward, alive);
      withNative = Math.max(withNative, alive);
    }
    return { forward, backward: saved + backward, withNative: saved + withNative, kept: saved + alive };
  }

  /** Inference: every op's output, until the pass ends (no tape, nothing saved). */
  inference(): number {
    return this.ops.reduce((a, op) => a + op.out.size, 0);
  }

  largestTensor(): number {
    return Math.max(...this.tensors.map((t) => t.size));
  }
}

/** Runs one image through the plan, op for op as network.ts's forward (and shortcuts.ts) do. */
function simulate(plan: NetworkPlan, backend: BackendName): StepSimulation {
  const sim = new StepSimulation(backend);
  const run = (ops: Op[], x: SimTensor): SimTensor => {
    for (const op of ops) {
      if (op.op === 'conv') x = sim.conv(x, op.k, op.stride, op.cout);
      else if (op.op === 'bn') x = sim.bn(x);
      else x = sim.relu(x);
    }
    return x;
  };
  const unit = (x: SimTensor, u: UnitPlan): SimTensor => {
    x = run(u.hoisted, x);
    const f = run(u.branch, x);
    const d = u.downsample;
    const h =
      d.kind === 'none' ? x : d.kind === 'projection' ? run(d.ops, x) : sim.zeroPad(x, d.stride, d.extraChannels);
    let sum: SimTensor;
    switch (u.shortcut) {
      case 'identity':
        sum = sim.add(h, f);
        break;
      case 'scale':
        sum = sim.add(sim.scale(h), sim.scale(f));
        break;
      case 'exclusive-gate':
      case 'shortcut-gate': {
        const g = sim.sigmoid(sim.bias(sim.conv(x, 1, u.gate!.conv.stride, u.gate!.conv.cout)));
        const carry = sim.mul(sim.scale(g), h); // (1 − g)·h
        sum = sim.add(carry, u.shortcut === 'exclusive-gate' ? sim.mul(g, f) : f);
        break;
      }
      case 'conv':
        sum = sim.add(run(u.convShortcut!, x), f);
        break;
      case 'dropout':
        sum = sim.add(sim.dropout(h), f);
        break;
    }
    return run(u.afterAdd, sum);
  };
  let x = sim.tensor(IMAGE, IMAGE, 3, false); // the normalised, augmented image
  x = run(plan.stem, x);
  for (const u of plan.units) x = unit(x, u);
  x = run(plan.head, x);
  sim.pool(x); // then a [classes] matmul and the loss: a few hundred values, below this model's resolution
  return sim;
}

export type MemoryBackend = BackendName;

/** Bytes of one training step, by what holds them (see the header). */
export interface StepMemory {
  backend: MemoryBackend;
  batch: number;
  microBatch: number;
  weights: number;
  optimizer: number;
  gradients: number;
  batchData: number;
  activations: number;
  workspace: number;
  /** WASM: XNNPACK's copies (conv weights, indirection pointers, a filter gradient's dy), beside the tensors. */
  native: number;
  /** Their sum: the most the step holds at once. */
  peak: number;
  /** The largest single tensor (WebGPU's maxBufferSize / maxStorageBufferBindingSize apply to it). */
  largestTensor: number;
}

/** Per-image figures of a config's network on a backend (cached: a ResNet-1001 plan takes a few ms). */
interface PerImage {
  params: number;
  trainable: number;
  largestParam: number;
  /** Kept for the backward pass: saved tensors and, by its end, every gradient. */
  kept: number;
  /** The most alive at once (the kept tensors plus one op's temporaries, or the forward pass's own peak). */
  peak: number;
  /** What XNNPACK's temporaries add to that peak (WASM). */
  nativePeak: number;
  inference: number;
  largestTensor: number;
  /** Values XNNPACK holds for the whole step whatever the micro-batch (WASM). */
  native: number;
  /** Parameter values the tape saves for the backward pass (copies on WASM). */
  savedParams: number;
  /** Σ of the residual units' output sizes (the signal view adds a probe to each). */
  unitOutputs: number;
}

const cache = new Map<string, PerImage>();

function perImage(config: Config, backend: MemoryBackend): PerImage {
  // Only what shapes the network and its ops matters, not the schedule or the seed.
  const key = `${backend}|${config.unit}|${config.depth}|${config.block}|${config.convsPerUnit}|${CLASSES[config.dataset]}`;
  let p = cache.get(key);
  if (!p) {
    const plan = planNetwork(config);
    const sim = simulate(plan, backend);
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    let unitOutputs = 0;
    let hw = IMAGE;
    for (const u of plan.units) {
      hw = Math.floor((hw - 1) / u.stride) + 1;
      unitOutputs += hw * hw * u.cout;
    }
    p = {
      params: plan.params.reduce((a, s) => a + size(s.shape), 0),
      trainable: plan.params.filter((s) => s.trainable).reduce((a, s) => a + size(s.shape), 0),
      largestParam: Math.max(...plan.params.map((s) => size(s.shape))),
      ...peakFields(sim),
      inference: sim.inference(),
      largestTensor: sim.largestTensor(),
      native: sim.native,
      savedParams: sim.savedParams,
      unitOutputs,
    };
    cache.set(key, p);
  }
  return p;
}

function peakFields(sim: StepSimulation) {
  const p = sim.peaks();
  const peak = Math.max(p.forward, p.backward);
  return { kept: Math.min(p.kept, peak), peak, nativePeak: Math.max(p.forward, p.withNative) - peak };
}

/** The memory of one training step of `config` at `microBatch` images per pass, on `backend`. */
export function stepMemory(config: Config, microBatch: number, backend: MemoryBackend): StepMemory {
  const p = perImage(config, backend);
  const m = microBatch;
  const passes = config.batch / m;
  const image = IMAGE * IMAGE * 3;
  const weights = (p.params + p.savedParams) * F32;
  const optimizer = p.trainable * F32;
  // A pass's gradients, plus the running sum over passes (and, while it is updated, one parameter's new sum).
  const gradients = p.trainable * F32 * (passes > 1 ? 2 : 1) + (passes > 1 ? p.largestParam * F32 : 0);
  // The batch as one tensor, plus the pass's slice of it and its one-hot labels; while it is made, the planar
  // copy and its normalised and padded forms (10×10 of padding per 32×32) exist at once.
  const batchData = config.batch * image * F32 * (passes > 1 ? 1 : 0) + m * image * F32 * 4;
  const activations = m * p.kept * F32;
  // The optimizer's temporaries (a few copies of the largest parameter) come after the backward pass.
  const workspace = Math.max(m * (p.peak - p.kept), 4 * p.largestParam) * F32;
  // XNNPACK's copies: the weights' for the whole step, and a filter gradient's at the peak if it falls there.
  const native = (p.native + m * p.nativePeak) * F32;
  return {
    backend,
    batch: config.batch,
    microBatch: m,
    weights,
    optimizer,
    gradients,
    batchData,
    activations,
    workspace,
    native,
    peak: weights + optimizer + gradients + batchData + activations + workspace + native,
    largestTensor: Math.max(m * p.largestTensor, config.batch * image) * F32,
  };
}

/** Bytes of an evaluation pass over `images` test images (inference: no tape, every op's output until it ends). */
export function evaluationBytes(config: Config, images: number, backend: MemoryBackend): number {
  const p = perImage(config, backend);
  return (p.params + p.trainable + p.native) * F32 + images * p.inference * F32;
}

/** What a backend may hold for one step, and the largest single tensor it takes (null: not limited here). */
export interface MemoryLimit {
  backend: MemoryBackend;
  /** Bytes a planned peak may reach. */
  budget: number;
  /** The budget in words, for messages: "WASM allows 3.6 GiB (90% of its 4 GiB)". */
  says: string;
  maxTensor: number | null;
  /** The per-tensor limit in words, e.g. "WebGPU's 256 MiB per buffer (maxBufferSize)". */
  maxTensorSays: string | null;
}

export interface WebGPULimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

const BACKEND_LABELS: Record<MemoryBackend, string> = { wasm: 'WASM', webgpu: 'WebGPU', webgl: 'WebGL', cpu: 'CPU' };
export const backendLabel = (b: MemoryBackend) => BACKEND_LABELS[b];

/** "3.1 GiB", "850 MiB": binary units, as WASM's 4 GiB is. */
export function formatBytes(bytes: number): string {
  if (bytes >= GIB) return `${Number((bytes / GIB).toFixed(bytes >= 100 * GIB ? 0 : 1))} GiB`;
  if (bytes >= 2 ** 20) return `${Math.round(bytes / 2 ** 20)} MiB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

/** The limit on `backend` under `config.memoryBudget`; WebGPU's per-tensor limit from the device when known. */
export function memoryLimit(
  config: Pick<Config, 'memoryBudget'>,
  backend: MemoryBackend,
  webgpu: WebGPULimits = WEBGPU_DEFAULT_LIMITS,
): MemoryLimit {
  const label = backendLabel(backend);
  const asked = config.memoryBudget === 'auto' ? null : config.memoryBudget * GIB;
  let budget: number;
  let says: string;
  if (backend === 'wasm') {
    const cap = Math.floor(WASM_LIMIT * WASM_HEADROOM);
    budget = asked === null ? cap : Math.min(asked, cap);
    says =
      budget < cap
        ? `the budget is ${formatBytes(budget)} (memoryBudget=${config.memoryBudget})`
        : `WASM allows ${formatBytes(cap)} (${Math.round(WASM_HEADROOM * 100)}% of its 4 GiB)`;
  } else {
    budget = asked ?? DEFAULT_BUDGET;
    says =
      asked === null
        ? `${label}'s budget is ${formatBytes(budget)} (memoryBudget=auto; say memoryBudget=16 for a 16 GB device)`
        : `the budget is ${formatBytes(budget)} (memoryBudget=${config.memoryBudget})`;
  }
  if (backend !== 'webgpu') return { backend, budget, says, maxTensor: null, maxTensorSays: null };
  const byBuffer = webgpu.maxBufferSize <= webgpu.maxStorageBufferBindingSize;
  const maxTensor = Math.min(webgpu.maxStorageBufferBindingSize, webgpu.maxBufferSize);
  return {
    backend,
    budget,
    says,
    maxTensor,
    maxTensorSays: `WebGPU's ${formatBytes(maxTensor)} per buffer (${byBuffer ? 'maxBufferSize' : 'maxStorageBufferBindingSize'})`,
  };
}

export function fits(m: StepMemory, limit: MemoryLimit): boolean {
  return m.peak <= limit.budget && (limit.maxTensor === null || m.largestTensor <= limit.maxTensor);
}

/** The largest micro-batch among `candidates` (divisors of the batch) whose step fits, or null. */
export function largestFitting(
  config: Config,
  limit: MemoryLimit,
  candidates: readonly number[] = divisors(config.batch),
): number | null {
  return [...candidates].reverse().find((m) => fits(stepMemory(config, m, limit.backend), limit)) ?? null;
}

/** "ResNet-164 (bottleneck)". */
export function networkName(config: Pick<Config, 'depth' | 'block'>): string {
  return `ResNet-${config.depth}${config.block === 'bottleneck' ? ' (bottleneck)' : ''}`;
}

/** Below this, `auto` says in the run's status line that BN sees few images per pass. */
export const SMALL_MICRO_BATCH = 16;

export type MicroBatchChoice =
  { ok: true; microBatch: number; memory: StepMemory; note: string } | { ok: false; reason: string };

/** What a step of m images per pass would need that the limit does not give, in a clause and the limit's words. */
function shortfall(config: Config, m: number, limit: MemoryLimit): { needs: string; has: string } {
  const s = stepMemory(config, m, limit.backend);
  const per = m === 1 ? 'one image per pass' : `micro-batches of ${m} images`;
  if (s.peak > limit.budget || limit.maxTensorSays === null)
    return {
      needs: `${per} need${m === 1 ? 's' : ''} ${formatBytes(s.peak)} (${formatBytes(s.activations)} of activations)`,
      has: limit.says,
    };
  return { needs: `${per} need a ${formatBytes(s.largestTensor)} tensor`, has: `it takes ${limit.maxTensorSays}` };
}

/**
 * The micro-batch a run uses on a backend: `microBatch` as set when it fits, or for `auto` the largest divisor of
 * the batch, at most the paper's 64 images per BN, that fits. Otherwise one sentence with the numbers and what to
 * change.
 */
export function chooseMicroBatch(config: Config, limit: MemoryLimit): MicroBatchChoice {
  const net = networkName(config);
  const label = backendLabel(limit.backend);
  const best = largestFitting(config, limit);
  if (best === null) {
    const elsewhere =
      limit.backend === 'wasm'
        ? 'WebGPU with memoryBudget set to your GPU’s memory'
        : 'a larger memoryBudget if your device has the memory';
    const { needs, has } = shortfall(config, 1, limit);
    return {
      ok: false,
      reason: `${net} cannot train on ${label}: ${needs}; ${has}: use a smaller depth, or ${elsewhere}.`,
    };
  }
  const describe = (m: number, memory: StepMemory) => {
    const k = config.batch / m;
    return `${k === 1 ? 'one pass' : `${k} passes`} of ${m} images per step, ${formatBytes(memory.peak)} on ${label}`;
  };
  if (config.microBatch !== 'auto') {
    const m = config.microBatch;
    const memory = stepMemory(config, m, limit.backend);
    if (!fits(memory, limit)) {
      const { needs, has } = shortfall(config, m, limit);
      return { ok: false, reason: `${net}: ${needs}; ${has}: use microBatch ≤ ${best} (or auto).` };
    }
    return { ok: true, microBatch: m, memory, note: `microBatch ${m}: ${describe(m, memory)}` };
  }
  const all = divisors(config.batch);
  const wanted = preferredMicroBatch(config.batch);
  const m = largestFitting(
    config,
    limit,
    all.filter((d) => d <= wanted),
  )!;
  const memory = stepMemory(config, m, limit.backend);
  let why = '';
  if (m < wanted) {
    const { needs, has } = shortfall(config, wanted, limit);
    why = ` (${needs}; ${has})`;
  } else if (m < config.batch) why = ` (at most ${PAPER_MICRO_BATCH} images per BN, as the paper's 2 GPUs × 64)`;
  const note = `microBatch auto → ${m}: ${describe(m, memory)}${why}`;
  return {
    ok: true,
    microBatch: m,
    memory,
    note:
      m < SMALL_MICRO_BATCH && m < config.batch ? `BN sees only ${m} images per pass (the paper: 64). ${note}` : note,
  };
}

/**
 * Test images per evaluation pass: the trainer's usual size (at most 500, at least 100 or the batch), fewer when
 * that pass would not fit the limit (inference on a ResNet-1001 keeps every op's output until the pass ends).
 */
export function evaluationBatch(config: Config, limit: MemoryLimit): number {
  const usual = Math.min(500, Math.max(config.batch, 100));
  const p = perImage(config, limit.backend);
  for (let n = usual; n > 1; n = Math.floor(n / 2)) {
    const tensorOk = limit.maxTensor === null || n * p.largestTensor * F32 <= limit.maxTensor;
    if (evaluationBytes(config, n, limit.backend) <= limit.budget && tensorOk) return n;
  }
  return 1;
}

/**
 * Images per pass of the signal view's measurement of `images` test images (src/model/signal.ts): all of them
 * when that fits, else the largest divisor of `images` that does. A pass is a training step's forward and backward
 * pass plus a probe per unit.
 */
export function signalChunk(config: Config, images: number, limit: MemoryLimit): number {
  const p = perImage(config, limit.backend);
  const bytes = (c: number) =>
    (p.params + p.savedParams + p.trainable + p.native) * F32 + c * (p.peak + 4 * p.unitOutputs) * F32;
  return (
    divisors(images)
      .reverse()
      .find(
        (c) => bytes(c) <= limit.budget && (limit.maxTensor === null || c * p.largestTensor * F32 <= limit.maxTensor),
      ) ?? 1
  );
}

/** What `npm run summary` and the page's network summary show: the step at the configured micro-batch, per backend. */
export interface MemorySummary {
  backend: MemoryBackend;
  /** Bytes a step may use there (memoryBudget, WASM's cap). */
  budget: number;
  /** The micro-batch the run would use there (auto resolved), or null when nothing fits. */
  microBatch: number | null;
  /** Peak bytes of a step at that micro-batch (at the configured one when nothing fits). */
  peak: number;
  /** The largest divisor of the batch whose step fits (auto picks at most 64), or null. */
  largestFitting: number | null;
  /** The run's status line: how the micro-batch was chosen, or why the run would be refused. */
  note: string;
}

/** The memory of `config` on each backend (WebGPU with its default per-buffer limits). */
export function memorySummary(config: Config): MemorySummary[] {
  return (['wasm', 'webgpu', 'webgl', 'cpu'] as const).map((backend) => {
    const limit = memoryLimit(config, backend);
    const choice = chooseMicroBatch(config, limit);
    const m = choice.ok ? choice.microBatch : config.microBatch === 'auto' ? 1 : config.microBatch;
    return {
      backend,
      budget: limit.budget,
      microBatch: choice.ok ? choice.microBatch : null,
      peak: stepMemory(config, m, backend).peak,
      largestFitting: largestFitting(config, limit),
      note: choice.ok ? choice.note : choice.reason,
    };
  });
}

/**
 * tfjs's words for running out of memory: WASM's trap and abort, WebGPU's and the browser's allocation failures,
 * and the view of an output the full heap could not place ("Invalid typed array length"), taken by tfjs's own
 * JavaScript kernels (Fill) and ours (src/kernels/wasm/heap.ts): how the threaded module (shared memory, the
 * page's default where it is cross-origin isolated) runs out, where the single-threaded one traps.
 */
export function isOutOfMemory(message: string): boolean {
  return /memory access out of bounds|out of memory|allocation failed|cannot enlarge memory|\bOOM\b|Aborted\(|Invalid typed array length/i.test(
    message,
  );
}

/** One sentence for a run that ran out of memory although its plan said it fits. */
export function outOfMemoryMessage(
  raw: string,
  iter: number,
  choice: MicroBatchChoice & { ok: true },
  limit: MemoryLimit,
): string {
  const m = choice.microBatch;
  const smaller = m > 1 ? `microBatch ${Math.max(1, Math.floor(m / 2))}` : 'a smaller depth';
  // WASM traps ("memory access out of bounds") or aborts ("Aborted(). Build with -sASSERTIONS…", for its developers).
  const said = /Aborted\(/.test(raw)
    ? 'its module aborted'
    : /Invalid typed array length/.test(raw)
      ? 'its heap had no room for the next tensor'
      : raw.split('\n')[0]!;
  return `ran out of memory at iteration ${iter} on ${backendLabel(limit.backend)} (${said}), although the plan put a step of ${m} images per pass at ${formatBytes(choice.memory.peak)} and ${limit.says}; the curves and the last checkpoint are kept: start it again with ${smaller}${limit.backend === 'webgpu' ? ' or a smaller memoryBudget' : ''}`;
}
