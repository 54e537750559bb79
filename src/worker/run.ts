/**
 * One training run inside the worker: backend, dataset, network, then the loop, with pause/resume/stop and a
 * learning-rate change honoured between iterations. Metrics go to the page a few times a second at most.
 */
import * as tf from '@tensorflow/tfjs';
import type { LoadedDataset } from '../data/source';
import type { Config } from '../experiment/schema';
import { summarizePlan } from '../model/plan';
import { Trainer } from '../train/trainer';
import { selectBackend, webgpuLost, webgpuLostWithin } from './backends';
import type { RunStatus, WorkerToPage } from './protocol';

/** A loss above this (or NaN/Inf) ends the run as diverged: the paper's "fail". Cross-entropy starts near ln 10. */
export const DIVERGED_LOSS = 100;
const POINT_EVERY_MS = 250;

const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class Run {
  private paused = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private pendingLr: number | null = null;

  constructor(
    readonly runId: string,
    readonly config: Config,
    private readonly post: (m: WorkerToPage) => void,
    private readonly dataset: () => Promise<LoadedDataset>,
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

  private status(status: RunStatus, extra: { message?: string } = {}): void {
    this.post({ type: 'run-status', runId: this.runId, status, ...extra });
  }

  async execute(): Promise<void> {
    const c = this.config;
    this.status('starting');
    let trainer: Trainer | null = null;
    try {
      const backend = await selectBackend(c.backend);
      if (Array.isArray(backend))
        throw new Error(`no backend could start: ${backend.map((a) => `${a.backend}: ${a.error}`).join('; ')}`);
      const data = await this.dataset();
      trainer = new Trainer(c, data);
      this.post({
        type: 'run-status',
        runId: this.runId,
        status: 'running',
        info: {
          backend: backend.active,
          adapter: backend.adapter,
          fallbacks: backend.attempts,
          trainableParams: summarizePlan(trainer.net.plan).trainableParams,
          trainImages: data.trainTotal,
          testImages: data.test.count,
        },
      });
      const t0 = performance.now();
      let window = { losses: 0, n: 0, images: 0, since: t0 };
      const flush = () => {
        if (window.n === 0) return;
        const now = performance.now();
        this.post({
          type: 'run-train',
          runId: this.runId,
          point: {
            iter: trainer!.iter,
            epoch: trainer!.epoch,
            loss: window.losses / window.n,
            lr: trainer!.lr,
            imagesPerSec: (1000 * window.images) / Math.max(now - window.since, 1),
            elapsedMs: now - t0,
          },
        });
        window = { losses: 0, n: 0, images: 0, since: now };
      };
      const evaluate = async () => {
        const e = await trainer!.evaluate();
        this.post({
          type: 'run-eval',
          runId: this.runId,
          point: {
            iter: trainer!.iter,
            epoch: trainer!.epoch,
            testError: e.testError,
            testLoss: e.testLoss,
            tensors: tf.memory().numTensors,
            elapsedMs: performance.now() - t0,
          },
        });
      };

      while (trainer.iter < c.iters) {
        if (this.paused) {
          flush();
          this.status('paused');
          await new Promise<void>((r) => (this.wake = r));
          this.wake = null;
          if (!this.stopped) this.status('running');
          window.since = performance.now();
        }
        if (this.stopped) break;
        if (this.pendingLr !== null) {
          trainer.setLr(this.pendingLr);
          this.post({ type: 'run-lr', runId: this.runId, iter: trainer.iter, lr: this.pendingLr });
          this.pendingLr = null;
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
      }
      flush();
      this.status(this.stopped ? 'stopped' : 'finished');
    } catch (e) {
      // After a device loss tfjs fails in its own words; say what happened instead.
      const lost = this.config.backend === 'webgpu' ? await webgpuLostWithin(1000) : null;
      const message = lost
        ? `the GPU device was lost (${lost}); the curves so far are kept, and a new run starts on a fresh device`
        : (e as Error).message;
      this.status('failed', { message });
    } finally {
      trainer?.dispose();
    }
  }
}
