/**
 * The gradients of conv2d on WASM, both as forward convolutions, so that XNNPACK's fast (and threaded) Conv2D
 * does the work. tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel at all (a convnet cannot train there
 * without one), and its Conv2DBackpropInput is a plain single-threaded loop, 5–9× slower than its forward Conv2D
 * on this project's stride-1 layers. Registered under tfjs's own kernel names, so tf.conv2d's own gradient runs
 * them: nothing in the model knows.
 *
 * Filter gradient (Conv2DBackpropFilter). Forward, with xp = x zero-padded (top/left pad p), stride s, filter k×k:
 *
 *   y[n, oh, ow, co] = Σ_{kh, kw, ci} xp[n, oh·s + kh, ow·s + kw, ci] · w[kh, kw, ci, co]
 *
 * so, for the upstream gradient dy = ∂L/∂y,
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} xp[n, kh + oh·s, kw + ow·s, ci] · dy[n, oh, ow, co].
 *
 * Read X[ci, h, w, n] = x[n, h, w, ci] as an image batch (input channels become the batch, the batch becomes
 * the channels) and F[oh, ow, n, co] = dy[n, oh, ow, co] as a filter of OH×OW taps. The right-hand side is then a
 * forward conv2d of X with filter F at stride 1 and dilation s (tap (oh, ow) reads pixel (kh + oh·s, kw + ow·s)),
 * at output pixel (kh, kw): conv2d(X, F, strides 1, dilations s)[ci, kh, kw, co] = dW[kh, kw, ci, co]. Only
 * output pixels 0…k−1 are wanted, which read padded rows 0…(OH−1)·s + k − 1: the input is cropped and padded
 * (explicit, asymmetric) to exactly those rows and columns, so the convolution computes nothing it throws away.
 * The result [ci, k, k, co] is transposed to the filter layout [k, k, ci, co]. Cost: the multiply-adds of the
 * filter gradient itself, plus three transposes.
 *
 * Input gradient (Conv2DBackpropInput), where it is cheaper as a forward convolution (pads at most k − 1, and not a
 * strided 1×1 conv, where the inserted zeros would cost more than WASM's own kernel):
 *
 *   dx[n, h, w, ci] = conv2d(dyUp, rot180(w)ᵀ, stride 1, pad (k − 1 − p) before, (H + p − L) after)
 *
 * where dyUp is dy with s − 1 zeros inserted between neighbours (length L = (OH − 1)·s + 1) and
 * rot180(w)ᵀ[kh, kw, co, ci] = w[k − 1 − kh, k − 1 − kw, ci, co]; otherwise WASM's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm'; // its kernels are registered first: Conv2DBackpropInput is replaced below
import { free, output, view, type BackendWasm } from './heap';

type Info = tf.TensorInfo;
type Run = (name: string, inputs: Record<string, Info>, attrs: Record<string, unknown>) => Info;

/** Calls one of tfjs-backend-wasm's own kernels (as tfjs's kernels call each other), not through the engine. */
function runner(backend: BackendWasm): Run {
  return (name, inputs, attrs) => {
    const f = tf.getKernel(name, 'wasm')?.kernelFunc;
    if (!f) throw new Error(`tfjs-backend-wasm has no ${name} kernel`);
    return f({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as Info;
  };
}

/** Rows (or columns) of x a conv with `out` outputs reads: real input rows used, and zero rows still needed after. */
function usedExtent(size: number, out: number, k: number, stride: number, before: number) {
  const padded = (out - 1) * stride + k; // padded rows read: 0 … padded − 1
  const rows = Math.min(size, padded - before);
  return { rows, after: padded - before - rows };
}

function convInfo(xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap) {
  const { strides, pad, dimRoundingMode, dataFormat } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (tf.backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast')
    throw new Error('the WASM backend convolves NHWC tensors only (dataFormat NHWC)');
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
}

/**
 * x [n, H, W, ci], cut to its first `rows` × `cols` pixels, as the images of the filter gradient's convolution:
 * [ci, rows, cols, n]. In JavaScript, written in runs of n: 2–4× faster than WASM's general Transpose kernel on
 * these shapes (measured in Node), and the cut costs nothing.
 */
function imagesOf(backend: BackendWasm, x: Info, rows: number, cols: number): Info {
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const out = output(backend, [ci, rows, cols, n]);
  const [src, dst] = [view(backend, x), view(backend, out)];
  const plane = rows * cols * n; // one input channel's image
  const image = h * w * ci; // one input image
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      const to = (i * cols + j) * n;
      for (let c = 0; c < ci; c++) {
        const run = c * plane + to;
        let from = (i * w + j) * ci + c;
        for (let b = 0; b < n; b++, from += image) dst[run + b] = src[from]!;
      }
    }
  return out;
}

/** dy [n, OH, OW, co] as the filter gradient's filter: [OH, OW, n, co] (runs of co values move whole). */
function filterOf(backend: BackendWasm, dy: Info): Info {
  const [n, oh, ow, co] = dy.shape as [number, number, number, number];
  const out = output(backend, [oh, ow, n, co]);
  const [src, dst] = [view(backend, dy), view(backend, out)];
  for (let b = 0; b < n; b++)
    for (let p = 0; p < oh * ow; p++) {
      const from = (b * oh * ow + p) * co;
      const to = (p * n + b) * co;
      for (let c = 0; c < co; c++) dst[to + c] = src[from + c]!;
    }
  return out;
}

function filterGradient(args: Parameters<tf.KernelFunc>[0], run: Run): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const backend = args.backend as BackendWasm;
  const info = convInfo(x.shape, (args.attrs as unknown as tf.Conv2DBackpropFilterAttrs).filterShape, args.attrs!);
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth } = info;
  const { strideHeight: sh, strideWidth: sw, padInfo } = info;
  const rows = usedExtent(inHeight, outHeight, filterHeight, sh, padInfo.top);
  const cols = usedExtent(inWidth, outWidth, filterWidth, sw, padInfo.left);
  const images = imagesOf(backend, x, rows.rows, cols.rows); // [ci, H', W', n]
  const filter = filterOf(backend, dy); // [OH, OW, n, co]
  const g = run(
    'Conv2D',
    { x: images, filter },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [padInfo.top, rows.after],
        [padInfo.left, cols.after],
        [0, 0],
      ],
      dilations: [sh, sw],
      dataFormat: 'NHWC',
    },
  ); // [ci, kh, kw, co]
  const dW = run('Transpose', { x: g }, { perm: [1, 2, 0, 3] });
  free(backend, images, filter, g);
  return dW;
}

/** dy with stride − 1 zeros between neighbours in rows and columns: [n, (OH−1)·s+1, (OW−1)·s+1, c]. */
function spreadOut(backend: BackendWasm, dy: Info, sh: number, sw: number): Info {
  const [n, oh, ow, c] = dy.shape as [number, number, number, number];
  const lh = (oh - 1) * sh + 1;
  const lw = (ow - 1) * sw + 1;
  const up = output(backend, [n, lh, lw, c]);
  const [src, dst] = [view(backend, dy), view(backend, up)];
  dst.fill(0);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const from = ((b * oh + i) * ow + j) * c;
        dst.set(src.subarray(from, from + c), ((b * lh + i * sh) * lw + j * sw) * c);
      }
  return up;
}

/** rot180(w)ᵀ: [kh, kw, ci, co] → [kh, kw, co, ci], taps reversed. */
function flippedFilter(backend: BackendWasm, w: Info): Info {
  const [kh, kw, ci, co] = w.shape as [number, number, number, number];
  const out = output(backend, [kh, kw, co, ci]);
  const [src, dst] = [view(backend, w), view(backend, out)];
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const from = ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
      const to = (i * kw + j) * co * ci;
      for (let a = 0; a < ci; a++) for (let b = 0; b < co; b++) dst[to + b * ci + a] = src[from + a * co + b]!;
    }
  return out;
}

function inputGradient(args: Parameters<tf.KernelFunc>[0], run: Run, native: tf.KernelFunc): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = convInfo(attrs.inputShape, filter.shape, args.attrs!);
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo, inHeight, inWidth } = info;
  const pads = [padInfo.top, padInfo.bottom, padInfo.left, padInfo.right];
  const strided1x1 = kh === 1 && kw === 1 && (sh > 1 || sw > 1);
  if (strided1x1 || pads.some((p, i) => p > (i < 2 ? kh : kw) - 1)) return native(args) as Info;
  const backend = args.backend as BackendWasm;
  const up = sh > 1 || sw > 1 ? spreadOut(backend, dy, sh, sw) : null;
  const wf = flippedFilter(backend, filter);
  const [lh, lw] = [(up ?? dy).shape[1]!, (up ?? dy).shape[2]!];
  const dx = run(
    'Conv2D',
    { x: up ?? dy, filter: wf },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [kh - 1 - padInfo.top, inHeight + padInfo.top - lh],
        [kw - 1 - padInfo.left, inWidth + padInfo.left - lw],
        [0, 0],
      ],
      dilations: [1, 1],
      dataFormat: 'NHWC',
    },
  );
  free(backend, ...[up, wf].filter((t): t is Info => t !== null));
  return dx;
}

/** The two kernels; the input gradient falls back to WASM's own kernel, read here, before it is replaced. */
export function wasmConvKernels(): tf.KernelConfig[] {
  const nativeConfig = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
  const native = nativeConfig?.kernelFunc;
  if (!native) throw new Error('tfjs-backend-wasm has no Conv2DBackpropInput kernel to fall back to');
  return [
    {
      kernelName: tf.Conv2DBackpropFilter,
      backendName: 'wasm',
      kernelFunc: (args) => filterGradient(args, runner(args.backend as BackendWasm)),
    },
    {
      kernelName: tf.Conv2DBackpropInput,
      backendName: 'wasm',
      kernelFunc: (args) => inputGradient(args, runner(args.backend as BackendWasm), native),
      // WASM's own kernel binds its C function when the backend starts: it still must.
      ...(nativeConfig.setupFunc && { setupFunc: nativeConfig.setupFunc }),
    },
  ];
}
