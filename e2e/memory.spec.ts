import { backendSettled, expect, SCREENSHOTS, sendToEngine, startAndTrainOne, test } from './fixtures';

type Run = { status: string; message?: string; config: { microBatch: unknown }; train: unknown[]; evals: unknown[] };

async function lastRun(page: import('@playwright/test').Page): Promise<Run | undefined> {
  return page.evaluate(() =>
    (window as unknown as { playground: { getState(): { runs: Run[] } } }).playground.getState().runs.at(-1),
  );
}

test('a network that cannot fit is refused before anything trains, with the numbers and what to change', async ({
  page,
}) => {
  await page.goto('/?dataset=synthetic&depth=1001&block=bottleneck&microBatch=64&backend=wasm');
  await expect(await backendSettled(page)).toHaveText(/^wasm/);
  // The network summary says so before Start is pressed…
  const refusal = page.getByTestId('memory-refusal');
  await expect(refusal).toContainText(
    /Cannot train on WASM: ResNet-1001 \(bottleneck\): micro-batches of 64 images need [\d.]+ GiB \([\d.]+ GiB of activations\); WASM allows 3\.6 GiB \(90% of its 4 GiB\): use microBatch ≤ \d+ \(or auto\)\./,
  );
  await expect(page.getByTestId('memory-wasm')).toContainText(
    /at micro-batch 64, more than the 3.6 GiB it allows \(up to \d+ per pass fit\)/,
  );
  await page.screenshot({ path: `${SCREENSHOTS}/memory-refusal.png`, fullPage: true });
  // …and the worker refuses the run in the same words, before a single step.
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const status = page.getByTestId('run-status');
  await expect(status).toContainText('failed');
  await expect(status).toContainText(/use microBatch ≤ \d+ \(or auto\)/);
  const run = (await lastRun(page))!;
  expect(run.train).toEqual([]);
  expect(run.evals).toEqual([]);
  expect(run.message).toMatch(/^ResNet-1001 \(bottleneck\): micro-batches of 64 images need/);
  // The page stays usable: auto finds a micro-batch that fits, and the summary says which.
  await page.getByLabel('Micro-batch').fill('auto');
  await expect(refusal).toHaveCount(0);
  await expect(page.getByTestId('memory-wasm')).toContainText(/at micro-batch \d+ of 128/);
});

test('auto is resolved before the run starts: the run records and shows the micro-batch it trains with', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.goto('/?dataset=synthetic&depth=8&batch=8&iters=2&evalEvery=2&testSubset=16&warmupIters=0&backend=wasm');
  await expect(await backendSettled(page)).toHaveText(/^wasm/);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const status = page.getByTestId('run-status');
  await expect(status).toContainText('finished', { timeout: 120_000 });
  await expect(page.getByTestId('run-micro-batch')).toContainText('8 of 8 images per pass');
  expect((await lastRun(page))!.config.microBatch).toBe(8);
  // Two passes of 4: trains and finishes the same way.
  await page.getByLabel('Micro-batch').fill('4');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(status).toContainText('finished', { timeout: 120_000 });
  await expect(page.getByTestId('run-micro-batch')).toContainText('4 of 8 images per pass');
  expect((await lastRun(page))!.config.microBatch).toBe(4);
});

test('running out of memory mid-run ends it failed with the explanation and its curves; the next run gets a fresh WASM', async ({
  page,
}) => {
  test.setTimeout(240_000);
  await page.goto('/?dataset=synthetic&depth=8&batch=8&iters=100000&testSubset=16&warmupIters=0&backend=wasm');
  await expect(await backendSettled(page)).toHaveText(/^wasm/);
  const status = page.getByTestId('run-status');
  await startAndTrainOne(page);
  await sendToEngine(page, { type: 'simulate-out-of-memory' });
  await expect(status).toContainText('failed', { timeout: 120_000 });
  await expect(status).toContainText(
    /ran out of memory at iteration \d+ on WASM \((memory access out of bounds|its module aborted|its heap had no room for the next tensor)\), although the plan put a step of 8 images per pass at \d+ MiB/,
  );
  expect((await lastRun(page))!.train.length).toBeGreaterThan(0); // curves kept
  // The aborted module was replaced: the next run trains on WASM again, not on a fallback.
  await expect(await backendSettled(page)).toHaveText(/^wasm/);
  await startAndTrainOne(page);
  await expect(status).toContainText('Running on wasm');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(status).toContainText('stopped', { timeout: 60_000 });
});
