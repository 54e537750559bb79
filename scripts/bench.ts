/**
 * npm run bench [-- --backends webgpu,wasm --nets 20:32,110:128 --iters 6 --port 4320]
 *
 * Speed of training steps as a user gets them: each (backend, depth:batch) pair runs through `npm run experiment`
 * (built app, headless Chromium, the page's worker) on the embedded demo set with full pre-activation units, and
 * the table reports the time to the first step (shader compilation and first upload included) and the
 * steady-state images/second (from the third iteration on). Figures, not a test: nothing is asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const backends = arg('--backends', 'webgpu,wasm,webgl,cpu').split(',');
const nets = arg('--nets', '20:32,20:128,110:32,110:128')
  .split(',')
  .map((s) => s.split(':').map(Number) as [number, number]);
const iters = Number(arg('--iters', '6'));
// Passed to npm run experiment: a port of your own, when another checkout's server may be on the default one.
const port = arg('--port', '4320');
const dir = mkdtempSync(join(tmpdir(), 'bench-'));

interface Point {
  iter: number;
  elapsedMs: number;
}

const rows: string[][] = [];
for (const [depth, batch] of nets) {
  for (const backend of backends) {
    const query = `dataset=synthetic&unit=full-preact&depth=${depth}&batch=${batch}&iters=${iters}&warmupIters=0&evalEvery=1000000&testSubset=100&backend=${backend}`;
    const out = join(dir, `${backend}-${depth}-${batch}.json`);
    process.stderr.write(`ResNet-${depth}, batch ${batch}, ${backend}…\n`);
    const r = spawnSync('npx', ['tsx', 'scripts/experiment.ts', query, '--out', out, '--port', port], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    let json: {
      status: string;
      backend: string | null;
      adapter: string | null;
      config: { microBatch: number | string };
      history: { train: Point[] };
    } | null = null;
    try {
      json = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      rows.push([`ResNet-${depth}`, String(batch), '—', backend, '—', '—', '—', `no result (exit ${r.status})`]);
      continue;
    }
    const train = json!.history.train;
    const first = train.find((p) => p.iter >= 1);
    const a = train.find((p) => p.iter >= 2);
    const b = train.at(-1);
    const steady = a && b && b.iter > a.iter ? ((b.iter - a.iter) * batch * 1000) / (b.elapsedMs - a.elapsedMs) : null;
    rows.push([
      `ResNet-${depth}`,
      String(batch),
      String(json!.config.microBatch), // auto, resolved by the worker's memory plan
      json!.backend ?? backend,
      first ? `${(first.elapsedMs / 1000).toFixed(1)} s` : '—',
      steady === null ? '—' : steady.toFixed(1),
      steady === null ? '—' : `${((batch / steady) * 1000).toFixed(0)} ms`,
      json!.status + (json!.backend && json!.backend !== backend ? ` (asked ${backend})` : ''),
    ]);
  }
}
const head = ['network', 'batch', 'micro', 'backend', 'first step', 'images/s', 'per step', 'status'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
