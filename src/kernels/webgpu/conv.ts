/**
 * The filter gradient of conv2d on WebGPU as a matrix product whose reduction is split into slices.
 *
 * tfjs-backend-webgpu's Conv2DDerFilterProgram runs one thread per filter weight, each looping serially over
 * batch × output pixels: for a 16→16 3×3 layer at batch 128 that is 2,304 threads of 131k multiply-adds each, far
 * too little parallelism for a GPU, and the backward pass of a ResNet is mostly such layers. Written as a matrix
 * product (im2col, without materialising it):
 *
 *   dW[m, co] = Σ_r A[m, r] · B[r, co],   m = (kh, kw, ci),  r = (n, oh, ow),
 *   A[m, r] = x[n, oh·s + kh − pad, ow·s + kw − pad, ci] (0 outside x),   B[r, co] = dy[n, oh, ow, co],
 *
 * the reduction over r (batch × output pixels, 8k–131k terms) is cut into slices; each workgroup computes one
 * 16×16 tile of dW over one slice with tiles of A and B in workgroup memory, and writes its partial sum. A second
 * program adds the slices' partials. With slices sized to give about 2,000 workgroups (program.ts, sliceLength),
 * the 16→16 layer at batch 128 becomes 9 tiles × 228 slices; every layer gets thousands of workgroups.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu'; // its kernels are registered first: Conv2DBackpropFilter is replaced
import { free, runProgram, sliceLength, WORKGROUP, type WebGPUBackend } from './program';

const TILE = 16; // 16×16 threads = one workgroup of 256

function filterGradient({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (tf.backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast')
    throw new Error('this filter gradient takes NHWC tensors (dataFormat NHWC)');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const be = backend as WebGPUBackend;
  const m = info.filterHeight * info.filterWidth * info.inChannels;
  const n = info.outChannels;
  const r = info.batchSize * info.outHeight * info.outWidth;
  const tiles = Math.ceil(m / TILE) * Math.ceil(n / TILE);
  const slice = sliceLength(r, tiles, TILE);
  const slices = Math.ceil(r / slice);
  const dims = {
    M: m,
    N: n,
    R: r,
    slice,
    slices,
    steps: slice / TILE,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    kW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
  const partials = runProgram(
    be,
    {
      key: 'identityMappings.conv2dFilterGradSlices',
      inputs: ['x', 'dy'],
      outputShape: [slices, m, n],
      workgroups: tiles * slices,
      uniforms: dims,
      shared: `
        var<workgroup> tileA : array<f32, ${TILE * TILE}>; // [k][m]
        var<workgroup> tileB : array<f32, ${TILE * TILE}>; // [k][n]

        // A[m, r]: the input value tap m = (kh, kw, ci) of output pixel r = (b, oh, ow) reads, 0 in the padding.
        fn tapValue(m : i32, r : i32) -> f32 {
          let ci = m % uniforms.inC;
          let kk = m / uniforms.inC;
          let kw = kk % uniforms.kW;
          let kh = kk / uniforms.kW;
          let ow = r % uniforms.outW;
          let rr = r / uniforms.outW;
          let oh = rr % uniforms.outH;
          let b = rr / uniforms.outH;
          let ih = oh * uniforms.strideH + kh - uniforms.padTop;
          let iw = ow * uniforms.strideW + kw - uniforms.padLeft;
          if (ih < 0 || ih >= uniforms.inH || iw < 0 || iw >= uniforms.inW) {
            return 0.0;
          }
          return x[((b * uniforms.inH + ih) * uniforms.inW + iw) * uniforms.inC + ci];
        }`,
      body: `
        let tilesM = (uniforms.M + ${TILE - 1}) / ${TILE};
        let tilesN = (uniforms.N + ${TILE - 1}) / ${TILE};
        let m0 = (wg % tilesM) * ${TILE};
        let n0 = ((wg / tilesM) % tilesN) * ${TILE};
        let s = wg / (tilesM * tilesN);
        let rStart = s * uniforms.slice;
        let rEnd = min(rStart + uniforms.slice, uniforms.R);
        let a = lid % ${TILE}; // loads: along m (consecutive input channels) and along n (consecutive co)
        let k = lid / ${TILE};
        var acc = 0.0;
        for (var st = 0; st < uniforms.steps; st = st + 1) {
          let r = rStart + st * ${TILE} + k;
          var va = 0.0;
          var vb = 0.0;
          if (r < rEnd) {
            if (m0 + a < uniforms.M) {
              va = tapValue(m0 + a, r);
            }
            if (n0 + a < uniforms.N) {
              vb = dy[r * uniforms.N + n0 + a];
            }
          }
          tileA[k * ${TILE} + a] = va;
          tileB[k * ${TILE} + a] = vb;
          workgroupBarrier();
          // This thread's output: row m0 + k, column n0 + a.
          for (var t = 0; t < ${TILE}; t = t + 1) {
            acc = acc + tileA[t * ${TILE} + k] * tileB[t * ${TILE} + a];
          }
          workgroupBarrier();
        }
        if (s < uniforms.slices && m0 + k < uniforms.M && n0 + a < uniforms.N) {
          result[(s * uniforms.M + m0 + k) * uniforms.N + n0 + a] = acc;
        }`,
    },
    [x, dy],
  );
  const size = m * n;
  const dW = runProgram(
    be,
    {
      key: 'identityMappings.sumSlices',
      inputs: ['partials'],
      outputShape: filterShape,
      workgroups: Math.ceil(size / WORKGROUP),
      uniforms: { size, slices },
      body: `
        if (index < uniforms.size) {
          var acc = 0.0;
          for (var s = 0; s < uniforms.slices; s = s + 1) {
            acc = acc + partials[s * uniforms.size + index];
          }
          result[index] = acc;
        }`,
    },
    [partials],
  );
  free(be, partials);
  return dW;
}

export const webgpuConvKernels: tf.KernelConfig[] = [
  { kernelName: tf.Conv2DBackpropFilter, backendName: 'webgpu', kernelFunc: filterGradient as tf.KernelFunc },
];
