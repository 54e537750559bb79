/**
 * The one typed protocol between the page and the engine worker. Nothing else crosses the boundary:
 * the page never runs tfjs ops, the worker never touches the DOM.
 */
import type { DataErrorCode } from '../data/errors';
import type { ImportProgress, ImportResult } from '../data/importer';
import type { StepProfile } from '../train/profile';
import type { BackendChoice, BackendName, Config, DatasetId } from '../experiment/schema';
import type {
  BackendAttempt,
  CheckpointInfo,
  ErrorPoint,
  EvalPoint,
  Gallery,
  RunHistory,
  RunInfo,
  RunStatus,
  SignalPoint,
  SignalProfile,
  TrainPoint,
  WeightsCheck,
} from '../experiment/record';

export interface BackendReport {
  requested: BackendChoice;
  active: BackendName;
  /** The GPU adapter as the browser names it, e.g. "google swiftshader (fallback adapter)"; null off WebGPU. */
  adapter: string | null;
  /** Why `auto` chose the active backend, in one line; null when a backend was named. */
  reason: string | null;
  /** WASM only: the threads its kernels run on, and why only one when threads are off; null off WASM. */
  threads: WasmThreads | null;
  /** Backends tried before the active one, in order, each with its reason; empty when the request was met. */
  attempts: BackendAttempt[];
  /** Wall time of the check computation (upload, matmul, async readback) on the active backend. */
  checkMs: number;
}

export interface WasmThreads {
  count: number;
  /** Why WASM runs on one thread (not cross-origin isolated, or the link asked for it); null with threads. */
  note: string | null;
}

/** How far the engine has loaded a dataset (sent after each shard). */
export interface DatasetLoad {
  dataset: DatasetId;
  where: 'embedded' | 'server' | 'browser';
  trainLoaded: number;
  trainTotal: number;
  testImages: number;
  /** Worker time spent fetching/reading and checking shards so far. */
  ms: number;
  done: boolean;
}

export type PageToWorker =
  /** threads: WASM threads asked for by the link (0: one per core, at most 8); fixed once WASM has started. */
  | { type: 'init-backend'; backend: BackendChoice; threads: number }
  /** Load a dataset ahead of training (seed matters for the embedded set, which is generated from it). */
  | { type: 'prepare-dataset'; dataset: DatasetId; where: DatasetLoad['where']; seed: number }
  /** The user's CIFAR tarball or .bin files, to validate and store in this browser. */
  | { type: 'import-dataset'; files: File[] }
  /** resume: continue the run `runId` from its last checkpoint in this browser instead of from scratch. */
  | { type: 'start-run'; runId: string; config: Config; where: DatasetLoad['where']; resume?: boolean }
  /**
   * Weights for the run `runId` (a tfjs model.json and its .bin files: the page's Weights export or a PyTorch run's):
   * checked against the run's network, measured on its dataset (test error, signal profile), and stored as the run's
   * checkpoint with the run's history so far.
   */
  | {
      type: 'import-weights';
      runId: string;
      config: Config;
      where: DatasetLoad['where'];
      files: File[];
      history: RunHistory;
      elapsedMs: number;
    }
  /** Forward and backward norms per unit of the config's network at initialisation, on one test batch. */
  | { type: 'signal-at-init'; requestId: string; config: Config; where: DatasetLoad['where'] }
  | { type: 'pause-run' }
  | { type: 'resume-run' }
  | { type: 'stop-run' }
  | { type: 'set-lr'; lr: number }
  /** Diagnostics (npm run bench -- --profile): per-kernel times of one training step of a throwaway network. */
  | { type: 'profile-step'; requestId: string; config: Config; where: DatasetLoad['where'] }
  /** Diagnostics: destroy the WebGPU device, as a driver reset would (used by the e2e test of device loss). */
  | { type: 'simulate-device-loss' }
  /** Diagnostics: exhaust WASM's memory before the running run's next step (used by the e2e test of that path). */
  | { type: 'simulate-out-of-memory' };

export type WorkerToPage =
  | { type: 'backend-ready'; report: BackendReport }
  | { type: 'backend-failed'; requested: BackendChoice; attempts: BackendAttempt[] }
  | { type: 'dataset-progress'; load: DatasetLoad }
  | { type: 'dataset-failed'; dataset: DatasetId; message: string }
  | { type: 'import-progress'; progress: ImportProgress }
  | { type: 'import-done'; result: ImportResult }
  | { type: 'import-failed'; message: string; code: DataErrorCode | 'other' }
  | { type: 'run-status'; runId: string; status: RunStatus; info?: RunInfo; message?: string }
  | { type: 'run-train'; runId: string; point: TrainPoint }
  /** An evaluation, with what the network got wrong in it. */
  | { type: 'run-eval'; runId: string; point: EvalPoint; errors: ErrorPoint }
  /** The test images the run's errors describe, with the class counts: once per run, before its first run-eval. */
  | { type: 'run-gallery'; runId: string; gallery: Gallery }
  | { type: 'run-lr'; runId: string; iter: number; lr: number }
  /**
   * A resumed run restarts at its checkpoint, which carries the run's metrics up to that iteration: they replace
   * what the page has (it may have saved less before it closed, or more, past the checkpoint).
   */
  | { type: 'run-resumed'; runId: string; iter: number; history: RunHistory }
  | { type: 'run-checkpoint'; runId: string; checkpoint: CheckpointInfo }
  /** Something the user should know that does not end the run (e.g. a checkpoint that did not fit). */
  | { type: 'run-warning'; runId: string; message: string }
  /** The run's signal profile at its start (iteration 0) and at each evaluation. */
  | { type: 'run-signal'; runId: string; point: SignalPoint }
  | { type: 'run-weights'; runId: string; checkpoint: CheckpointInfo; check: WeightsCheck }
  | { type: 'run-weights-failed'; runId: string; message: string }
  | { type: 'signal-result'; requestId: string; profile: SignalProfile }
  | { type: 'signal-failed'; requestId: string; message: string }
  | { type: 'profile-result'; requestId: string; backend: BackendReport; profile: StepProfile }
  | { type: 'profile-failed'; requestId: string; message: string }
  | { type: 'worker-error'; message: string }
  /**
   * WASM ran out of memory: its module aborted and runs nothing more. The page replaces the worker (a fresh module)
   * and loads the backend and dataset again; the failed run has already said why.
   */
  | { type: 'engine-aborted' };

/** The worker's side of the port, typed (the worker's global scope is not in the page's DOM typings). */
export interface WorkerPort {
  postMessage(message: WorkerToPage): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<PageToWorker>) => void): void;
  addEventListener(type: 'error' | 'unhandledrejection', listener: (event: Event) => void): void;
}
