/**
 * What a training run is, as data every layer shares: the worker produces these points, the store holds them, the
 * database and the JSON export keep them, the page and the PyTorch executor write the same shapes. Pure types,
 * at the ground floor, so no layer imports another's internals to name a run.
 */
import type { ClaimId, LabId } from './labIds';
import type { BackendName, Config } from './schema';

export type RunStatus = 'starting' | 'running' | 'paused' | 'finished' | 'stopped' | 'diverged' | 'failed';

/** A run's status as the page keeps it: `interrupted` is a run that was active when its page went away. */
export type RecordStatus = RunStatus | 'interrupted';

export const ACTIVE: readonly RecordStatus[] = ['starting', 'running', 'paused'];

/** Executors outside the page whose run JSON the page imports: the PyTorch package (python/identity_mappings). */
export const EXTERNAL_BACKENDS = ['pytorch-cpu', 'pytorch-cuda'] as const;

/** What ran a run: a tfjs backend in the page's worker, or an external executor. */
export type RunBackend = BackendName | (typeof EXTERNAL_BACKENDS)[number];

/** One backend the worker (or an executor) tried and why it was not used. */
export interface BackendAttempt {
  backend: RunBackend;
  error: string;
}

/** What a run runs on, sent once it has started. */
export interface RunInfo {
  backend: RunBackend;
  /** The device in words: the WebGPU adapter, or the CPU or CUDA device of a PyTorch run. */
  adapter: string | null;
  /** WASM's threads (absent on other backends and in runs recorded before threads were counted). */
  threads?: number;
  /** Backends that failed before the one in use, with their reasons. */
  fallbacks: BackendAttempt[];
  trainableParams: number;
  /** Absent in a run imported from a run JSON that did not record them. */
  trainImages?: number;
  testImages?: number;
  /** The step's memory plan on this backend (src/model/memory.ts); absent in runs from before micro-batches. */
  memory?: RunMemory;
}

/** How a run's micro-batch was chosen and what its step needs, as the worker planned it before training. */
export interface RunMemory {
  /** Images per forward/backward pass (microBatch, auto resolved). */
  microBatch: number;
  /** Planned peak bytes of one step. */
  peakBytes: number;
  /** What the backend allows (memoryBudget, WASM's 4 GiB). */
  budgetBytes: number;
  /** In words, for the status line: "microBatch auto → 64: 2 passes of 64 images per step, 1.9 GiB on WASM …". */
  note: string;
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
  /** tf.memory().numTensors after the evaluation: constant once warm, or something leaks (tfjs runs only). */
  tensors?: number;
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

/**
 * The test images the error view shows: the first GALLERY_SIZE of the test set (fewer when the run evaluates
 * fewer). The same images for every run on a dataset, so two runs compare image by image; their pixels never
 * change, so a run stores them once, and each evaluation only what the network said about them.
 */
export const GALLERY_SIZE = 256;

/** A run's gallery and what its evaluations count over: written once, at its first evaluation. */
export interface Gallery {
  /** The dataset's class names, indexed by label. */
  classNames: string[];
  /** Test images of each class among those every evaluation covers (counted from the labels). */
  classCounts: number[];
  /** True class of each gallery image, in test-set order. */
  labels: number[];
  /** Their pixels, 3072 bytes per image in CIFAR's planar layout (1024 R, 1024 G, 1024 B, rows of 32). */
  pixels: Uint8Array;
}

/**
 * What the network gets wrong at one evaluation, from the evaluation pass itself (no second pass): the confusion
 * matrix over every test image evaluated, and its answer for each gallery image.
 */
export interface ErrorPoint {
  iter: number;
  /** classes × classes counts, row-major: row = true class, column = predicted class. */
  confusion: number[];
  /** Predicted class of each gallery image (Gallery.labels' order). */
  predicted: number[];
  /** The softmax probability of that prediction, 0–1, rounded to 3 decimals. */
  confidence: number[];
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
  errors: ErrorPoint[];
}

/** A saved checkpoint, as the page lists it (the weights stay in IndexedDB). */
export interface CheckpointInfo {
  iter: number;
  bytes: number;
  savedAt: number;
}

/**
 * Weights imported as a run's checkpoint (a PyTorch run's, say) and measured in this page: the test error of the
 * network they make, on this page's copy of the dataset, and its signal profile on the signal batch.
 */
export interface WeightsCheck {
  /** The iteration the weights are from. */
  iter: number;
  /** The file they came from. */
  file: string;
  /** The tfjs backend that measured them. */
  backend: BackendName;
  testError: number;
  testLoss: number;
  testImages: number;
  signal: SignalProfile;
  /**
   * The momentum buffers and the data order's position came with them (a PyTorch run's export), so Resume continues
   * the run exactly; without them (the page's own export) Resume restarts momentum at zero and the data order.
   */
  optimizerState: boolean;
  checkedAt: number;
}

/** Which lab row a run belongs to (in the claims lab: the row of which claim). */
export interface RunLab {
  id: LabId;
  row: number;
  quick: boolean;
  claim?: ClaimId;
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
  /** Weights imported as this run's checkpoint and measured in this page. */
  weightsCheck?: WeightsCheck;
  /** Per-unit forward/backward norms at the start and at each evaluation (absent in imported runs). */
  signals?: SignalPoint[];
  /** What the network got wrong at each evaluation (absent in runs recorded before it was measured). */
  errors?: ErrorPoint[];
  /** The test images those evaluations describe (absent until the first evaluation). */
  gallery?: Gallery;
  /** Index into the chart palette, fixed for the run's life so its colour never changes. */
  color: number;
}
