/**
 * Which datasets this server has. `data/index.json` is written at build time (and served live by the dev
 * server) from the folders under public/data/ that hold a manifest; the embedded demo set needs no files.
 * Safe for the page: no tfjs here.
 */
import { DATASETS, type DatasetId } from '../experiment/schema';
import { DATASET_INDEX_PATH, type DatasetIndex } from './paths';

export const DATASET_LABELS: Record<DatasetId, string> = {
  cifar10: 'CIFAR-10',
  cifar100: 'CIFAR-100',
  synthetic: 'the embedded demo set',
};

/** The embedded set is generated in the worker from a seed, so it is always available. */
const ALWAYS_AVAILABLE: readonly DatasetId[] = ['synthetic'];

export function availableFrom(index: unknown): DatasetId[] {
  const names = new Set<string>(ALWAYS_AVAILABLE);
  const list = (index as Partial<DatasetIndex> | null)?.datasets;
  if (Array.isArray(list)) for (const d of list) if (typeof d?.name === 'string') names.add(d.name);
  return DATASETS.filter((d) => names.has(d));
}

export async function fetchAvailableDatasets(base = import.meta.env.BASE_URL): Promise<DatasetId[]> {
  try {
    const res = await fetch(`${base}${DATASET_INDEX_PATH}`, { cache: 'no-store' });
    return availableFrom(res.ok ? await res.json() : null);
  } catch {
    return availableFrom(null);
  }
}
