/**
 * What a training run is, as data every layer shares: the worker produces these points, the store holds them, the
 * database and the JSON export keep them, the page and the PyTorch executor write the same shapes. Pure types,
 * at the ground floor, so no layer imports another's internals to name a run.
 */
import type { LabId } from './labIds';
import type { BackendName, Config } from './schema';

export type RunStatus = 'starting' | 'running' | 'paused' | 'finished' | 'stopped' | 'diverged' | 'failed';

/** A run's status as the page keeps it: `interrupted` is a run that was active when its page went away. */
export type RecordStatus = RunStatus | 'interrupted';

export const ACTIVE: readonly RecordStatus[] = ['starting', 'running', 'paused'];

/** One backend the worker tried and why it was not used. */
export interface BackendAttempt {
  backend: BackendName;
  error: string;
}

/** What a run runs on, sent once it has started. */
export interface RunInfo {
  backend: BackendName;
  adapter: string | null;
  /** WASM's threads (absent on other backends and in runs recorded before threads were counted). */
  threads?: number;
  /** Backends that failed before the one in use, with their reasons. */
  fallbacks: BackendAttempt[];
  trainableParams: number;
  trainImages: number;
  testImages: number;
}

/** Training metrics since the previous point (the worker sends a few points a second at most). */
export interface TrainPoint {
  iter: number;
  epoch: number;
  /** Mean training loss over the iterations since the previous point. */
  loss: number;
  lr: number;
  imagesPerSec: number;
  elapsedMs: number;
}

export interface EvalPoint {
  iter: number;
  epoch: number;
  testError: number;
  testLoss: number;
  /** tf.memory().numTensors after the evaluation: constant once warm, or something leaks. */
  tensors: number;
  elapsedMs: number;
}

/**
 * Signal propagation of one network on one batch (src/model/signal.ts measures it; Eqns. 5 and 8).
 * Per residual unit l = 1..L (forward order; stage 1..3): the L2 norm of the unit's output x_l over the whole
 * batch tensor [N, H, W, C], and the L2 norm of ∂E/∂x_l over the same tensor. E is the batch-mean softmax
 * cross-entropy (as in training).
 */
export interface SignalProfile {
  units: { unit: number; stage: number; forward: number; backward: number }[];
  /** ‖∂E/∂x_first‖ / ‖∂E/∂x_last‖: how much the gradient grows or shrinks from the last unit back to the first. */
  backwardRatio: number;
  images: number;
}

/** A signal profile measured at an iteration of a run. */
export interface SignalPoint {
  iter: number;
  profile: SignalProfile;
}

export interface LrChange {
  iter: number;
  lr: number;
}

/** A run's metrics as they were recorded. */
export interface RunHistory {
  train: TrainPoint[];
  evals: EvalPoint[];
  lrChanges: LrChange[];
  signals: SignalPoint[];
}

/** A saved checkpoint, as the page lists it (the weights stay in IndexedDB). */
export interface CheckpointInfo {
  iter: number;
  bytes: number;
  savedAt: number;
}

/** Which paper-lab row a run belongs to. */
export interface RunLab {
  id: LabId;
  row: number;
  quick: boolean;
}

/** One training run: its config, what its engine reported, and its whole history. Plain, structured-clonable data. */
export interface RunRecord {
  id: string;
  config: Config;
  status: RecordStatus;
  info?: RunInfo;
  message?: string;
  /** Something that went wrong without ending the run (a checkpoint that did not fit). */
  warning?: string;
  train: TrainPoint[];
  evals: EvalPoint[];
  lrChanges: LrChange[];
  startedAt: number;
  /** Drawn on the chart (the run list's checkbox). */
  visible: boolean;
  lab?: RunLab;
  /** Per-unit forward/backward norms at the start and at each evaluation (absent in imported runs). */
  signals?: SignalPoint[];
  /** Index into the chart palette, fixed for the run's life so its colour never changes. */
  color: number;
}
