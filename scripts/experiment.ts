/**
 * npm run experiment -- '<query string or full link>' --out <file.json> [--csv <file.csv>] [--timeout <minutes>]
 *   [--port <port>]
 *
 * Runs one experiment exactly as a user would: builds the app if the sources changed, serves it (in this process,
 * on --port, default 4320: a port something else answers on is refused), opens the link in headless Chromium (the
 * e2e flags: WebGPU on), presses Start, and follows the run in the page's worker, printing a progress line. Writes
 * the run's JSON (config with microBatch as resolved, backend, adapter, params, memory plan, status, final/best test
 * error, history, signal profiles), which
 * the page's Import JSON reads back, and optionally its history as CSV. Exits non-zero, saying why, when the link
 * has refused keys, the browser cannot start, or the run ends other than "finished" (the JSON is written all the
 * same; after Ctrl-C or a kill, with status "interrupted"). The browser and the server end with it on every path.
 */
import { writeFileSync } from 'node:fs';
import { chromium, type Browser } from '@playwright/test';
import { backendAnswered, CHROMIUM, CHROMIUM_ARGS } from '../e2e/browser';
import { parseQuery, toQuery } from '../src/experiment/codec';
import type { RunRecord } from '../src/experiment/record';
import { bytesToBase64, encodeNonFinite } from '../src/persist/exchange';
import { serveBuilt, type Served } from './serve';

const USAGE =
  "usage: npm run experiment -- '<query string or link>' --out <file.json> [--csv <file.csv>] [--timeout <minutes>] [--port <port>]";

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
      tensors: e.tensors ?? '',
    });
  const cols = ['iter', 'epoch', 'loss', 'lr', 'imagesPerSec', 'elapsedMs', 'testError', 'testLoss', 'tensors'];
  const lines = [...rows.values()]
    .sort((a, b) => Number(a.iter) - Number(b.iter))
    .map((row) => cols.map((c) => row[c] ?? '').join(','));
  return `${cols.join(',')}\n${lines.join('\n')}\n`;
}

/** The error view's gallery as it crosses from the page: its pixels as plain numbers. */
type GalleryNumbers = Omit<NonNullable<RunRecord['gallery']>, 'pixels'> & { pixels: number[] };

/** The run as the JSON output holds it. */
function resultOf(r: RunRecord, pageErrors: string[], gallery: GalleryNumbers | null) {
  const errors = r.evals.map((e) => e.testError);
  return {
    id: r.id,
    link: `/?${toQuery(r.config)}`,
    config: r.config,
    status: r.status,
    message: r.message ?? null,
    backend: r.info?.backend ?? null,
    adapter: r.info?.adapter ?? null,
    threads: r.info?.threads ?? null,
    fallbacks: r.info?.fallbacks ?? [],
    params: r.info?.trainableParams ?? null,
    // How the micro-batch in `config` was chosen, and the step's planned bytes (src/model/memory.ts).
    memory: r.info?.memory ?? null,
    startedAt: r.startedAt,
    trainImages: r.info?.trainImages ?? null,
    testImages: r.info?.testImages ?? null,
    finalTestError: errors.at(-1) ?? null,
    bestTestError: errors.length ? Math.min(...errors) : null,
    // errors: what the network got wrong at each evaluation (confusion matrix, the gallery's predictions).
    history: { train: r.train, evals: r.evals, lrChanges: r.lrChanges, errors: r.errors ?? [] },
    ...(gallery && { gallery: { ...gallery, pixels: bytesToBase64(Uint8Array.from(gallery.pixels)) } }),
    // Per-unit ‖x_l‖ and ‖∂E/∂x_l‖ on the first 32 test images, at the start and at each evaluation.
    signal: r.signals ?? [],
    pageErrors,
  };
}

type Opts = ReturnType<typeof args>;

/** What has to end with the runner, whichever way it ends: the browser, then the server. */
let browser: Browser | null = null;
let served: Served | null = null;
let closing: Promise<void> | null = null;
function closeAll(): Promise<void> {
  closing ??= (async () => {
    const cap = <T>(p: Promise<T>) => Promise.race([p, new Promise((r) => setTimeout(r, 10_000))]);
    await cap(browser?.close() ?? Promise.resolve()).catch(() => undefined);
    await cap(served?.close() ?? Promise.resolve()).catch(() => undefined);
  })();
  return closing;
}

/** The latest state of the run, so an interrupted runner still writes what it had. */
let latest: { run: RunRecord; pageErrors: string[]; opts: Opts; gallery: GalleryNumbers | null } | null = null;

async function main(opts: Opts) {
  const { link, out, csv, timeoutMs, port } = opts;
  const { config, problems, actions } = parseQuery(link);
  if (problems.length) {
    throw new Error(
      `the link has refused keys, nothing was run:\n${problems.map((p) => `  ${p.key}=${p.value}: ${p.reason}`).join('\n')}`,
    );
  }
  served = await serveBuilt(port);
  // The runner ends the browser itself (closeAll), after writing what it has, on a signal too.
  browser = await chromium
    .launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    })
    .catch((e: Error) => {
      throw new Error(`the browser could not start (${CHROMIUM}): ${e.message.split('\n')[0]}`);
    });
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The experiment, and the machine's setting a link may carry (WASM threads).
  await page.goto(`${served.url}/?${toQuery(config, { threads: actions.threads })}`);
  const start = page.getByRole('button', { name: 'Start', exact: true });
  await start.waitFor();
  await backendAnswered(page);
  if (await start.isDisabled())
    throw new Error(`the dataset ${config.dataset} is not available in the page (see npm run data)`);
  await start.click();
  const t0 = Date.now();
  // The gallery's pixels (256 test images, 786 KB) cross once, after the first evaluation, not at every poll.
  const lastRun = () =>
    page.evaluate(() => {
      const r = (window as unknown as { playground: { getState(): { runs: RunRecord[] } } }).playground
        .getState()
        .runs.at(-1);
      return r && { ...r, gallery: undefined };
    });
  const galleryOf = () =>
    page.evaluate(() => {
      const g = (window as unknown as { playground: { getState(): { runs: RunRecord[] } } }).playground
        .getState()
        .runs.at(-1)?.gallery;
      return g ? { ...g, pixels: Array.from(g.pixels) } : null;
    });
  let run: RunRecord | undefined;
  let gallery: GalleryNumbers | null = null;
  for (;;) {
    run = await lastRun();
    if (run?.errors?.length && !gallery) gallery = await galleryOf();
    if (run) {
      latest = { run, pageErrors, opts, gallery };
      process.stderr.write(process.stderr.isTTY ? `\r${progressLine(run)}  ` : `${progressLine(run)}\n`);
    }
    if (run && !['starting', 'running', 'paused'].includes(run.status)) break;
    if (Date.now() - t0 > timeoutMs) {
      process.stderr.write(`\nthe --timeout of ${timeoutMs / 60_000} minutes has passed: stopping the run\n`);
      await page.getByRole('button', { name: 'Stop', exact: true }).click();
      await page.waitForFunction(
        () =>
          (window as unknown as { playground: { getState(): { runs: RunRecord[] } } }).playground.getState().runs.at(-1)
            ?.status === 'stopped',
      );
      run = await lastRun();
      break;
    }
    await new Promise((r) => setTimeout(r, process.stderr.isTTY ? 500 : 5000));
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  const r = run!;
  latest = null;
  gallery ??= await galleryOf();
  const result = resultOf(r, pageErrors, gallery);
  // Non-finite losses as the strings the page's import reads (JSON has no Infinity or NaN).
  writeFileSync(out, `${JSON.stringify(result, encodeNonFinite, 2)}\n`);
  if (csv) writeFileSync(csv, toCsv(r));
  console.log(
    `${r.status} on ${result.backend ?? '?'}${result.adapter ? ` (${result.adapter})` : ''}: final test error ${result.finalTestError ?? '—'}%, best ${result.bestTestError ?? '—'}% → ${out}`,
  );
  if (r.status !== 'finished') throw new Error(`run ${r.status}${r.message ? `: ${r.message}` : ''}`);
}

/** Ends the process after the browser and the server have ended; the first way out wins. */
let exiting = false;
async function exit(code: number, message?: string): Promise<void> {
  if (exiting) return;
  exiting = true;
  if (message) console.error(message);
  await closeAll();
  process.exit(code);
}

// Ctrl-C (SIGINT), a kill (SIGTERM) or a closed terminal (SIGHUP): write what the run has so far, marked
// `interrupted`, then close the browser and the server before exiting.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.on(signal, () => {
    if (exiting) return;
    let note = '';
    if (latest) {
      const { run, pageErrors, opts, gallery } = latest;
      const iter = run.train.at(-1)?.iter ?? 0;
      const message = `the runner was interrupted (${signal}) at iteration ${iter}`;
      writeFileSync(
        opts.out,
        `${JSON.stringify({ ...resultOf(run, pageErrors, gallery), status: 'interrupted', message }, encodeNonFinite, 2)}\n`,
      );
      if (opts.csv) writeFileSync(opts.csv, toCsv(run));
      note = `; the run so far is in ${opts.out}`;
    }
    void exit(code, `\ninterrupted (${signal}): the browser and the server are closed${note}`);
  });
}

let opts: Opts;
try {
  opts = args();
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
}
main(opts).then(
  () => exit(0),
  (e: unknown) => exit(1, `error: ${(e as Error).message}`),
);
