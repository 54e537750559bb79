/**
 * The engine worker: owns tfjs and the accelerator. It starts the backend the experiment asks for (and says
 * what actually runs), loads and imports datasets, trains runs one at a time (run.ts), measures signal
 * profiles and imported weights (importWeights.ts); messages are handled in order, except the controls of the running run.
 */
import { saveDataset } from '../data/browserStore';
import { DataError } from '../data/errors';
import { importFiles } from '../data/importer';
import { loadDataset, type LoadedDataset } from '../data/source';
import { requestWasmThreads, selectBackend, simulateDeviceLoss, webgpuLimits } from './backends';
import { chooseMicroBatch, memoryLimit } from '../model/memory';
import { buildNetwork } from '../model/network';
import { signalOnTestBatch } from '../train/signalBatch';
import { profileStep } from '../train/profile';
import { importWeights } from './importWeights';
import { Run } from './run';
import type { Config } from '../experiment/schema';
import type { PageToWorker, WorkerPort } from './protocol';

const port = self as unknown as WorkerPort;

/** The dataset in memory, keyed by name (and seed for the generated set); the training loop reads it. */
let dataset: { key: string; data: Promise<LoadedDataset> } | null = null;

let run: Run | null = null;
/** WASM ran out of memory in a run: the module aborted, so this worker can compute nothing more. */
let wasmAborted = false;

async function prepareDataset(
  name: LoadedDataset['dataset'],
  where: LoadedDataset['where'],
  seed: number,
): Promise<LoadedDataset | null> {
  const key = `${name}@${where}:${name === 'synthetic' ? seed : ''}`;
  if (dataset?.key !== key) {
    let ms = 0;
    const data = loadDataset(name, where, seed, (d, e) => {
      ms += e.ms;
      const trainLoaded = d.train.reduce((a, s) => a + s.count, 0);
      port.postMessage({
        type: 'dataset-progress',
        load: {
          dataset: name,
          where: d.where,
          trainLoaded,
          trainTotal: d.trainTotal,
          testImages: d.test.count,
          ms,
          done: trainLoaded >= d.trainTotal,
        },
      });
    });
    dataset = { key, data };
  }
  try {
    return await dataset.data;
  } catch (e) {
    dataset = null;
    port.postMessage({ type: 'dataset-failed', dataset: name, message: (e as Error).message });
    return null;
  }
}

/**
 * The backend, the memory plan's limit there and the dataset for work outside a run (signal at initialisation, a
 * profiled step, imported weights), sized as a run would be: micro-batch auto resolved, or the plan's refusal thrown.
 */
async function sizedFor(config: Config, where: LoadedDataset['where']) {
  const backend = await selectBackend(config.backend);
  if (Array.isArray(backend)) throw new Error('no backend could start');
  const limit = memoryLimit(config, backend.active, webgpuLimits() ?? undefined);
  const fits = chooseMicroBatch(config, limit);
  if (!fits.ok) throw new Error(fits.reason);
  const data = await datasetFor(config, where);
  return { backend, limit, config: { ...config, microBatch: fits.microBatch }, data };
}

/** The config's dataset in memory, or an error saying it could not be loaded (the page was told why). */
async function datasetFor(config: Config, where: LoadedDataset['where']): Promise<LoadedDataset> {
  const d = await prepareDataset(config.dataset, where, config.seed);
  if (!d) throw new Error(`the dataset ${config.dataset} could not be loaded`);
  return d;
}

async function handle(msg: PageToWorker): Promise<void> {
  switch (msg.type) {
    case 'start-run': {
      const { config, where } = msg;
      run = new Run(
        msg.runId,
        config,
        (m) => port.postMessage(m),
        () => datasetFor(config, where),
        msg.resume === true,
        () => (wasmAborted = true),
      );
      await run.execute(); // later queued work (a backend switch, another run) waits for this run to end
      run = null;
      if (wasmAborted) port.postMessage({ type: 'engine-aborted' }); // nothing more runs here: the page replaces us
      break;
    }
    case 'prepare-dataset':
      await prepareDataset(msg.dataset, msg.where, msg.seed);
      break;
    case 'signal-at-init':
      try {
        // One pass of the 32 images, or chunks of them, must fit; a network that cannot fit one image is refused.
        const { limit, data } = await sizedFor({ ...msg.config, microBatch: 'auto' }, msg.where);
        const net = buildNetwork(msg.config);
        try {
          port.postMessage({
            type: 'signal-result',
            requestId: msg.requestId,
            profile: await signalOnTestBatch(net, data, msg.config, limit),
          });
        } finally {
          net.dispose();
        }
      } catch (e) {
        port.postMessage({ type: 'signal-failed', requestId: msg.requestId, message: (e as Error).message });
      }
      break;
    case 'profile-step':
      try {
        const { backend, config, data } = await sizedFor(msg.config, msg.where);
        const profile = await profileStep(config, data);
        port.postMessage({ type: 'profile-result', requestId: msg.requestId, backend, profile });
      } catch (e) {
        port.postMessage({ type: 'profile-failed', requestId: msg.requestId, message: (e as Error).message });
      }
      break;
    case 'import-weights':
      try {
        const { config, limit, data } = await sizedFor(msg.config, msg.where);
        const { checkpoint, check } = await importWeights(msg, config, data, limit);
        port.postMessage({ type: 'run-weights', runId: msg.runId, checkpoint, check });
      } catch (e) {
        port.postMessage({ type: 'run-weights-failed', runId: msg.runId, message: (e as Error).message });
      }
      break;
    case 'import-dataset':
      try {
        const result = await importFiles(msg.files, saveDataset, (progress) =>
          port.postMessage({ type: 'import-progress', progress }),
        );
        if (dataset?.key.startsWith(`${result.dataset}@browser`)) dataset = null; // reload the new copy next time
        port.postMessage({ type: 'import-done', result });
      } catch (e) {
        port.postMessage({
          type: 'import-failed',
          message: (e as Error).message,
          code: e instanceof DataError ? e.code : 'other',
        });
      }
      break;
    case 'init-backend': {
      requestWasmThreads(msg.threads);
      const result = await selectBackend(msg.backend);
      port.postMessage(
        Array.isArray(result)
          ? { type: 'backend-failed', requested: msg.backend, attempts: result }
          : { type: 'backend-ready', report: result },
      );
      break;
    }
  }
}

// Messages are handled one at a time: two backend switches must never interleave inside tfjs, and nothing else
// touches tfjs while a run trains. Controls of the running run act at once, between its iterations.
let queue = Promise.resolve();
port.addEventListener('message', (event: MessageEvent<PageToWorker>) => {
  const msg = event.data;
  if (msg.type === 'pause-run') run?.pause();
  else if (msg.type === 'resume-run') run?.resume();
  else if (msg.type === 'stop-run') run?.stop();
  else if (msg.type === 'set-lr') run?.setLr(msg.lr);
  else if (msg.type === 'simulate-device-loss') simulateDeviceLoss();
  else if (msg.type === 'simulate-out-of-memory') run?.simulateOutOfMemory();
  else queue = queue.then(() => handle(msg));
});

port.addEventListener('unhandledrejection', (event) => {
  const reason = (event as PromiseRejectionEvent).reason;
  port.postMessage({ type: 'worker-error', message: reason instanceof Error ? reason.message : String(reason) });
});
