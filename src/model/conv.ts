/**
 * conv2d that also trains on the WASM backend.
 *
 * Why: @tensorflow/tfjs-backend-wasm 4.22 registers Conv2D and Conv2DBackpropInput but no
 * Conv2DBackpropFilter kernel, so the gradient of tf.conv2d with respect to its filter throws there and a
 * convnet cannot train. Computing that gradient with an ordinary forward convolution instead (below) makes
 * WASM the fastest CPU-side backend measured for this project: about 2 s per ResNet-20 step at batch 32,
 * against 34 s on WebGL and 100 s on software WebGPU.
 *
 * On every backend that has its own Conv2DBackpropFilter (cpu, webgl, webgpu: all but wasm), `conv2d` is
 * plain tf.conv2d and tfjs's own gradients are used. On one without (wasm), it is tf.conv2d wrapped in
 * tf.customGrad: dW is `conv2dFilterGrad`, dx is `conv2dInputGrad`. WASM does have Conv2DBackpropInput, but
 * it is a plain loop, 5–9× slower than the XNNPACK forward conv on a stride-1 layer (45 ms against 5–8 ms
 * for 16→16 3×3 at batch 32, 32×32), so dx too is a forward convolution where that is cheaper (see there).
 *
 * The filter gradient. Forward, with xp = x zero-padded by p on each side, stride s, filter k×k:
 *
 *   y[n, oh, ow, co] = Σ_{kh, kw, ci} xp[n, oh·s + kh, ow·s + kw, ci] · w[kh, kw, ci, co]
 *
 * so, for the upstream gradient dy = ∂L/∂y,
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} xp[n, kh + oh·s, kw + ow·s, ci] · dy[n, oh, ow, co].
 *
 * Read X[ci, h, w, n] = x[n, h, w, ci] as an image batch (input channels become the batch, the batch becomes
 * the channels) and F[oh, ow, n, co] = dy[n, oh, ow, co] as a filter of OH×OW taps. Then the right-hand
 * side is a forward conv2d of X with filter F at stride 1 and dilation s (tap (oh, ow) reads pixel
 * (kh + oh·s, kw + ow·s)), evaluated at output pixel (kh, kw):
 *
 *   conv2d(X, F, strides 1, dilations s)[ci, kh, kw, co] = dW[kh, kw, ci, co].
 *
 * tfjs allows dilation > 1 when the stride is 1, and the WASM Conv2D kernel (XNNPACK) honours dilations
 * (verified against the CPU backend in conv.test.ts). Only output pixels 0…k−1 are wanted, which need
 * padded rows 0…(OH−1)·s + k − 1: the input is cropped and padded (explicit, asymmetric) to exactly
 * (OH−1)·s + k rows and columns, so the convolution yields exactly k×k and computes nothing it throws away
 * (a stride-2 layer would otherwise produce a 4×4 or 2×2 result of which 3×3 or 1×1 is kept). The result
 * [ci, k, k, co] is transposed to the filter layout [k, k, ci, co].
 *
 * Cost: the same multiply-adds as the true filter gradient (k²·ci·co·n·OH·OW), plus three transposes.
 */
import * as tf from '@tensorflow/tfjs';

/** Rows (or columns) of x a stride-`stride` conv with `out` outputs, k taps and top pad `pad` reads. */
function usedExtent(size: number, out: number, k: number, stride: number, pad: number) {
  const padded = (out - 1) * stride + k; // padded rows read: 0 … padded − 1
  const rows = Math.min(size, padded - pad); // of them, real input rows
  return { rows, after: padded - pad - rows }; // zero rows still needed below the input (0 … pad)
}

/** The filter gradient computed with forward convolutions only (what WASM lacks), exported for tests. */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  stride: number,
  pad: number,
): tf.Tensor4D {
  const [kh, kw, cin, cout] = filterShape;
  const [n, h, w, xc] = x.shape;
  const [dn, oh, ow, dc] = dy.shape;
  const expectOut = (size: number, k: number) => Math.floor((size + 2 * pad - k) / stride) + 1;
  if (xc !== cin || dc !== cout || dn !== n || oh !== expectOut(h, kh) || ow !== expectOut(w, kw))
    throw new Error(
      `conv2dFilterGrad: x ${x.shape}, dy ${dy.shape} do not fit filter ${filterShape}, stride ${stride}, pad ${pad}`,
    );
  const rowsUsed = usedExtent(h, oh, kh, stride, pad);
  const colsUsed = usedExtent(w, ow, kw, stride, pad);
  return tf.tidy(() => {
    const cropped = rowsUsed.rows < h || colsUsed.rows < w ? tf.slice(x, 0, [n, rowsUsed.rows, colsUsed.rows, cin]) : x;
    const xT = tf.transpose(cropped, [3, 1, 2, 0]); // [cin, H, W, n]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [OH, OW, n, cout]: the filter
    const padding: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [pad, rowsUsed.after],
      [pad, colsUsed.after],
      [0, 0],
    ];
    const g = tf.conv2d(xT, dyT, 1, padding, 'NHWC', stride); // [cin, kh, kw, cout]
    return tf.transpose(g, [1, 2, 0, 3]); // [kh, kw, cin, cout]
  });
}

/** Inserts stride − 1 zeros between neighbours along `axis` (1: rows, 2: columns), keeping `length` of them. */
function dilate(t: tf.Tensor4D, stride: number, axis: 1 | 2, length: number): tf.Tensor4D {
  if (stride === 1) return t;
  const zeros = tf.zerosLike(t);
  const interleaved = tf.stack([t, ...Array.from({ length: stride - 1 }, () => zeros)], axis + 1);
  const shape = [...t.shape] as [number, number, number, number];
  shape[axis] *= stride;
  const size = [...shape] as [number, number, number, number];
  size[axis] = length;
  return tf.slice(tf.reshape(interleaved, shape) as tf.Tensor4D, 0, size);
}

/** Whether `conv2dInputGrad` computes dx by a forward convolution (else it is tf.conv2dTranspose). */
function forwardInputGrad(k: number, stride: number, pad: number): boolean {
  // pad > k − 1 would need a negative pad; a strided 1×1 conv's dx is cheaper as WASM's own kernel.
  return pad <= k - 1 && (stride === 1 || k > 1);
}

/**
 * The input gradient dx of conv2d(x, w, stride, pad), for upstream gradient dy. tfjs-backend-wasm's
 * Conv2DBackpropInput is a plain loop, 5–9× slower than its XNNPACK forward conv on this project's stride-1
 * layers, so where possible dx is a forward convolution too:
 *
 *   dx[n, h, w, ci] = Σ_{oh·s + kh − p = h, ow·s + kw − p = w} dy[n, oh, ow, co] · w[kh, kw, ci, co]
 *                   = conv2d(dyUp, rot180(w)ᵀ, stride 1, pad (k − 1 − p) before, (H + p − L) after)
 *
 * where dyUp is dy with s − 1 zeros inserted between neighbours (length L = (OH − 1)·s + 1) and
 * rot180(w)ᵀ[kh, kw, co, ci] = w[k − 1 − kh, k − 1 − kw, ci, co]. Otherwise (pad > k − 1, or a strided
 * 1×1 conv, where the zeros would cost more than the kernel) it is tf.conv2dTranspose, which is what
 * tfjs's own conv2d gradient calls. Exported for tests.
 */
export function conv2dInputGrad(
  dy: tf.Tensor4D,
  w: tf.Tensor4D,
  xShape: [number, number, number, number],
  stride: number,
  pad: number,
): tf.Tensor4D {
  const [kh, kw] = w.shape;
  if (!forwardInputGrad(kh, stride, pad) || !forwardInputGrad(kw, stride, pad))
    return tf.conv2dTranspose(dy, w, xShape, stride, pad);
  const [, h, wd] = xShape;
  const [, oh, ow] = dy.shape;
  const lh = (oh - 1) * stride + 1;
  const lw = (ow - 1) * stride + 1;
  return tf.tidy(() => {
    const up = dilate(dilate(dy, stride, 1, lh), stride, 2, lw);
    const flipped = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]); // [kh, kw, cout, cin]
    const padding: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [kh - 1 - pad, h + pad - lh],
      [kw - 1 - pad, wd + pad - lw],
      [0, 0],
    ];
    return tf.conv2d(up, flipped, 1, padding);
  });
}

/** One custom-gradient conv per (stride, pad), built on first use. */
const customConvs = new Map<string, (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D>();

function customConv(stride: number, pad: number): (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D {
  const key = `${stride}/${pad}`;
  let f = customConvs.get(key);
  if (!f) {
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, w, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
      save([x, w]);
      return {
        value: tf.conv2d(x, w, stride, pad),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D];
          const dy4 = dy as tf.Tensor4D;
          return [conv2dInputGrad(dy4, sw, sx.shape, stride, pad), conv2dFilterGrad(sx, dy4, sw.shape, stride, pad)];
        },
      };
    });
    f = (x, w) => op(x, w) as tf.Tensor4D;
    customConvs.set(key, f);
  }
  return f;
}

/** Whether the active backend lacks a filter-gradient kernel for conv2d (today: wasm only). */
export function needsForwardOnlyFilterGrad(): boolean {
  return tf.getKernel(tf.Conv2DBackpropFilter, tf.getBackend()) == null;
}

/** conv2d NHWC with symmetric explicit padding `pad` (a number), stride `stride`, filter [k,k,cin,cout]. */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  if (!needsForwardOnlyFilterGrad()) return tf.conv2d(x, w, stride, pad);
  return customConv(stride, pad)(x, w);
}
