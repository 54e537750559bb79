/**
 * npm run bench:data [-- --from <folder>] [--port <port>] — how loading CIFAR shards into the engine worker
 * weighs on the page.
 *
 * Serves the production build, imports ../shared/data/cifar10's .bin files (or --from <folder>) through the page's
 * file input in headless Chromium, then reloads and lets the worker load the stored shards again. For each phase it
 * prints the wall time, the worker's own time for the shards, and the main thread's long tasks (over 50 ms) from
 * the Long Tasks API: the page stays responsive when that stays small.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/browser';
import { exitWhenDone, serveBuilt } from './serve';
import { table } from './table';

const fromArg = process.argv.indexOf('--from');
const folder = resolve(fromArg > 0 ? process.argv[fromArg + 1]! : '../shared/data/cifar10');
const files = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
  'test_batch.bin',
]
  .map((f) => join(folder, f))
  .filter(existsSync);
if (!files.some((f) => f.endsWith('test_batch.bin'))) {
  console.error(`error: no CIFAR-10 .bin files in ${folder} (give --from <folder>)`);
  process.exit(1);
}
const portArg = process.argv.indexOf('--port');
const PORT = Number(portArg > 0 ? process.argv[portArg + 1] : 4319);

async function main() {
  const server = await serveBuilt(PORT);
  try {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    await page.route('**/data/index.json', (route) => route.fulfill({ json: { datasets: [] } }));
    await page.addInitScript(() => {
      const w = window as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(e.duration))).observe({
        type: 'longtask',
        buffered: true,
      });
    });
    const rows: string[][] = [];
    const phase = async (name: string, act: () => Promise<void>) => {
      await page.evaluate(() => ((window as unknown as { longTasks: number[] }).longTasks = []));
      const t0 = Date.now();
      await act();
      await page.getByTestId('engine-dataset').filter({ hasText: 'CIFAR-10 loaded' }).waitFor({ timeout: 300_000 });
      const wall = Date.now() - t0;
      const text = (await page.getByTestId('engine-dataset').textContent()) ?? '';
      const tasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
      const worker = /\(([\d.]+) s in the worker\)/.exec(text)?.[1] ?? '?';
      rows.push([
        name,
        `${(wall / 1000).toFixed(2)} s`,
        `${worker} s`,
        `${tasks.length}`,
        `${tasks.reduce((a, b) => a + b, 0).toFixed(0)} ms`,
        `${Math.max(0, ...tasks).toFixed(0)} ms`,
      ]);
    };
    await page.goto(`http://localhost:${PORT}/?dataset=cifar10`);
    await page.getByTestId('dataset-missing').waitFor();
    await phase(`import ${files.length} files`, () => page.getByTestId('import-input').first().setInputFiles(files));
    await phase('reload: load stored shards', async () => {
      await page.reload();
    });
    await browser.close();
    const head = ['phase', 'wall', 'worker (shards)', 'long tasks', 'main thread blocked', 'longest'];
    console.log(table(head, rows).join('\n'));
  } finally {
    await server.close();
  }
}

exitWhenDone(main());
