/**
 * The page of e2e/kernels.spec.ts: our WebGPU kernels checked against the CPU backend (src/kernels/testing.ts)
 * in the browser, where WebGPU exists. Bundled by the test itself, never part of the app.
 */
import * as tf from '@tensorflow/tfjs';
import { checkKernels } from '../../src/kernels/testing';
import { WEBGPU_KERNELS } from '../../src/kernels/webgpu';

async function run() {
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend could not start');
  const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
  const registered = WEBGPU_KERNELS.map((k) => ({
    kernel: k.kernelName,
    ours: tf.getKernel(k.kernelName, 'webgpu')?.kernelFunc === k.kernelFunc,
  }));
  return {
    adapter: [info?.vendor, info?.architecture].filter(Boolean).join(' '),
    registered,
    results: await checkKernels('webgpu'),
  };
}

(window as unknown as { runKernelChecks: typeof run }).runKernelChecks = run;
