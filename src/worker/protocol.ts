/**
 * The one typed protocol between the page and the engine worker. Nothing else crosses the boundary:
 * the page never runs tfjs ops, the worker never touches the DOM.
 */
import type { BackendName } from '../experiment/schema';

/** One backend the worker tried and why it was not used. */
export interface BackendAttempt {
  backend: BackendName;
  error: string;
}

export interface BackendReport {
  requested: BackendName;
  active: BackendName;
  /** The GPU adapter as the browser names it, e.g. "google swiftshader (fallback adapter)"; null off WebGPU. */
  adapter: string | null;
  /** Backends tried before the active one, in order, each with its reason; empty when the request was met. */
  attempts: BackendAttempt[];
  /** Wall time of the check computation (upload, matmul, async readback) on the active backend. */
  checkMs: number;
}

export type PageToWorker = { type: 'init-backend'; backend: BackendName };

export type WorkerToPage =
  | { type: 'backend-ready'; report: BackendReport }
  | { type: 'backend-failed'; requested: BackendName; attempts: BackendAttempt[] }
  | { type: 'worker-error'; message: string };

/** The worker's side of the port, typed (the worker's global scope is not in the page's DOM typings). */
export interface WorkerPort {
  postMessage(message: WorkerToPage): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<PageToWorker>) => void): void;
  addEventListener(type: 'error' | 'unhandledrejection', listener: (event: Event) => void): void;
}
