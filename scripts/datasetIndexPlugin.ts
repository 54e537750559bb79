/**
 * Vite plugin: publishes data/index.json, the list of datasets under public/data/ (a folder with a
 * manifest.json each). Emitted into the build, and answered live by the dev server, so the page never asks
 * for a file that is not there.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';
import { DATASET_INDEX_PATH, type DatasetIndex } from '../src/data/paths.ts';

export function listDatasets(dataDir: string): DatasetIndex {
  if (!existsSync(dataDir)) return { datasets: [] };
  const names = readdirSync(dataDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dataDir, e.name, 'manifest.json')))
    .map((e) => e.name)
    .sort();
  const count = (shards: { records: number }[] = []) => shards.reduce((a, s) => a + s.records, 0);
  return {
    datasets: names.map((name) => {
      const m = JSON.parse(readFileSync(join(dataDir, name, 'manifest.json'), 'utf8'));
      return { name, trainImages: count(m.splits?.train), testImages: count(m.splits?.test), missing: m.missing ?? [] };
    }),
  };
}

export function datasetIndexPlugin(publicDir = 'public'): Plugin {
  const dataDir = join(publicDir, 'data');
  return {
    name: 'dataset-index',
    configureServer(server) {
      server.middlewares.use(`/${DATASET_INDEX_PATH}`, (_req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(listDatasets(dataDir)));
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: DATASET_INDEX_PATH, source: JSON.stringify(listDatasets(dataDir)) });
    },
  };
}
