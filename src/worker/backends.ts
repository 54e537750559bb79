/**
 * Choosing the tfjs backend inside the worker: the one the experiment asks for, else the fallbacks in order
 * (WASM, then CPU: the fastest paths without a usable GPU). Each attempt ends with a small computation read
 * back asynchronously, so "active" means "computed a correct result", not merely "registered".
 */
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendName } from '../experiment/schema';
import type { BackendAttempt } from '../experiment/record';
import type { BackendReport } from './protocol';

const FALLBACKS: readonly BackendName[] = ['wasm', 'cpu'];

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});
// Threaded WASM fails in a minified build ("e is not defined", measured here); single-threaded SIMD it is.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function describeAdapter(info: GPUAdapterInfo, fallback: boolean): string {
  const name = [info.vendor, info.architecture].filter(Boolean).join(' ') || info.description || 'unnamed adapter';
  return fallback ? `${name} (fallback adapter)` : name;
}

/**
 * Our own WebGPU set-up rather than the package's: it reports *why* WebGPU is unusable (no navigator.gpu,
 * no adapter, device refused) instead of a bare "false", and keeps the adapter's name for the page.
 */
/** The WebGPU device tfjs runs on, kept across runs (its compiled pipelines with it) until it is lost. */
let gpuDevice: { device: GPUDevice; adapter: string; lost: string | null } | null = null;

/** Why the WebGPU device was lost, or null while it is fine (or none exists). */
export function webgpuLost(): string | null {
  return gpuDevice?.lost ?? null;
}

/** Waits up to `ms` for the device's loss to be reported (an op can fail on a lost device before `lost` settles). */
export async function webgpuLostWithin(ms: number): Promise<string | null> {
  const current = gpuDevice;
  if (!current) return null;
  await Promise.race([current.device.lost, new Promise((r) => setTimeout(r, ms))]);
  return current.lost;
}

/** The WebGPU device's buffer limits (what tfjs may allocate in one tensor), or null when no device is up. */
export function webgpuLimits(): { maxStorageBufferBindingSize: number; maxBufferSize: number } | null {
  if (!gpuDevice || gpuDevice.lost) return null;
  const { maxStorageBufferBindingSize, maxBufferSize } = gpuDevice.device.limits;
  return { maxStorageBufferBindingSize, maxBufferSize };
}

/** Destroys the WebGPU device, as a driver reset or a GPU process crash would (diagnostics and tests). */
export function simulateDeviceLoss(): boolean {
  gpuDevice?.device.destroy();
  return gpuDevice !== null;
}

async function prepareWebGPU(): Promise<string> {
  if (gpuDevice && !gpuDevice.lost && tf.findBackend('webgpu')) return gpuDevice.adapter;
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) throw new Error('this browser exposes no WebGPU here (navigator.gpu is missing)');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('the browser has WebGPU but offered no adapter (requestAdapter returned null)');
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    // tfjs needs the adapter's full limits for large convolutions, not WebGPU's conservative defaults.
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  const info = adapter.info;
  const isFallback = Boolean(
    (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter,
  );
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, info));
  const current = { device, adapter: describeAdapter(info, isFallback), lost: null as string | null };
  void device.lost.then((l) => (current.lost = l.message || `reason: ${l.reason ?? 'unknown'}`));
  gpuDevice = current;
  return current.adapter;
}

function checkWebGL(): void {
  const canvas = typeof OffscreenCanvas === 'undefined' ? null : new OffscreenCanvas(1, 1);
  if (!canvas?.getContext('webgl2')) throw new Error('WebGL2 is not available in this worker');
}

/** A small computation with a known answer, read back asynchronously (never dataSync on WebGPU). */
async function check(): Promise<number> {
  const t0 = performance.now();
  const out = tf.tidy(() =>
    tf.relu(
      tf.matMul(
        tf.tensor2d([
          [1, -2],
          [3, 4],
        ]),
        tf.tensor2d([
          [5, 6],
          [7, 8],
        ]),
      ),
    ),
  );
  const got = Array.from(await out.data());
  out.dispose();
  const want = [0, 0, 43, 50];
  if (got.some((v, i) => Math.abs(v - want[i]!) > 1e-4)) {
    throw new Error(`computed [${got.join(', ')}] for a check whose answer is [${want.join(', ')}]`);
  }
  return performance.now() - t0;
}

async function tryBackend(name: BackendName): Promise<{ adapter: string | null; checkMs: number }> {
  let adapter: string | null = null;
  if (name === 'webgpu') adapter = await prepareWebGPU();
  if (name === 'webgl') checkWebGL();
  if (!(await tf.setBackend(name))) throw new Error(`tfjs could not initialise the ${name} backend`);
  await tf.ready();
  return { adapter, checkMs: await check() };
}

/** Activates the requested backend or the first fallback that works; throws only when none does. */
export async function selectBackend(requested: BackendName): Promise<BackendReport | BackendAttempt[]> {
  const order = [requested, ...FALLBACKS.filter((b) => b !== requested)];
  const attempts: BackendAttempt[] = [];
  for (const backend of order) {
    try {
      const { adapter, checkMs } = await tryBackend(backend);
      return { requested, active: backend, adapter, attempts, checkMs };
    } catch (e) {
      attempts.push({ backend, error: message(e) });
    }
  }
  return attempts;
}
