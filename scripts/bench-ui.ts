/**
 * npm run bench:ui [-- --webgpu] [--tabs] [--port <port>]
 *
 * How free the page's main thread stays, as figures (the e2e tests assert behaviour, never time): serves the
 * production build (built first if stale), drives headless Chromium, and reports the main thread's long tasks
 * (over 50 ms, Long Tasks API) for each scene: how many, the worst, and the time they blocked in all.
 *
 *   - a WASM run (ResNet-8, batch 8, 200 iterations) with the chart, progress and run list live: the run's first
 *     draw (from Start until its curves are drawn: the chart code runs for the first time) and the rest of the run;
 *   - three 64,000-iteration histories put into the page (drawn, saved whole), then 40 points streaming into one;
 *   - --webgpu: a tiny run on WebGPU, which without a GPU is SwiftShader, in software on the same CPU cores;
 *   - --tabs: training speed of one WASM run alone, then of two runs in two tabs of one browser at once.
 */
import { chromium, type Page } from '@playwright/test';
import { backendAnswered, CHROMIUM, CHROMIUM_ARGS } from '../e2e/browser';
import { loadLongHistories, streamPoints } from '../e2e/history64k';
import { exitWhenDone, serveBuilt } from './serve';
import { table } from './table';

const flag = (name: string) => process.argv.includes(name);
const portArg = process.argv.indexOf('--port');
const PORT = Number(portArg > 0 ? process.argv[portArg + 1] : 4322);

interface Task {
  start: number;
  duration: number;
}

/** Records every main-thread task over 50 ms from the page's first script on. */
async function observeLongTasks(page: Page) {
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: { start: number; duration: number }[] };
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
}
const now = (page: Page) => page.evaluate(() => performance.now());

type Status = { status: string; train: { iter: number; elapsedMs: number }[] };
const lastRun = (page: Page) =>
  page.evaluate(() =>
    (window as unknown as { playground: { getState(): { runs: Status[] } } }).playground.getState().runs.at(-1),
  );
const until = async (page: Page, status: string, timeout = 600_000) =>
  page.waitForFunction(
    (s) =>
      (window as unknown as { playground: { getState(): { runs: { status: string }[] } } }).playground
        .getState()
        .runs.at(-1)?.status === s,
    status,
    { timeout, polling: 250 },
  );

const rows: string[][] = [];
/** One table row: the long tasks that started between two moments of the page's clock. */
async function report(page: Page, scene: string, from: number, to: number) {
  const tasks = (await page.evaluate(() => (window as unknown as { longTasks: Task[] }).longTasks)).filter(
    (t) => t.start >= from && t.start <= to,
  );
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  rows.push([
    scene,
    `${((to - from) / 1000).toFixed(1)} s`,
    String(tasks.length),
    ms(Math.max(0, ...tasks.map((t) => t.duration))),
    ms(tasks.reduce((a, t) => a + t.duration, 0)),
  ]);
}

async function wasmRun(page: Page) {
  await observeLongTasks(page);
  await page.goto(
    '/?dataset=synthetic&depth=8&batch=8&iters=200&evalEvery=50&testSubset=64&warmupIters=0&backend=wasm',
  );
  await page.getByTestId('backend').filter({ hasText: /^wasm/ }).waitFor({ timeout: 120_000 });
  const clicked = await now(page);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await page.waitForFunction(
    () => (document.querySelector('[data-testid=runs-chart] .recharts-line path')?.getAttribute('d') ?? '').length > 10,
    null,
    { timeout: 120_000, polling: 'raf' },
  );
  const drawn = await now(page);
  await until(page, 'finished');
  const end = await now(page);
  await report(page, 'WASM run: first draw (Start → curves)', clicked, drawn);
  await report(page, 'WASM run: training after the first draw', drawn, end);
}

async function longHistories(page: Page) {
  await observeLongTasks(page);
  await page.goto('/?depth=110');
  await backendAnswered(page);
  const from = await now(page);
  await loadLongHistories(page);
  await page.getByTestId('runs-chart').locator('.recharts-line').nth(5).waitFor();
  await page.getByLabel('Log scale for the loss').check();
  await page.getByLabel('Smoothing').fill('0.6');
  await page.waitForTimeout(2000); // drawn, and saved whole once
  const loaded = await now(page);
  await streamPoints(page, 40);
  await page.waitForTimeout(1200); // the trailing redraw and the last batched save
  await report(page, '3 × 64k histories: put in, drawn, saved', from, loaded);
  await report(page, '3 × 64k histories: 40 points streaming in', loaded, await now(page));
}

async function webgpuRun(page: Page) {
  await observeLongTasks(page);
  await page.goto('/?dataset=synthetic&depth=8&batch=4&iters=6&evalEvery=3&testSubset=32&warmupIters=0');
  await backendAnswered(page);
  const from = await now(page);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await until(page, 'finished');
  await report(page, 'software WebGPU (SwiftShader): tiny run', from, await now(page));
}

/** Images/s of the page's latest run from its third training point on (the first steps warm up). */
async function speed(page: Page, batch: number): Promise<number> {
  const train = (await lastRun(page))!.train;
  const a = train[2]!;
  const b = train.at(-1)!;
  return ((b.iter - a.iter) * batch * 1000) / (b.elapsedMs - a.elapsedMs);
}

/** One WASM run alone, then two at once in two tabs of one browser (one context: the same storage and locks). */
async function twoTabs(newPage: () => Promise<Page>): Promise<string> {
  const batch = 32;
  const link = (seed: number) =>
    `/?dataset=synthetic&depth=20&batch=${batch}&iters=40&evalEvery=1000&testSubset=64&warmupIters=0&backend=wasm&seed=${seed}`;
  const open = async (seed: number) => {
    const page = await newPage();
    await page.goto(link(seed));
    await page.getByTestId('backend').filter({ hasText: /^wasm/ }).waitFor({ timeout: 120_000 });
    return page;
  };
  const start = (page: Page) => page.getByRole('button', { name: 'Start', exact: true }).click();
  const alone = await open(1);
  await start(alone);
  await until(alone, 'finished');
  const one = await speed(alone, batch);
  const second = await open(2);
  await Promise.all([start(alone), start(second)]);
  await Promise.all([until(alone, 'finished'), until(second, 'finished')]);
  const [a, b] = [await speed(alone, batch), await speed(second, batch)];
  return (
    `two tabs training at once (WASM, ResNet-20, batch ${batch}, 40 iterations each): one tab alone ` +
    `${one.toFixed(1)} images/s; two tabs together ${a.toFixed(1)} + ${b.toFixed(1)} images/s ` +
    `(each at ${((100 * (a + b)) / 2 / one).toFixed(0)}% of the speed alone)`
  );
}

async function main() {
  const server = await serveBuilt(PORT);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    // Each scene in a fresh context: its own empty storage, so no scene draws another's runs.
    const fresh = () => browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
    const scene = async (run: (page: Page) => Promise<void>) => {
      const context = await fresh();
      await run(await context.newPage());
      await context.close();
    };
    await scene(wasmRun);
    await scene(longHistories);
    if (flag('--webgpu')) await scene(webgpuRun);
    let tabs: string | null = null;
    if (flag('--tabs')) {
      const context = await fresh();
      tabs = await twoTabs(() => context.newPage());
      await context.close();
    }
    const head = ['scene', 'window', 'long tasks', 'worst', 'blocked'];
    console.log(table(head, rows).join('\n'));
    if (tabs) console.log(`\n${tabs}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

exitWhenDone(main());
