/**
 * Choosing the tfjs backend inside the worker: the one the experiment asks for, else the fallbacks in order
 * (WASM, then CPU: the fastest paths without a usable GPU). `auto` asks the browser for its GPU adapter first and
 * takes WebGPU only on real hardware: a software adapter (SwiftShader, what Chromium offers without a GPU) runs
 * a ResNet step about 40x slower than WASM on the same cores. Each attempt ends with a small computation read
 * back asynchronously, so "active" means "computed a correct result", not merely "registered".
 */
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as threadedGlue from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
import threadedGlueSource from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?raw';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { MAX_THREADS } from '../experiment/codec';
import type { BackendChoice, BackendName } from '../experiment/schema';
import type { BackendAttempt } from '../experiment/record';
import '../kernels/wasm'; // our WASM kernels (conv gradients, batch norm), registered on import
import '../kernels/webgpu'; // our WebGPU kernels (conv filter gradient, batch norm)
import type { BackendReport, WasmThreads } from './protocol';

const FALLBACKS: readonly BackendName[] = ['wasm', 'cpu'];

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});

/*
 * Threaded WASM in a minified build. Each of the pthreads of tfjs's threaded module (Web Workers) loads the
 * module's Emscripten glue from a Blob that tfjs writes as `factory.toString()`: the text of the glue's factory
 * function as the bundle holds it. Minified, that function is no longer self-contained: the glue guards a
 * variable of its enclosing closure with `typeof _scriptDir !== "undefined"`, and the minifier, which sees the
 * declaration, renames it (`e`) and drops the typeof guard (`e !== void 0`). In the pthread the closure is gone,
 * so it threw "e is not defined" and the backend never started. The fix: the pthreads get the package's glue
 * file as published (imported as text, untouched by the minifier), so their code is exactly what Emscripten
 * generated. The factory object is the one tfjs itself imported (the bundler keeps one instance per module).
 */
const glueFactory = ((threadedGlue as { default?: unknown }).default ?? threadedGlue) as { toString(): string };
// tfjs writes `var WasmBackendModuleThreadedSimd = ` before this text: the glue declares that name itself.
glueFactory.toString = () => `undefined;\n${threadedGlueSource}`;

/** Threads for XNNPACK's pool: one per core, at most MAX_THREADS (the pool tfjs's glue starts), or the link's. */
let threadsWanted = 0;
let wasmThreads: WasmThreads | null = null;

/** Sets the WASM threads the link asks for (0: one per core); it takes effect if WASM has not started yet. */
export function requestWasmThreads(n: number): void {
  threadsWanted = n;
}

/** Sets tfjs's threading flags just before WASM first starts (they are read once, at its initialisation). */
function configureWasmThreads(): void {
  if (wasmThreads) return;
  const cores = Math.min(MAX_THREADS, Math.max(1, navigator.hardwareConcurrency || 1));
  const isolated = (self as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  let count = threadsWanted > 0 ? Math.min(threadsWanted, MAX_THREADS) : cores;
  let note: string | null = null;
  if (!isolated) {
    count = 1;
    note = 'one thread: the page is not cross-origin isolated (COOP/COEP headers), so WebAssembly threads are off';
  } else if (count === 1) {
    note =
      threadsWanted === 1 ? 'one thread, as the link asks (threads=1)' : 'one thread: this machine reports one core';
  }
  // One thread: the plain SIMD module, without a pool of idle workers.
  if (count === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  else setThreadsCount(count);
  wasmThreads = { count, note };
}

/**
 * Starts WASM with the pool configureWasmThreads chose. tfjs's C++ side takes half of navigator.hardwareConcurrency
 * as the number of cores (it assumes two hardware threads per core) and never starts more threads than that: one
 * on a 2-core machine, whatever setThreadsCount asked. While its module initialises (the count is read once, by
 * a static initialiser), this worker's navigator reports twice the threads chosen; then the real value is back.
 */
async function startWasm(): Promise<boolean> {
  const count = wasmThreads?.count ?? 1;
  if (count === 1) return tf.setBackend('wasm');
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * count, configurable: true });
  try {
    return await tf.setBackend('wasm');
  } finally {
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency; // the prototype's getter again
  }
}

/** WASM's threads as it really runs (its pool may be smaller than planned if the threaded module did not load). */
function activeWasmThreads(): WasmThreads {
  const planned = wasmThreads ?? { count: 1, note: null };
  let count = 1;
  try {
    count = getThreadsCount();
  } catch {
    // the plain SIMD module has no pool
  }
  return count === planned.count
    ? planned
    : { count, note: `${count} of the ${planned.count} threads planned started` };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface AdapterInfo {
  adapter: GPUAdapter;
  /** As the browser names it, e.g. "google swiftshader (fallback adapter)". */
  name: string;
  /** Vendor and architecture, e.g. "google swiftshader". */
  label: string;
  /** A software rasteriser rather than a GPU (SwiftShader, llvmpipe/lavapipe, WARP). */
  software: boolean;
}

/**
 * The browser's WebGPU adapter, or why there is none. Software adapters say so through isFallbackAdapter (on the
 * adapter's info in current Chromium, on the adapter before); older ones only by name.
 */
async function requestAdapter(): Promise<AdapterInfo> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) throw new Error('this browser exposes no WebGPU here (navigator.gpu is missing)');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('the browser has WebGPU but offered no adapter (requestAdapter returned null)');
  const info = adapter.info;
  const fallback = Boolean(
    (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter,
  );
  const label = [info.vendor, info.architecture].filter(Boolean).join(' ') || info.description || 'unnamed adapter';
  const software =
    fallback || /swiftshader|llvmpipe|lavapipe|softpipe|basic render|software/i.test(`${label} ${info.description}`);
  return { adapter, name: fallback ? `${label} (fallback adapter)` : label, label, software };
}

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

async function prepareWebGPU(found?: AdapterInfo): Promise<string> {
  if (gpuDevice && !gpuDevice.lost && tf.findBackend('webgpu')) return gpuDevice.adapter;
  const { adapter, name } = found ?? (await requestAdapter());
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
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info));
  const current = { device, adapter: name, lost: null as string | null };
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

async function tryBackend(
  name: BackendName,
  adapter?: AdapterInfo,
): Promise<{ adapter: string | null; checkMs: number }> {
  let adapterName: string | null = null;
  if (name === 'webgpu') adapterName = await prepareWebGPU(adapter);
  if (name === 'webgl') checkWebGL();
  if (name === 'wasm') configureWasmThreads();
  if (!(await (name === 'wasm' ? startWasm() : tf.setBackend(name))))
    throw new Error(`tfjs could not initialise the ${name} backend`);
  await tf.ready();
  return { adapter: adapterName, checkMs: await check() };
}

/** What `auto` starts with, and why (one line for the backend badge). */
async function autoChoice(): Promise<{ first: BackendName; reason: string; adapter?: AdapterInfo }> {
  try {
    const found = await requestAdapter();
    if (!found.software) return { first: 'webgpu', reason: `auto: a hardware GPU (${found.name})`, adapter: found };
    return {
      first: 'wasm',
      reason: `auto: WASM, because the only WebGPU adapter here is software (${found.label}), far slower than WASM on the same CPU; backend=webgpu forces it`,
    };
  } catch (e) {
    return { first: 'wasm', reason: `auto: WASM, because WebGPU is not usable here (${message(e)})` };
  }
}

/** Activates the requested backend (auto: see autoChoice) or the first fallback that works; else the attempts. */
export async function selectBackend(requested: BackendChoice): Promise<BackendReport | BackendAttempt[]> {
  const auto = requested === 'auto' ? await autoChoice() : null;
  const first = auto ? auto.first : (requested as BackendName);
  const order = [first, ...FALLBACKS.filter((b) => b !== first)];
  const attempts: BackendAttempt[] = [];
  for (const backend of order) {
    try {
      const { adapter, checkMs } = await tryBackend(backend, auto?.adapter);
      return {
        requested,
        active: backend,
        adapter,
        attempts,
        checkMs,
        reason: auto?.reason ?? null,
        threads: backend === 'wasm' ? activeWasmThreads() : null,
      };
    } catch (e) {
      attempts.push({ backend, error: message(e) });
    }
  }
  return attempts;
}
