/**
 * npm run experiment -- '<query string or full link>' --out <file.json> [--csv <file.csv>] [--timeout <minutes>]
 *
 * Runs one experiment exactly as a user would: builds the app if the sources changed, serves it, opens the link in
 * headless Chromium (the e2e flags: WebGPU on), presses Start, and follows the run in the page's worker, printing a
 * progress line. Writes the run's JSON (config, backend, adapter, params, status, final/best test error, history,
 * signal profiles)
 * and optionally its history as CSV. Exits non-zero, saying why, when the link has refused keys, the browser cannot
 * start, or the run ends other than "finished" (the JSON is written all the same).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/browser';
import { parseQuery, toQuery } from '../src/experiment/codec';
import type { RunRecord } from '../src/experiment/record';

const USAGE =
  "usage: npm run experiment -- '<query string or link>' --out <file.json> [--csv <file.csv>] [--timeout <minutes>]";

function args() {
  const a = process.argv.slice(2);
  const opt = (name: string) => {
    const i = a.indexOf(name);
    if (i < 0) return undefined;
    const v = a[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value\n${USAGE}`);
    a.splice(i, 2);
    return v;
  };
  const out = opt('--out');
  const csv = opt('--csv');
  const timeout = Number(opt('--timeout') ?? 24 * 60);
  const port = Number(opt('--port') ?? 4320);
  if (a.length !== 1 || !out) throw new Error(USAGE);
  return { link: a[0]!, out, csv, timeoutMs: timeout * 60_000, port };
}

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

function buildIfNeeded(): void {
  const built = existsSync('dist/index.html') ? statSync('dist/index.html').mtimeMs : 0;
  const sources = Math.max(newestMtime('src'), statSync('index.html').mtimeMs, statSync('vite.config.ts').mtimeMs);
  if (built > sources) return;
  process.stderr.write('building the app…\n');
  const r = spawnSync('npx', ['vite', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('the build failed');
}

async function serve(port: number): Promise<() => void> {
  const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort'], { stdio: 'ignore' });
  for (let i = 0; i < 150; i++) {
    if (
      await fetch(`http://localhost:${port}/`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return () => server.kill();
    if (server.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  server.kill();
  throw new Error(`could not serve the app on port ${port} (in use? pass --port)`);
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function progressLine(r: RunRecord): string {
  const t = r.train.at(-1);
  const e = r.evals.at(-1);
  const f = t ? t.iter / r.config.iters : 0;
  const eta = t && t.imagesPerSec > 0 ? ((r.config.iters - t.iter) * r.config.batch) / t.imagesPerSec : null;
  return [
    `[${'#'.repeat(Math.round(f * 24)).padEnd(24)}] ${(f * 100).toFixed(0).padStart(3)}%`,
    `iter ${fmt(t?.iter ?? 0)}/${fmt(r.config.iters)}`,
    `loss ${t ? fmt(t.loss, 4) : '—'}`,
    `test err ${e ? `${fmt(e.testError, 2)}%` : '—'}`,
    `${t ? fmt(t.imagesPerSec, 1) : '—'} img/s`,
    `ETA ${eta === null ? '—' : `${fmt(eta)} s`}`,
    r.status,
  ].join(' · ');
}

function toCsv(r: RunRecord): string {
  const rows = new Map<number, Record<string, number | string>>();
  for (const p of r.train) rows.set(p.iter, { ...p });
  for (const e of r.evals)
    rows.set(e.iter, {
      ...rows.get(e.iter),
      iter: e.iter,
      epoch: e.epoch,
      testError: e.testError,
      testLoss: e.testLoss,
      tensors: e.tensors,
    });
  const cols = ['iter', 'epoch', 'loss', 'lr', 'imagesPerSec', 'elapsedMs', 'testError', 'testLoss', 'tensors'];
  const lines = [...rows.values()]
    .sort((a, b) => Number(a.iter) - Number(b.iter))
    .map((row) => cols.map((c) => row[c] ?? '').join(','));
  return `${cols.join(',')}\n${lines.join('\n')}\n`;
}

async function main() {
  const { link, out, csv, timeoutMs, port } = args();
  const { config, problems, actions } = parseQuery(link);
  if (problems.length) {
    throw new Error(
      `the link has refused keys, nothing was run:\n${problems.map((p) => `  ${p.key}=${p.value}: ${p.reason}`).join('\n')}`,
    );
  }
  buildIfNeeded();
  const stopServer = await serve(port);
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }).catch((e: Error) => {
      throw new Error(`the browser could not start (${CHROMIUM}): ${e.message.split('\n')[0]}`);
    });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // The experiment, and the machine's setting a link may carry (WASM threads).
    await page.goto(`http://localhost:${port}/?${toQuery(config, { threads: actions.threads })}`);
    const start = page.getByRole('button', { name: 'Start', exact: true });
    await start.waitFor();
    await page.waitForFunction(
      () => !document.querySelector('[data-testid=backend]')?.textContent?.includes('starting'),
      null,
      { timeout: 120_000 },
    );
    if (await start.isDisabled())
      throw new Error(`the dataset ${config.dataset} is not available in the page (see npm run data)`);
    await start.click();
    const t0 = Date.now();
    let run: RunRecord | undefined;
    for (;;) {
      run = await page.evaluate(() =>
        (window as unknown as { playground: { getState(): { runs: RunRecord[] } } }).playground.getState().runs.at(-1),
      );
      if (run) process.stderr.write(process.stderr.isTTY ? `\r${progressLine(run)}  ` : `${progressLine(run)}\n`);
      if (run && !['starting', 'running', 'paused'].includes(run.status)) break;
      if (Date.now() - t0 > timeoutMs) {
        await page.getByRole('button', { name: 'Stop', exact: true }).click();
        await page.waitForFunction(
          () =>
            (window as unknown as { playground: { getState(): { runs: RunRecord[] } } }).playground
              .getState()
              .runs.at(-1)?.status === 'stopped',
        );
        run = await page.evaluate(() =>
          (window as unknown as { playground: { getState(): { runs: RunRecord[] } } }).playground
            .getState()
            .runs.at(-1),
        );
        break;
      }
      await new Promise((r) => setTimeout(r, process.stderr.isTTY ? 500 : 5000));
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
    const r = run!;
    const errors = r.evals.map((e) => e.testError);
    const result = {
      link: `/?${toQuery(r.config)}`,
      config: r.config,
      status: r.status,
      message: r.message ?? null,
      backend: r.info?.backend ?? null,
      adapter: r.info?.adapter ?? null,
      threads: r.info?.threads ?? null,
      fallbacks: r.info?.fallbacks ?? [],
      params: r.info?.trainableParams ?? null,
      finalTestError: errors.at(-1) ?? null,
      bestTestError: errors.length ? Math.min(...errors) : null,
      history: { train: r.train, evals: r.evals, lrChanges: r.lrChanges },
      // Per-unit ‖x_l‖ and ‖∂E/∂x_l‖ on the first 32 test images, at the start and at each evaluation.
      signal: r.signals ?? [],
      pageErrors,
    };
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    if (csv) writeFileSync(csv, toCsv(r));
    console.log(
      `${r.status} on ${result.backend ?? '?'}${result.adapter ? ` (${result.adapter})` : ''}: final test error ${result.finalTestError ?? '—'}%, best ${result.bestTestError ?? '—'}% → ${out}`,
    );
    if (r.status !== 'finished') throw new Error(`run ${r.status}${r.message ? `: ${r.message}` : ''}`);
  } finally {
    await browser?.close();
    stopServer();
  }
}

main().catch((e: unknown) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
