/**
 * npm run bench [-- --backends webgpu,wasm --nets 20:32,110:128 --iters 6 --threads N --port 4320 --profile --torch]
 *
 * Speed of training steps as a user gets them: each (backend, depth:batch) pair runs through `npm run experiment`
 * (built app, headless Chromium, the page's worker) on the embedded demo set with full pre-activation units, and
 * the table reports the time to the first step (shader compilation and first upload included) and the
 * steady-state images/second (from the third iteration on). Figures, not a test: nothing is asserted.
 *
 *   --threads N  WASM threads (the link action threads=N; default one per core)
 *   --profile    also where one training step's time goes, per tfjs kernel (tf.profile in the page's worker)
 *   --torch      also the same networks (plan, batch) in PyTorch on the CPU at WASM's thread count, with the ratio
 *                browser/native per row (needs python3 with torch, and the python/ package)
 *   --port       the port the app is served on (default 4320)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { backendAnswered, CHROMIUM, CHROMIUM_ARGS } from '../e2e/browser';
import { serveBuilt } from './serve';
import { table } from './table';
import { findTorchPython, noTorch } from './torchCommand';
import { parseQuery } from '../src/experiment/codec';
import type { StepProfile } from '../src/train/profile';
import type { BackendReport, WorkerToPage } from '../src/worker/protocol';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const flag = (name: string) => process.argv.includes(name);
const backends = arg('--backends', 'webgpu,wasm,webgl,cpu').split(',');
const nets = arg('--nets', '20:32,20:128,110:32,110:128')
  .split(',')
  .map((s) => s.split(':').map(Number) as [number, number]);
const iters = Number(arg('--iters', '6'));
const threads = Number(arg('--threads', '0'));
const port = Number(arg('--port', '4320'));
const dir = mkdtempSync(join(tmpdir(), 'bench-'));

/** The benchmark's experiment: full pre-activation units on the embedded set, no warm-up, no evaluation until the end. */
const queryOf = (depth: number, batch: number, backend: string) =>
  `dataset=synthetic&unit=full-preact&depth=${depth}&batch=${batch}&iters=${iters}&warmupIters=0&evalEvery=1000000&testSubset=100&backend=${backend}`;
const withThreads = (query: string) => (threads > 0 ? `${query}&threads=${threads}` : query);

const fmt = (n: number | null | undefined, digits = 1) => (n == null ? '—' : n.toFixed(digits));

interface Point {
  iter: number;
  elapsedMs: number;
}

interface BrowserRow {
  depth: number;
  batch: number;
  backend: string;
  firstStepS: number | null;
  imagesPerSec: number | null;
  threads: number | null;
  /** The micro-batch the run used: auto, resolved by the worker's memory plan. */
  microBatch: number | null;
  status: string;
}

function runInBrowser(depth: number, batch: number, backend: string): BrowserRow {
  const out = join(dir, `${backend}-${depth}-${batch}.json`);
  process.stderr.write(`ResNet-${depth}, batch ${batch}, ${backend}…\n`);
  const r = spawnSync(
    'npx',
    ['tsx', 'scripts/experiment.ts', withThreads(queryOf(depth, batch, backend)), '--out', out, '--port', String(port)],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const row: BrowserRow = {
    depth,
    batch,
    backend,
    firstStepS: null,
    imagesPerSec: null,
    threads: null,
    microBatch: null,
    status: '',
  };
  if (!existsSync(out)) return { ...row, status: `no result (exit ${r.status})` };
  const json = JSON.parse(readFileSync(out, 'utf8')) as {
    status: string;
    message: string | null;
    backend: string | null;
    threads?: number | null;
    config: { microBatch: number | string };
    history: { train: Point[] };
  };
  const train = json.history.train;
  const first = train.find((p) => p.iter >= 1);
  const a = train.find((p) => p.iter >= 2);
  const b = train.at(-1);
  const steady = a && b && b.iter > a.iter ? ((b.iter - a.iter) * batch * 1000) / (b.elapsedMs - a.elapsedMs) : null;
  return {
    ...row,
    backend: json.backend ?? backend,
    firstStepS: first ? first.elapsedMs / 1000 : null,
    imagesPerSec: steady,
    threads: json.threads ?? null,
    microBatch: typeof json.config.microBatch === 'number' ? json.config.microBatch : null,
    status:
      json.status +
      (json.backend && json.backend !== backend ? ` (asked ${backend})` : '') +
      (json.status === 'finished' ? '' : `: ${json.message ?? ''}`),
  };
}

/**
 * PyTorch's images/s for the same experiment on the CPU at `cpuThreads` threads, or why there is none. The network
 * comes from the plan, as the page's does: the python/ package's own benchmark builds and trains it
 * (`python3 -m identity_mappings.bench`), so this side never restates the model.
 */
function torchImagesPerSec(query: string, cpuThreads: number): { imagesPerSec: number } | { error: string } {
  if (!existsSync('python/identity_mappings/bench.py'))
    return { error: 'the python/ package (identity_mappings) is not in this checkout' };
  const python = findTorchPython();
  if (!python) return { error: noTorch() };
  const r = spawnSync(
    python,
    [
      '-m',
      'identity_mappings.bench',
      '--link',
      query,
      '--iters',
      String(iters),
      '--threads',
      String(cpuThreads),
      '--device',
      'cpu',
    ],
    { encoding: 'utf8', env: { ...process.env, PYTHONPATH: 'python' } },
  );
  if (r.error) return { error: `${python} could not run (${r.error.message})` };
  if (r.status !== 0) return { error: (r.stderr.trim().split('\n').at(-1) ?? '') || `exit ${r.status}` };
  return { imagesPerSec: (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { imagesPerSec: number }).imagesPerSec };
}

/** One training step of each net, profiled in the page's worker (profile-step), on the given backend. */
async function profiles(jobs: { depth: number; batch: number; backend: string }[]): Promise<string[]> {
  const lines: string[] = [];
  const server = await serveBuilt(port);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    for (const job of jobs) {
      process.stderr.write(`profiling ResNet-${job.depth}, batch ${job.batch}, ${job.backend}…\n`);
      const query = withThreads(queryOf(job.depth, job.batch, job.backend));
      const page = await browser.newPage();
      await page.goto(`${server.url}/?${query}`);
      await backendAnswered(page, 300_000);
      const reply = await page.evaluate(
        ([config]) =>
          new Promise<WorkerToPage>((resolve) => {
            const { engine } = (
              window as unknown as {
                playground: {
                  getState(): {
                    engine: {
                      send(m: unknown): void;
                      onMessage(l: (m: WorkerToPage) => void): () => void;
                    };
                  };
                };
              }
            ).playground.getState();
            const off = engine.onMessage((m) => {
              if ((m.type === 'profile-result' || m.type === 'profile-failed') && m.requestId === 'bench') {
                off();
                resolve(m);
              }
            });
            engine.send({ type: 'profile-step', requestId: 'bench', config, where: 'embedded' });
          }),
        [parseQuery(query).config] as const,
      );
      await page.close();
      lines.push('', `ResNet-${job.depth}, batch ${job.batch}, asked ${job.backend}:`);
      if (reply.type === 'profile-result') lines.push(...profileLines(reply.backend, reply.profile));
      else lines.push(`  no profile: ${reply.type === 'profile-failed' ? reply.message : reply.type}`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return lines;
}

function profileLines(backend: BackendReport, p: StepProfile, top = 12): string[] {
  const lines: string[] = [];
  const on = [
    backend.active,
    backend.adapter,
    backend.threads && `${backend.threads.count} thread${backend.threads.count === 1 ? '' : 's'}`,
  ];
  lines.push(
    `  on ${on.filter(Boolean).join(', ')}: step ${fmt(p.stepMs, 0)} ms (first ${fmt(p.firstStepMs, 0)} ms, ` +
      `profiled ${fmt(p.profiledStepMs, 0)} ms), kernels ${fmt(p.kernelMs, 0)} ms, peak ${fmt(p.peakBytes / 2 ** 20, 0)} MiB` +
      (p.newTensors ? `, ${p.newTensors} tensors left over` : ''),
  );
  if (p.note) lines.push(`  ${p.note}`);
  const total = p.kernelMs;
  const rows = p.kernels.slice(0, top).map((k) => {
    const share = total && k.ms !== null ? `${((100 * k.ms) / total).toFixed(1)}%` : '—';
    return [`  ${k.name}`, String(k.calls), k.ms === null ? '—' : `${k.ms.toFixed(1)} ms`, share];
  });
  const rest = p.kernels.slice(top);
  if (rest.length && total) {
    const ms = rest.reduce((a, k) => a + (k.ms ?? 0), 0);
    const calls = rest.reduce((a, k) => a + k.calls, 0);
    rows.push([
      `  (${rest.length} others)`,
      String(calls),
      `${ms.toFixed(1)} ms`,
      `${((100 * ms) / total).toFixed(1)}%`,
    ]);
  }
  return [...lines, ...table(['  kernel', 'calls', 'time', 'share'], rows)];
}

// Profiles first: their server is this process's, closed before the runs serve the app on the same port.
const jobs = nets.flatMap(([depth, batch]) => backends.map((backend) => ({ depth, batch, backend })));
const profileOutput = flag('--profile') ? await profiles(jobs) : [];
const results = nets.flatMap(([depth, batch]) => backends.map((backend) => runInBrowser(depth, batch, backend)));
const head = ['network', 'batch', 'micro', 'backend', 'threads', 'first step', 'images/s', 'per step'];
const rows = results.map((r) => [
  `ResNet-${r.depth}`,
  String(r.batch),
  r.microBatch === null ? '—' : String(r.microBatch),
  r.backend,
  r.threads === null ? '—' : String(r.threads),
  r.firstStepS === null ? '—' : `${r.firstStepS.toFixed(1)} s`,
  fmt(r.imagesPerSec),
  r.imagesPerSec === null ? '—' : `${((r.batch / r.imagesPerSec) * 1000).toFixed(0)} ms`,
]);
if (flag('--torch')) {
  head.push('PyTorch CPU images/s', 'browser/native');
  const measured = new Map<string, ReturnType<typeof torchImagesPerSec>>();
  results.forEach((r, i) => {
    const cpuThreads = r.threads ?? 1;
    // The same micro-batch as the browser's run, so both sides do the same work per step.
    const micro = r.microBatch ?? r.batch;
    const key = `${r.depth}:${r.batch}:${micro}:${cpuThreads}`;
    if (!measured.has(key)) {
      process.stderr.write(`PyTorch: ResNet-${r.depth}, batch ${r.batch}, ${cpuThreads} thread(s)…\n`);
      measured.set(key, torchImagesPerSec(`${queryOf(r.depth, r.batch, 'cpu')}&microBatch=${micro}`, cpuThreads));
    }
    const t = measured.get(key)!;
    if ('error' in t) {
      rows[i]!.push(`— (${t.error})`, '—');
      return;
    }
    rows[i]!.push(`${fmt(t.imagesPerSec)} (${cpuThreads} thr.)`);
    rows[i]!.push(r.imagesPerSec === null ? '—' : `${((100 * r.imagesPerSec) / t.imagesPerSec).toFixed(0)}%`);
  });
}
head.push('status');
results.forEach((r, i) => rows[i]!.push(r.status));
console.log([...table(head, rows), ...profileOutput].join('\n'));
