/**
 * Test set-up shared by the training tests (tests only): the WASM backend, because tfjs's CPU backend takes about
 * a second per 32×32 conv gradient in Node (WASM's conv gradients are src/kernels/wasm/conv.ts), and the
 * embedded set, loaded once per file.
 */
import * as tf from '@tensorflow/tfjs';
import '../kernels/wasm'; // the WASM backend with our kernels, as the worker runs it
import { afterAll, beforeAll } from 'vitest';
import { loadDataset, type LoadedDataset } from '../data/source';
import type { Config } from '../experiment/schema';

/** The config as the worker hands it to a Trainer: microBatch=auto resolved, here to the whole batch. */
export function resolved(config: Config): Config {
  return { ...config, microBatch: config.microBatch === 'auto' ? config.batch : config.microBatch };
}

/** Registers the hooks; the returned function gives the loaded set inside tests. */
export function onWasmWithEmbeddedSet(): () => LoadedDataset {
  let data: LoadedDataset | undefined;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    data = await loadDataset('synthetic', 'embedded', 1);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
  return () => {
    if (!data) throw new Error('the embedded set is loaded in beforeAll');
    return data;
  };
}
