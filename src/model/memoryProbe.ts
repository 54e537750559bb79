/**
 * Measures what tfjs's WASM backend really holds, to check the memory plan (memory.ts) against it: the bytes its
 * tensors hold in the module's heap, live and at their peak (its malloc and free, counted), and the heap's size.
 * Used by memory.test.ts and `npm run bench:memory`; nothing in the app runs it.
 *
 * The heap only grows (WASM memory cannot shrink), in steps: emscripten grows it by at least a fifth, so its size is
 * the live peak plus up to ~20% slack and whatever the allocator could not reuse.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

export interface WasmMemoryProbe {
  /** Bytes held by live allocations now. */
  readonly live: number;
  /** The most held at once since the last reset. */
  readonly peak: number;
  /** The module's memory (its heap) in bytes: what WASM's 4 GiB limit applies to. */
  readonly heap: number;
  /** Starts a new peak from what is held now. */
  resetPeak(): void;
}

let probe: WasmMemoryProbe | null = null;

/** Counts the active WASM backend's allocations from now on (tf.setBackend('wasm') first). */
export function probeWasmMemory(): WasmMemoryProbe {
  if (tf.getBackend() !== 'wasm') throw new Error('probeWasmMemory needs the wasm backend to be active');
  const wasm = (tf.backend() as unknown as { wasm: WasmModule }).wasm;
  if (probe) return probe;
  // Emscripten's exports replace themselves on first call; call each once so the wrappers below stay in place.
  wasm._free(wasm._malloc(8));
  const malloc = wasm._malloc.bind(wasm);
  const free = wasm._free.bind(wasm);
  const sizes = new Map<number, number>();
  let live = 0;
  let peak = 0;
  // Pointers past 2 GiB come back negative from malloc (a signed i32); tfjs frees them as unsigned (>>> 0).
  wasm._malloc = (bytes: number) => {
    const p = malloc(bytes);
    sizes.set(p >>> 0, bytes);
    live += bytes;
    peak = Math.max(peak, live);
    return p;
  };
  wasm._free = (p: number) => {
    live -= sizes.get(p >>> 0) ?? 0;
    sizes.delete(p >>> 0);
    free(p);
  };
  probe = {
    get live() {
      return live;
    },
    get peak() {
      return peak;
    },
    get heap() {
      return wasm.HEAPU8.buffer.byteLength;
    },
    resetPeak: () => {
      peak = live;
    },
  };
  return probe;
}
