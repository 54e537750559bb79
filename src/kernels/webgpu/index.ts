/**
 * Our kernels for tfjs's WebGPU backend, registered once when this module is first imported (the worker imports
 * it): the filter gradient replaces tfjs's own, batch norm's two kernels are new.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { webgpuBatchNormKernels } from './batchNorm';
import { webgpuConvKernels } from './conv';

export const WEBGPU_KERNELS: readonly tf.KernelConfig[] = [...webgpuConvKernels, ...webgpuBatchNormKernels];

for (const kernel of WEBGPU_KERNELS) {
  if (tf.getKernel(kernel.kernelName, kernel.backendName)) tf.unregisterKernel(kernel.kernelName, kernel.backendName);
  tf.registerKernel(kernel);
}
