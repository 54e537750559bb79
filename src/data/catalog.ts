/**
 * Which datasets the playground can train on, and where each comes from: the embedded demo set (always), the
 * server's data/index.json (what its data/ folder holds at the moment it is asked, scripts/datasetServer.ts), and the
 * datasets imported into this browser. Safe for the page: no tfjs here.
 */
import { DATASETS, type DatasetId } from '../experiment/schema';
import { listImported } from './browserStore';
import { splitRecords } from './cifar';
import { DATASET_INDEX_PATH } from './paths';
import { SYNTHETIC_SIZES } from './synthetic';

export const DATASET_LABELS: Record<DatasetId, string> = {
  cifar10: 'CIFAR-10',
  cifar100: 'CIFAR-100',
  synthetic: 'Embedded demo set',
};

export interface DatasetEntry {
  dataset: DatasetId;
  trainImages: number;
  testImages: number;
  where: 'embedded' | 'server' | 'browser';
  /** Official files absent from a partial set. */
  missing: string[];
}

const EMBEDDED: DatasetEntry = {
  dataset: 'synthetic',
  trainImages: SYNTHETIC_SIZES.train,
  testImages: SYNTHETIC_SIZES.test,
  where: 'embedded',
  missing: [],
};

const isDataset = (name: unknown): name is DatasetId => DATASETS.includes(name as DatasetId);

/** Entries from the server's index; anything malformed is skipped. */
export function serverEntries(index: unknown): DatasetEntry[] {
  const list = (index as { datasets?: unknown } | null)?.datasets;
  if (!Array.isArray(list)) return [];
  return list
    .filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null && isDataset(d.name))
    .map((d) => ({
      dataset: d.name as DatasetId,
      trainImages: Number(d.trainImages) || 0,
      testImages: Number(d.testImages) || 0,
      where: 'server' as const,
      missing: Array.isArray(d.missing) ? d.missing.map(String) : [],
    }));
}

/** Every source, in the schema's dataset order; a dataset may appear twice (server and browser). */
export function mergeCatalog(server: DatasetEntry[], browser: DatasetEntry[]): DatasetEntry[] {
  const all = [EMBEDDED, ...server, ...browser];
  return DATASETS.flatMap((d) => all.filter((e) => e.dataset === d));
}

/** The copy of a dataset the engine should load: the one with most training images, the server's on a tie. */
export function chooseEntry(entries: DatasetEntry[] | null, dataset: DatasetId): DatasetEntry | null {
  const rank = { embedded: 2, server: 1, browser: 0 };
  const copies = (entries ?? []).filter((e) => e.dataset === dataset);
  copies.sort((a, b) => b.trainImages - a.trainImages || rank[b.where] - rank[a.where]);
  return copies[0] ?? null;
}

export async function fetchCatalog(base = import.meta.env.BASE_URL): Promise<DatasetEntry[]> {
  const server = await fetch(`${base}${DATASET_INDEX_PATH}`, { cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : null))
    .then(serverEntries)
    .catch(() => []);
  const browser = await listImported()
    .then((ms) =>
      ms.map((m) => ({
        dataset: m.dataset,
        trainImages: splitRecords(m, 'train'),
        testImages: splitRecords(m, 'test'),
        where: 'browser' as const,
        missing: m.missing,
      })),
    )
    .catch(() => []);
  return mergeCatalog(server, browser);
}
