/** The page's handle on the engine worker: typed send and subscribe, and the worker's own load errors. */
import type { PageToWorker, WorkerToPage } from './protocol';

export interface EngineClient {
  send(message: PageToWorker): void;
  onMessage(listener: (message: WorkerToPage) => void): () => void;
  /** Replaces the worker with a fresh one (its WASM module aborted); listeners stay subscribed. */
  restart(): void;
  terminate(): void;
}

export function startEngine(): EngineClient {
  const listeners = new Set<(message: WorkerToPage) => void>();
  const emit = (m: WorkerToPage) => listeners.forEach((l) => l(m));
  const spawn = () => {
    const w = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
    w.addEventListener('message', (e: MessageEvent<WorkerToPage>) => emit(e.data));
    // A worker that fails to load or throws at the top level reports here, not through messages.
    w.addEventListener('error', (e) =>
      emit({ type: 'worker-error', message: e.message || 'the engine worker failed to start' }),
    );
    return w;
  };
  let worker = spawn();
  return {
    send: (message) => worker.postMessage(message),
    onMessage: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    restart: () => {
      worker.terminate();
      worker = spawn();
    },
    terminate: () => worker.terminate(),
  };
}
