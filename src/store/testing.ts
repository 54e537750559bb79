/** Tests only: a stand-in for the engine worker, and a small dataset entry to start runs on. */
import type { DatasetEntry } from '../data/catalog';
import type { EngineClient } from '../worker/client';
import type { PageToWorker, WorkerToPage } from '../worker/protocol';

export const SYNTHETIC: DatasetEntry = {
  dataset: 'synthetic',
  trainImages: 10,
  testImages: 2,
  where: 'embedded',
  missing: [],
};

/** Records what the page sends to the worker and lets the test answer as the worker. */
export function fakeEngine() {
  const sent: PageToWorker[] = [];
  const listeners = new Set<(m: WorkerToPage) => void>();
  /** How many messages had been sent at each restart of the worker. */
  const restarts: number[] = [];
  const engine: EngineClient = {
    send: (m) => void sent.push(m),
    restart: () => void restarts.push(sent.length),
    terminate: () => {},
    onMessage: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const reply = (m: WorkerToPage) => listeners.forEach((l) => l(m));
  return { engine, sent, reply, restarts, starts: () => sent.filter((m) => m.type === 'start-run') };
}
