/**
 * The batch the signal-propagation view measures on: the first 32 test images, the same for every run and every
 * iteration, so curves differ only by the network (and its training), never by the data.
 */
import * as tf from '@tensorflow/tfjs';
import { gatherBatch, rangeIndices, toNormalizedImages } from '../data/pipeline';
import type { LoadedDataset } from '../data/source';
import type { Network } from '../model/network';
import { signalProfile, type SignalProfile } from '../model/signal';

export const SIGNAL_BATCH = 32;

export async function signalOnTestBatch(net: Network, data: LoadedDataset): Promise<SignalProfile> {
  const n = Math.min(SIGNAL_BATCH, data.test.count);
  const { pixels, labels } = gatherBatch(data.test, rangeIndices(0, n));
  const images = toNormalizedImages(pixels, n, data.normalization);
  try {
    return await signalProfile(net, images, labels);
  } finally {
    images.dispose();
  }
}
