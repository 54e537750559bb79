/**
 * The batch the signal-propagation view measures on: the first 32 test images, the same for every run and every
 * iteration, so curves differ only by the network (and its training), never by the data. A network too large
 * for one pass over all of them on its backend is measured in chunks (BN per chunk, as its training's
 * micro-batches).
 */
import * as tf from '@tensorflow/tfjs';
import { gatherBatch, rangeIndices, toNormalizedImages } from '../data/pipeline';
import type { LoadedDataset } from '../data/source';
import type { Network } from '../model/network';
import type { Config } from '../experiment/schema';
import { signalChunk, type MemoryLimit } from '../model/memory';
import { signalProfile, type SignalProfile } from '../model/signal';

export const SIGNAL_BATCH = 32;

/** `limit`: the backend's memory, when the network may be too large for one pass over all 32 (src/model/memory.ts). */
export async function signalOnTestBatch(
  net: Network,
  data: LoadedDataset,
  config?: Config,
  limit?: MemoryLimit,
): Promise<SignalProfile> {
  const n = Math.min(SIGNAL_BATCH, data.test.count);
  const chunk = config && limit ? signalChunk(config, n, limit) : n;
  const { pixels, labels } = gatherBatch(data.test, rangeIndices(0, n));
  const images = toNormalizedImages(pixels, n, data.normalization);
  try {
    return await signalProfile(net, images, labels, chunk);
  } finally {
    images.dispose();
  }
}
