/**
 * Vite plugin: serves the datasets that `npm run data` writes (data/ at the repository root, or
 * $PLAYGROUND_DATA_DIR) under /data/, live, in the dev server and in `vite preview` alike: data/index.json lists
 * what is there at request time, and each dataset's manifest and shards are read from that folder when asked
 * for. Nothing is copied into dist/: a dataset converted after the build is served at once (reload the page), and
 * 180 MB of CIFAR-10 shards are not kept twice on disk.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import type { Plugin } from 'vite';
import { DATASET_INDEX_PATH, type DatasetIndex } from '../src/data/paths.ts';

/** Where datasets live on the server: $PLAYGROUND_DATA_DIR, else data/ under `root`. */
export function dataDir(root = process.cwd()): string {
  return resolve(root, process.env.PLAYGROUND_DATA_DIR || 'data');
}

export function listDatasets(dir: string): DatasetIndex {
  if (!existsSync(dir)) return { datasets: [] };
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'manifest.json')))
    .map((e) => e.name)
    .sort();
  const count = (shards: { records: number }[] = []) => shards.reduce((a, s) => a + s.records, 0);
  return {
    datasets: names.map((name) => {
      const m = JSON.parse(readFileSync(join(dir, name, 'manifest.json'), 'utf8'));
      return { name, trainImages: count(m.splits?.train), testImages: count(m.splits?.test), missing: m.missing ?? [] };
    }),
  };
}

/** A dataset's own files only: /<dataset>/<file>.bin|json, no dot-folders (a conversion in progress), no `..`. */
const FILE = /^\/([a-z0-9][\w-]*)\/([\w-]+\.(?:bin|json))$/i;

/** Answers /data/… (the mount point is already stripped from req.url); anything else goes on to Vite. */
export function datasetMiddleware(dir: string) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    res.setHeader('Cache-Control', 'no-cache');
    if (`data${path}` === DATASET_INDEX_PATH) {
      res.setHeader('Content-Type', 'application/json');
      return res.end(JSON.stringify(listDatasets(dir)));
    }
    const m = FILE.exec(path);
    const file = m ? join(dir, m[1]!, m[2]!) : null;
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      // Not the page's HTML fallback: a missing shard must read as missing.
      res.statusCode = 404;
      return res.end(`no such dataset file: /data${path}`);
    }
    res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    res.setHeader('Content-Length', statSync(file).size);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  };
}

export function datasetServer(dir = dataDir()): Plugin {
  return {
    name: 'dataset-server',
    configResolved(config) {
      // Datasets used to live in public/, which the build copies into dist/.
      if (existsSync(join(config.publicDir, 'data')))
        config.logger.warn(`datasets now live in ${dir}: move public/data there (they would be copied into dist/)`);
    },
    configureServer(server) {
      server.middlewares.use('/data', datasetMiddleware(dir));
    },
    configurePreviewServer(server) {
      server.middlewares.use('/data', datasetMiddleware(dir));
    },
  };
}
