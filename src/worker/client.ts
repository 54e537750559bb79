/** The page's handle on the engine worker: typed send and subscribe, and the worker's own load errors. */
import type { PageToWorker, WorkerToPage } from './protocol';

export interface EngineClient {
  send(message: PageToWorker): void;
  onMessage(listener: (message: WorkerToPage) => void): () => void;
  terminate(): void;
}

export function startEngine(): EngineClient {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  const listeners = new Set<(message: WorkerToPage) => void>();
  const emit = (m: WorkerToPage) => listeners.forEach((l) => l(m));
  worker.addEventListener('message', (e: MessageEvent<WorkerToPage>) => emit(e.data));
  // A worker that fails to load or throws at the top level reports here, not through messages.
  worker.addEventListener('error', (e) =>
    emit({ type: 'worker-error', message: e.message || 'the engine worker failed to start' }),
  );
  return {
    send: (message) => worker.postMessage(message),
    onMessage: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    terminate: () => worker.terminate(),
  };
}
