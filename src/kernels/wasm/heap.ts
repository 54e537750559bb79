/**
 * Kernels of our own for tfjs's WASM backend, written in JavaScript over its heap: tfjs-backend-wasm keeps every
 * tensor in the WebAssembly module's memory, and a kernel may read and write it through typed arrays, as tfjs's
 * own JavaScript kernels do. Such a loop runs on the worker's thread alone (WASM's thread pool serves its C++
 * kernels), so these kernels are for work that is a few passes over memory: there, one fused pass beats the
 * several tfjs ops it replaces, each a pass of its own.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type { BackendWasm };

/** A new float32 tensor on the WASM heap. Allocate every output before taking views: an allocation may grow memory. */
export function output(backend: BackendWasm, shape: number[]): tf.TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

/** The float32 values of a tensor on the heap, as a view (no copy). */
export function view(backend: BackendWasm, t: tf.TensorInfo): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${t.dtype}`);
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** Frees tensors a kernel allocated for its own use. */
export function free(backend: BackendWasm, ...ts: tf.TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
}
