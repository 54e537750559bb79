/**
 * Compute shaders of our own for tfjs's WebGPU backend, run through its program machinery (runWebGPUProgram: tfjs
 * binds the inputs as `array<f32>` storage buffers named as given, the output as `result`, and the uniforms as
 * `uniforms.<name>`, and caches one pipeline per shader key). Every program here runs 256-thread workgroups over a
 * flat dispatch; the WGSL body gets `wg` (the workgroup's index) and `lid` (the thread's index in it).
 * Loops that contain a workgroupBarrier have uniform trip counts (uniforms, constants), as WGSL requires; the
 * workgroup index only selects data, and a workgroup past the end (tfjs may round a large dispatch up to a square)
 * computes nothing it writes.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export type { WebGPUBackend };

export const WORKGROUP = 256;

export interface ProgramSpec {
  /** Shader key: the name and everything baked into the WGSL (shapes go in uniforms). */
  key: string;
  inputs: string[];
  outputShape: number[];
  workgroups: number;
  /** i32 uniforms, in order. */
  uniforms: Record<string, number>;
  /** Module-scope WGSL (workgroup memory, helpers). */
  shared?: string;
  /** The body of main, with `index` (the thread's global index), `wg` and `lid` in scope. */
  body: string;
}

/** Runs one program; the output is a new float32 tensor of spec.outputShape. */
export function runProgram(backend: WebGPUBackend, spec: ProgramSpec, inputs: tf.TensorInfo[]): tf.TensorInfo {
  const names = Object.keys(spec.uniforms);
  const program: WebGPUProgram = {
    variableNames: spec.inputs,
    outputShape: spec.outputShape,
    shaderKey: spec.key,
    dispatchLayout: { x: spec.outputShape.map((_, i) => i) },
    dispatch: [spec.workgroups, 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    uniforms: names.map((n) => `${n} : i32,`).join(' '),
    getUserCode: () => `
      ${spec.shared ?? ''}
      fn main(index : i32) {
        let wg = index / ${WORKGROUP};
        let lid = i32(localIndex);
        ${spec.body}
      }`,
  };
  return backend.runWebGPUProgram(
    program,
    inputs,
    'float32',
    names.map((n) => ({ type: 'int32', data: [spec.uniforms[n]!] })),
  );
}

/** Frees tensors a kernel made for its own use. */
export function free(backend: WebGPUBackend, ...ts: tf.TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
}

/**
 * How long each workgroup's slice of a reduction of `length` terms is (a multiple of `step`), so that `tiles`
 * output tiles times the slices make about `target` workgroups: thousands on a GPU, each still summing at least
 * `min` terms.
 */
export function sliceLength(length: number, tiles: number, step: number, target = 2048, min = 64): number {
  const wanted = Math.ceil((length * tiles) / target);
  const len = Math.max(min, Math.min(4096, wanted));
  return Math.ceil(len / step) * step;
}
