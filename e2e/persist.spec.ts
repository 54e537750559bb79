import { readFileSync, writeFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { backendSettled, downloadOf, expect, runsState, SCREENSHOTS, test, untilCheckpointed } from './fixtures';

// WASM: fast enough here to train 150 iterations in seconds; checkpoints every 0.6 s of training.
const LINK =
  '/?dataset=synthetic&depth=8&batch=8&iters=150&evalEvery=50&testSubset=64&warmupIters=0&checkpointMinutes=0.01&backend=wasm';

test('a run survives a reload: interrupted, resumed from its checkpoint, finished; exported, deleted, imported', async ({
  page,
}) => {
  test.setTimeout(240_000);
  await page.goto(LINK);
  await backendSettled(page);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  // Mid-run: some points drawn and a checkpoint stored.
  await untilCheckpointed(page, 30);
  await page.waitForTimeout(1500); // the page writes a run's record about once a second
  await page.reload();

  const status = page.getByTestId('run-status');
  await expect(status).toContainText('interrupted');
  await expect(status).toContainText('Interrupted at iteration');
  const back = await runsState(page);
  expect(back.runs).toHaveLength(1);
  const run = back.runs[0]!;
  expect(run.status).toBe('interrupted');
  expect(run.train.length).toBeGreaterThan(0);
  const from = back.checkpoints[run.id]!.iter;
  expect(from).toBeGreaterThanOrEqual(30);
  // Its training-loss curve is back on the chart (no evaluation yet before iteration 50).
  await expect(page.getByTestId('runs-chart').locator('.recharts-line path.recharts-curve').first()).toHaveAttribute(
    'd',
    /L/,
  );
  await page.locator('.results').screenshot({ path: `${SCREENSHOTS}/interrupted.png` });

  await backendSettled(page);
  await page.getByRole('button', { name: `Resume from iteration ${from}` }).click();
  await expect(status).toContainText('finished', { timeout: 180_000 });
  const done = (await runsState(page)).runs[0]!;
  const iters = done.train.map((p) => p.iter);
  // One curve: strictly increasing iterations, through the checkpoint, to the end.
  expect(iters.every((it, i) => i === 0 || it > iters[i - 1]!)).toBe(true);
  expect(iters.at(-1)).toBe(150);
  expect(iters.some((it) => it <= from)).toBe(true);
  expect(iters.some((it) => it > from)).toBe(true);
  expect(done.evals.map((e) => e.iter)).toEqual([50, 100, 150]);

  // Exports: CSV (one row per point) and JSON.
  const csv = await downloadOf(page, () => page.getByRole('button', { name: /as CSV$/ }).click());
  const rows = csv.text().trim().split('\n');
  expect(rows[0]).toContain('iter');
  expect(rows).toHaveLength(1 + done.train.length + done.evals.length);
  const json = await downloadOf(page, () => page.getByRole('button', { name: /as JSON$/ }).click());
  expect(JSON.parse(json.text()).runs[0].history.train).toHaveLength(done.train.length);

  // Delete, and it stays deleted after a reload.
  await page.getByRole('button', { name: /^Delete full-preact/ }).click();
  await expect(page.getByTestId('run-row')).toHaveCount(0);
  await page.waitForTimeout(500);
  await page.reload();
  await backendSettled(page);
  await expect(page.getByTestId('run-row')).toHaveCount(0);

  // Import the JSON: the same curves come back.
  await page.getByTestId('import-runs').setInputFiles(json.path);
  await expect(page.getByText('Imported 1 run from')).toBeVisible();
  const imported = (await runsState(page)).runs[0]!;
  expect(imported.status).toBe('finished');
  expect(imported.train).toEqual(done.train);
  expect(imported.evals).toEqual(done.evals);
  await expect(page.getByTestId('runs-chart').locator('.recharts-line')).toHaveCount(2);
  await page.locator('.results').screenshot({ path: `${SCREENSHOTS}/imported.png` });
});

test('a finished run exports its weights in tfjs format; a bad import file is refused with the reason', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await page.goto(LINK.replace('iters=150', 'iters=10').replace('evalEvery=50', 'evalEvery=10'));
  await backendSettled(page);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-status')).toContainText('finished', { timeout: 60_000 });
  const downloads: { name: string; path: string }[] = [];
  page.on('download', async (d) => {
    const path = `test-results/${d.suggestedFilename()}`;
    await d.saveAs(path);
    downloads.push({ name: d.suggestedFilename(), path });
  });
  await page.getByRole('button', { name: /^Export the weights of/ }).click();
  await expect.poll(() => downloads.length).toBe(2);
  const model = JSON.parse(readFileSync(downloads.find((d) => d.name.endsWith('model.json'))!.path, 'utf8'));
  const bin = readFileSync(downloads.find((d) => d.name === 'weights.bin')!.path);
  const values = model.weightsManifest[0].weights.reduce(
    (n: number, w: { shape: number[] }) => n + w.shape.reduce((a, b) => a * b, 1),
    0,
  );
  expect(bin.byteLength).toBe(values * 4);
  expect(model.userDefinedMetadata.iteration).toBe(10);

  const bad = 'test-results/not-runs.json';
  writeFileSync(bad, '{"format":"something-else"}');
  await page.getByTestId('import-runs').setInputFiles(bad);
  await expect(page.getByRole('alert').filter({ hasText: 'not-runs.json was not imported' })).toBeVisible();
  expect((await runsState(page)).runs).toHaveLength(1);
});
