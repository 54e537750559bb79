/** Where the server publishes its list of datasets (kept import-free: the Vite config loads it too). */
export const DATASET_INDEX_PATH = 'data/index.json';

/** One dataset the server has, with its image counts (from its manifest). */
export interface ServerDataset {
  name: string;
  trainImages: number;
  testImages: number;
  missing: string[];
}

export interface DatasetIndex {
  datasets: ServerDataset[];
}
