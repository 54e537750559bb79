/**
 * One training run inside the worker: backend, dataset, network, then the loop, with pause/resume/stop and a
 * learning-rate change honoured between iterations. Metrics go to the page a few times a second at most.
 */
import * as tf from '@tensorflow/tfjs';
import type { LoadedDataset } from '../data/source';
import type { BackendName, Config } from '../experiment/schema';
import {
  chooseMicroBatch,
  evaluationBatch,
  isOutOfMemory,
  memoryLimit,
  outOfMemoryMessage,
  type MemoryLimit,
  type MicroBatchChoice,
} from '../model/memory';
import { summarizePlan } from '../model/plan';
import { signalOnTestBatch } from '../train/signalBatch';
import { loadCheckpoint, saveCheckpoint } from '../persist/db';
import { captureCheckpoint, checkpointBytes, restoreCheckpoint, type Checkpoint } from '../train/checkpoint';
import { galleryOf } from '../train/errors';
import { Trainer } from '../train/trainer';
import { selectBackend, webgpuLimits, webgpuLost, webgpuLostWithin } from './backends';
import type { RunHistory, RunStatus } from '../experiment/record';
import type { WorkerToPage } from './protocol';

/** A loss above this (or NaN/Inf) ends the run as diverged: the paper's "fail". Cross-entropy starts near ln 10. */
export const DIVERGED_LOSS = 100;
const POINT_EVERY_MS = 250;

const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * What a run keeps in IndexedDB: the trainer's checkpoint, its size, the run's training time so far and its
 * metrics up to the checkpoint (so a resumed curve has no hole, whatever the page managed to save).
 */
export type StoredRunCheckpoint = Checkpoint & { bytes: number; elapsedMs: number; history: RunHistory };

export class Run {
  private paused = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private pendingLr: number | null = null;
  private exhaustMemory = false;
  /** Everything this run has sent, kept for its checkpoints. */
  private history: RunHistory = { train: [], evals: [], lrChanges: [], signals: [], errors: [] };

  constructor(
    readonly runId: string,
    readonly config: Config,
    private readonly post: (m: WorkerToPage) => void,
    private readonly dataset: () => Promise<LoadedDataset>,
    /** Continue from this run's last checkpoint in this browser, not from scratch. */
    private readonly resumeFromCheckpoint = false,
    /** Called when WASM ran out of memory: its module aborted and cannot run anything more. */
    private readonly onWasmAborted: () => void = () => {},
  ) {}

  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.wake?.();
  }
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
  setLr(lr: number): void {
    this.pendingLr = lr;
  }
  /** Diagnostics (e2e): before the next step, allocate until WASM runs out of memory, as a too-large step would. */
  simulateOutOfMemory(): void {
    this.exhaustMemory = true;
  }

  private status(status: RunStatus, extra: { message?: string } = {}): void {
    this.post({ type: 'run-status', runId: this.runId, status, ...extra });
  }

  async execute(): Promise<void> {
    const c = this.config;
    this.status('starting');
    let trainer: Trainer | null = null;
    let plan: { choice: MicroBatchChoice & { ok: true }; limit: MemoryLimit; backend: BackendName } | null = null;
    try {
      const backend = await selectBackend(c.backend);
      if (Array.isArray(backend))
        throw new Error(`no backend could start: ${backend.map((a) => `${a.backend}: ${a.error}`).join('; ')}`);
      // The memory plan, before anything is loaded or allocated: the micro-batch (auto resolved) and whether the
      // step fits this backend at all. A config that cannot fit is refused here, in one sentence.
      const limit = memoryLimit(c, backend.active, webgpuLimits() ?? undefined);
      const choice = chooseMicroBatch(c, limit);
      if (!choice.ok) {
        this.status('failed', { message: choice.reason });
        return;
      }
      plan = { choice, limit, backend: backend.active };
      const run = { ...c, microBatch: choice.microBatch };
      const data = await this.dataset();
      trainer = new Trainer(run, data, { evalBatch: evaluationBatch(run, limit) });
      let elapsedBefore = 0;
      if (this.resumeFromCheckpoint) {
        const saved = (await loadCheckpoint(this.runId)) as StoredRunCheckpoint | undefined;
        if (!saved) throw new Error('no checkpoint of this run is stored in this browser, so it cannot resume');
        restoreCheckpoint(trainer, saved);
        elapsedBefore = saved.elapsedMs;
        // Checkpoints written before errors were recorded have none.
        this.history = { ...saved.history, errors: saved.history.errors ?? [] };
        this.post({ type: 'run-resumed', runId: this.runId, iter: trainer.iter, history: this.history });
      }
      this.post({
        type: 'run-status',
        runId: this.runId,
        status: 'running',
        info: {
          backend: backend.active,
          adapter: backend.adapter,
          ...(backend.threads && { threads: backend.threads.count }),
          fallbacks: backend.attempts,
          trainableParams: summarizePlan(trainer.net.plan).trainableParams,
          trainImages: data.trainTotal,
          testImages: data.test.count,
          memory: {
            microBatch: choice.microBatch,
            peakBytes: choice.memory.peak,
            budgetBytes: limit.budget,
            note: choice.note,
          },
        },
      });
      const t0 = performance.now() - elapsedBefore;
      let window = { losses: 0, n: 0, images: 0, since: performance.now() };
      // Checkpoints go straight to IndexedDB from here (the weights never cross to the page). One that does not
      // fit is a warning, not the end of the run: the previous checkpoint stays.
      let lastSave = performance.now();
      const save = async () => {
        const cp = await captureCheckpoint(trainer!);
        const h = this.history;
        const stored: StoredRunCheckpoint = {
          ...cp,
          bytes: checkpointBytes(cp),
          elapsedMs: performance.now() - t0,
          // Copies: the arrays grow while the write is under way.
          history: {
            train: h.train.slice(),
            evals: h.evals.slice(),
            lrChanges: h.lrChanges.slice(),
            signals: h.signals.slice(),
            errors: h.errors.slice(),
          },
        };
        try {
          await saveCheckpoint(this.runId, stored, stored.bytes);
          this.post({
            type: 'run-checkpoint',
            runId: this.runId,
            checkpoint: { iter: stored.iter, bytes: stored.bytes, savedAt: stored.savedAt },
          });
        } catch (e) {
          this.post({ type: 'run-warning', runId: this.runId, message: (e as Error).message });
        }
        lastSave = performance.now();
      };
      const flush = () => {
        if (window.n === 0) return;
        const now = performance.now();
        const point = {
          iter: trainer!.iter,
          epoch: trainer!.epoch,
          loss: window.losses / window.n,
          lr: trainer!.lr,
          imagesPerSec: (1000 * window.images) / Math.max(now - window.since, 1),
          elapsedMs: now - t0,
        };
        this.history.train.push(point);
        this.post({ type: 'run-train', runId: this.runId, point });
        window = { losses: 0, n: 0, images: 0, since: now };
      };
      // Eqn. 5 vs Eqn. 8 as the run goes: per-unit norms of x_l and ∂E/∂x_l on one fixed test batch, at the
      // start and at every evaluation (one forward and one backward pass: small beside the evaluation itself).
      const signal = async () => {
        const point = { iter: trainer!.iter, profile: await signalOnTestBatch(trainer!.net, data, run, limit) };
        this.history.signals.push(point);
        this.post({ type: 'run-signal', runId: this.runId, point });
      };
      // The gallery's images and the class counts never change during a run: sent once, before its first errors.
      let gallerySent = false;
      const evaluate = async () => {
        const e = await trainer!.evaluate();
        if (!gallerySent) {
          this.post({ type: 'run-gallery', runId: this.runId, gallery: galleryOf(data, c.testSubset) });
          gallerySent = true;
        }
        const point = {
          iter: trainer!.iter,
          epoch: trainer!.epoch,
          testError: e.testError,
          testLoss: e.testLoss,
          tensors: tf.memory().numTensors,
          elapsedMs: performance.now() - t0,
        };
        const errors = { iter: point.iter, confusion: e.confusion, predicted: e.predicted, confidence: e.confidence };
        this.history.evals.push(point);
        this.history.errors.push(errors);
        this.post({ type: 'run-eval', runId: this.runId, point, errors });
        await signal();
      };

      if (!this.resumeFromCheckpoint) await signal();
      while (trainer.iter < c.iters) {
        if (this.paused) {
          flush();
          await save();
          this.status('paused');
          await new Promise<void>((r) => (this.wake = r));
          this.wake = null;
          if (!this.stopped) this.status('running');
          window.since = performance.now();
        }
        if (this.stopped) break;
        if (this.pendingLr !== null) {
          trainer.setLr(this.pendingLr);
          this.history.lrChanges.push({ iter: trainer.iter, lr: this.pendingLr });
          this.post({ type: 'run-lr', runId: this.runId, iter: trainer.iter, lr: this.pendingLr });
          this.pendingLr = null;
        }
        if (this.exhaustMemory && backend.active === 'wasm') {
          // Holds 256 MiB blocks until the module's 4 GiB run out: it traps ("memory access out of bounds").
          const held: tf.Tensor[] = [];
          for (;;) held.push(tf.fill([64, 1024, 1024], 1));
        }
        const loss = await trainer.step();
        if (backend.active === 'webgpu' && webgpuLost()) throw new Error('device lost'); // worded in the catch below
        // On WASM and CPU the loss readback resolves as a microtask, so without this the worker would never get
        // to the page's messages (pause, stop, a new learning rate) until the run ended.
        await yieldToEvents();
        window.losses += loss;
        window.n++;
        window.images += c.batch;
        if (!Number.isFinite(loss) || loss > DIVERGED_LOSS) {
          flush();
          this.status('diverged', { message: `training loss reached ${loss} at iteration ${trainer.iter}` });
          return;
        }
        if (performance.now() - window.since >= POINT_EVERY_MS) flush();
        if (trainer.iter % c.evalEvery === 0 || trainer.iter === c.iters) {
          flush();
          await evaluate();
        }
        if (c.checkpointMinutes > 0 && performance.now() - lastSave >= c.checkpointMinutes * 60_000) await save();
      }
      flush();
      await save();
      this.status(this.stopped ? 'stopped' : 'finished');
    } catch (e) {
      // After a device loss or running out of memory tfjs fails in its own words; say what happened instead.
      const raw = e instanceof Error ? e.message : String(e);
      const lost = plan?.backend === 'webgpu' ? await webgpuLostWithin(1000) : null;
      let message = raw;
      if (lost)
        message = `the GPU device was lost (${lost}); the curves so far are kept, and a new run starts on a fresh device`;
      else if (plan && isOutOfMemory(raw)) {
        message = outOfMemoryMessage(raw, trainer?.iter ?? 0, plan.choice, plan.limit);
        if (plan.backend === 'wasm') this.onWasmAborted();
      }
      this.status('failed', { message });
    } finally {
      trainer?.dispose();
    }
  }
}
