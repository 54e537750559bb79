/** Where the server publishes its list of datasets (kept import-free: the Vite config loads it too). */
export const DATASET_INDEX_PATH = 'data/index.json';

export interface DatasetIndex {
  datasets: { name: string }[];
}
