/**
 * Our kernels for tfjs's WASM backend, registered once when this module is first imported (the worker, and tests
 * that train on WASM, import it): tfjs then runs them wherever its ops and gradients name these kernels.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { wasmBatchNormKernels } from './batchNorm';
import { wasmConvKernels } from './conv';

for (const kernel of [...wasmConvKernels(), ...wasmBatchNormKernels]) {
  if (tf.getKernel(kernel.kernelName, kernel.backendName)) tf.unregisterKernel(kernel.kernelName, kernel.backendName);
  tf.registerKernel(kernel);
}
