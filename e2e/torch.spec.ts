/**
 * Runs trained past the browser come back to the page: a 2-process PyTorch run (npm run torch, gloo on the CPU) on
 * a small generated CIFAR-10 copy is imported as JSON and shows on the chart and in the run list with its backend;
 * its weights are imported as the run's checkpoint and measured here on the same images (the page's test error and
 * signal agree with PyTorch's); a sweep's JSONs imported at once fill the lab table.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { toQuery } from '../src/experiment/codec';
import { labExperiment, rowConfig } from '../src/experiment/lab';
import { PYTHON, SKIP_REASON, writeShards } from '../scripts/torchTesting';
import { backendSettled, expect, SCREENSHOTS, test } from './fixtures';

const LINK = 'dataset=cifar10&unit=full-preact&depth=8&batch=16&iters=6&evalEvery=3&warmupIters=0&backend=wasm';
const TRAIN = 64;
const TEST = 30;

let dir = '';
let files = new Map<string, Uint8Array>();
let run: {
  id: string;
  finalTestError: number;
  signal: { iter: number; profile: { backwardRatio: number } }[];
  [key: string]: unknown;
};

test.beforeAll(async () => {
  if (!PYTHON) return;
  dir = mkdtempSync(join(tmpdir(), 'torch-e2e-'));
  files = await writeShards(join(dir, 'cifar10'), TRAIN, TEST);
  // The command users run (npm run torch): two processes, gloo.
  const out = join(dir, 'run.json');
  const r = spawnSync(
    'npx',
    ['tsx', 'scripts/torch.ts', LINK, '--nproc', '2', '--out', out, '--data', join(dir, 'cifar10'), '--device', 'cpu'],
    {
      encoding: 'utf8',
      timeout: 300_000,
    },
  );
  if (r.status !== 0) throw new Error(`npm run torch failed: ${r.stderr}`);
  run = JSON.parse(readFileSync(out, 'utf8'));
});
test.afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

/** The page with no datasets on the server, and the same CIFAR-10 files the PyTorch run trained on imported here. */
async function pageWithTheRunsData(page: Page, query: string) {
  await page.route('**/data/index.json', (route) => route.fulfill({ json: { datasets: [] } }));
  await page.goto(`/?${query}`);
  await page
    .getByTestId('import-input')
    .first()
    .setInputFiles(
      [...files].map(([name, data]) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(data) })),
    );
  await expect(page.getByTestId('datasets')).toContainText(
    `Imported CIFAR-10: ${TRAIN} training and ${TEST} test images`,
  );
  await backendSettled(page);
}

test.describe(`runs from PyTorch${SKIP_REASON}`, () => {
  test.skip(!PYTHON, 'no python3 with torch');

  test("a 2-process PyTorch run's JSON shows on the chart and in the run list; its weights, measured here, agree", async ({
    page,
  }) => {
    expect(run).toMatchObject({ status: 'finished', processes: 2, processGroup: 'gloo', backend: 'pytorch-cpu' });
    expect(run.replicas).toMatchObject({ checked: true, identical: true });
    await pageWithTheRunsData(page, LINK);
    await page.getByTestId('import-runs').setInputFiles(join(dir, 'run.json'));
    await expect(page.getByText('Imported 1 run from run.json.')).toBeVisible();
    const row = page.getByTestId('run-row');
    await expect(row).toHaveCount(1);
    await expect(row).toContainText('pytorch-cpu');
    await expect(row).toContainText(`${run.finalTestError.toFixed(2)}%`);
    await expect(page.getByTestId('chart-legend')).toContainText('ResNet-8');
    await expect(page.getByTestId('runs-chart').locator('.recharts-line')).toHaveCount(2); // loss and test error

    // Its weights (run-model.json + run-model.bin) as the run's checkpoint, measured by tfjs on the same test images.
    await row
      .getByLabel(/^Import weights for/)
      .setInputFiles([join(dir, 'run-model.json'), join(dir, 'run-model.bin')]);
    const check = page.getByTestId('weights-check');
    await expect(check).toContainText('Weights at iteration 6 (run-model.json) measured in this page on wasm');
    await expect(check).toContainText('Resume continues the run exactly');
    const state = await page.evaluate(
      () =>
        (
          window as unknown as {
            __playground: {
              getState(): { runs: { weightsCheck: { testError: number; signal: { backwardRatio: number } } }[] };
            };
          }
        ).__playground?.getState().runs[0]?.weightsCheck,
    );
    const text = (await check.textContent()) ?? '';
    const pageError = Number(/test error ([\d.]+)%/.exec(text)![1]);
    // argmax of float32 logits from two libraries: at most one of the 30 test images may fall either way.
    expect(Math.abs(pageError - run.finalTestError)).toBeLessThanOrEqual(100 / TEST + 1e-9);
    const [pageLoss, ownLoss] = [...text.matchAll(/loss ([\d.]+)/g)].map((m) => Number(m[1]));
    expect(Math.abs(pageLoss! - ownLoss!) / ownLoss!).toBeLessThan(1e-3); // 4 digits shown
    const ratio = Number(/= ([\d.]+)/.exec(text)![1]);
    expect(ratio / run.signal.at(-1)!.profile.backwardRatio).toBeCloseTo(1, 2);
    void state;
    await expect(row).toContainText('checkpoint at 6');
    await page.getByTestId('signal-legend').scrollIntoViewIfNeeded();
    await expect(page.getByTestId('signal-legend')).toContainText('weights at iteration 6, measured in this page');
    await page.screenshot({ path: `${SCREENSHOTS}/pytorch-run.png`, fullPage: true });

    // Weights of another experiment are refused with the reason; the checkpoint stays.
    const model = JSON.parse(readFileSync(join(dir, 'run-model.json'), 'utf8'));
    model.userDefinedMetadata.link = 'depth=14';
    writeFileSync(join(dir, 'other-model.json'), JSON.stringify(model));
    await row
      .getByLabel(/^Import weights for/)
      .setInputFiles([join(dir, 'other-model.json'), join(dir, 'run-model.bin')]);
    await expect(row.getByTestId('run-row-warning')).toHaveText(
      /^Weights not imported: other-model\.json holds the weights of another experiment \(depth=14\), not this run's$/,
    );
    await expect(row).toContainText('checkpoint at 6');
  });

  test("a sweep's run JSONs imported at once fill the lab table with our median beside the paper's", async ({
    page,
  }) => {
    // Two seeds of Table 2's first quick row, as npm run lab's jobs write them: the run JSON of the PyTorch run
    // above, carrying the row's config (a real 6,400-iteration ResNet-56 job does not fit a test).
    const row = labExperiment('table2')!.rows[0]!;
    const paths = [1, 2].map((seed) => {
      const config = rowConfig(row, { quick: true, seed });
      const path = join(dir, `table2-r00-s${seed}.json`);
      writeFileSync(path, JSON.stringify({ ...run, id: `${run.id}-s${seed}`, config, link: `/?${toQuery(config)}` }));
      return path;
    });
    await page.goto('/?lab=table2&quick=1');
    await backendSettled(page);
    await page.getByTestId('import-runs').setInputFiles([...paths, join(dir, 'run-model.json')]);
    await expect(page.getByText('Imported 2 runs from 2 files. 1 weights file skipped')).toBeVisible();
    const first = page.getByTestId('lab-row').first();
    await expect(first).toContainText('2 done');
    await expect(first).toContainText(`${run.finalTestError.toFixed(2)}%`);
    await page.getByTestId('paper-lab').screenshot({ path: `${SCREENSHOTS}/lab-imported.png` });
  });
});
