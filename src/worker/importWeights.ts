/**
 * Weights from elsewhere as a run's checkpoint: a PyTorch run's export (or the page's own) is checked against the
 * run's network by plan name and shape, measured here (test error on this page's copy of the dataset, the signal
 * profile on the signal batch) and stored as the run's checkpoint, so the page can inspect a network trained on a
 * cluster, export it again, or resume it.
 */
import type { LoadedDataset } from '../data/source';
import { toQuery, parseQuery } from '../experiment/codec';
import type { CheckpointInfo, LrChange, WeightsCheck } from '../experiment/record';
import type { Config } from '../experiment/schema';
import { saveCheckpoint } from '../persist/db';
import { decodeWeights, isRecord, type NamedTensor } from '../persist/weights';
import { checkpointBytes, restoreCheckpoint, type Checkpoint } from '../train/checkpoint';
import { evaluationBatch, type MemoryLimit } from '../model/memory';
import { signalOnTestBatch } from '../train/signalBatch';
import { Trainer } from '../train/trainer';
import type { PageToWorker } from './protocol';
import type { StoredRunCheckpoint } from './run';

type ImportWeights = Extract<PageToWorker, { type: 'import-weights' }>;

const wholeNumber = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** The model.json among the files (the .json that is a weights manifest) and the .bin files by name. */
async function readFiles(files: File[]): Promise<{ name: string; text: string; bins: Map<string, ArrayBuffer> }> {
  const bins = new Map<string, ArrayBuffer>();
  let manifest: { name: string; text: string } | null = null;
  for (const f of files) {
    if (f.name.endsWith('.bin')) bins.set(f.name, await f.arrayBuffer());
    else {
      const text = await f.text();
      if (manifest) throw new Error(`choose one model.json with its .bin file, not ${manifest.name} and ${f.name}`);
      manifest = { name: f.name, text };
    }
  }
  if (!manifest) throw new Error('no model.json among the files: choose the model.json and its .bin file together');
  return { ...manifest, bins };
}

/** Checks, measures and stores the weights; returns what the page shows. Throws one sentence when they do not fit. */
/**
 * `sized` is the run's config with its micro-batch resolved for this backend, and `limit` the memory plan's limit
 * there (engine.worker.ts sizes both as for a run).
 */
export async function importWeights(
  msg: ImportWeights,
  sized: Config,
  data: LoadedDataset,
  limit: MemoryLimit,
): Promise<{ checkpoint: CheckpointInfo; check: WeightsCheck }> {
  const backend = limit.backend;
  const files = await readFiles(msg.files);
  let decoded;
  try {
    decoded = decodeWeights(files.text, files.bins);
  } catch (e) {
    throw new Error(`${files.name}: ${(e as Error).message}`);
  }
  const meta = decoded.metadata;
  const config: Config = msg.config;
  if (typeof meta.link === 'string') {
    const theirs = toQuery(parseQuery(meta.link).config);
    if (theirs !== toQuery(config)) {
      throw new Error(
        `${files.name} holds the weights of another experiment (${theirs || 'the defaults'}), not this run's`,
      );
    }
  }
  const sampler = isRecord(meta.sampler) ? meta.sampler : null;
  const lrChanges = Array.isArray(meta.lrChanges) ? (meta.lrChanges as LrChange[]) : [];
  // Sized like a run on this backend (src/model/memory.ts): the evaluation pass that fits.
  const trainer = new Trainer(sized, data, { evalBatch: evaluationBatch(sized, limit) });
  try {
    // The page's own export carries no momentum: it starts at zero, as after a fresh start.
    const given = new Map(decoded.momentum.map((t) => [t.name, t]));
    const momentum: NamedTensor[] = trainer.net.trainable.map(({ spec }) => {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      return given.get(spec.name) ?? { name: spec.name, shape: spec.shape, data: new Float32Array(size) };
    });
    const checkpoint: Checkpoint = {
      version: 1,
      iter: wholeNumber(meta.iteration) ? meta.iteration : 0,
      epoch: typeof meta.epoch === 'number' ? meta.epoch : 0,
      lrOverrides: lrChanges.map(({ iter, lr }) => ({ iter, lr })),
      sampler: sampler
        ? { completed: Number(sampler.completed), pos: Number(sampler.pos), size: Number(sampler.size) }
        : { completed: 0, pos: 0, size: 0 },
      params: decoded.params,
      momentum,
      savedAt: Date.now(),
    };
    try {
      restoreCheckpoint(trainer, checkpoint); // every name and shape checked before anything is assigned
    } catch (e) {
      throw new Error(`${files.name}: ${(e as Error).message.replace(/^checkpoint/, 'the weights')}`);
    }
    const evaluation = await trainer.evaluate();
    const signal = await signalOnTestBatch(trainer.net, data, config, limit);
    const stored: StoredRunCheckpoint = {
      ...checkpoint,
      bytes: checkpointBytes(checkpoint),
      elapsedMs: msg.elapsedMs,
      history: msg.history,
    };
    await saveCheckpoint(msg.runId, stored, stored.bytes);
    return {
      checkpoint: { iter: stored.iter, bytes: stored.bytes, savedAt: stored.savedAt },
      check: {
        iter: checkpoint.iter,
        file: files.name,
        backend,
        testError: evaluation.testError,
        testLoss: evaluation.testLoss,
        testImages: evaluation.images,
        signal,
        optimizerState: given.size > 0 && sampler !== null,
        checkedAt: Date.now(),
      },
    };
  } finally {
    trainer.dispose();
  }
}
