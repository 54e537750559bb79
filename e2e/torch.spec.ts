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
import { backendSettled, expect, runsState, SCREENSHOTS, test } from './fixtures';

const LINK = 'dataset=cifar10&unit=full-preact&depth=8&batch=16&iters=6&evalEvery=3&warmupIters=0&backend=wasm';
const TRAIN = 64;
const TEST = 30;

let dir = '';
let files = new Map<string, Uint8Array>();
interface RunJson {
  id: string;
  status: string;
  finalTestError: number;
  history: { evals: { iter: number; testError: number; testLoss: number }[] };
  signal: { iter: number; profile: { backwardRatio: number } }[];
  [key: string]: unknown;
}
let run: RunJson;
/** The same link on one process: BN over the whole batch of 16 (on two, microBatch=auto normalises each 8). */
let single: RunJson;
let stopped: RunJson;

test.beforeAll(async () => {
  if (!PYTHON) return;
  dir = mkdtempSync(join(tmpdir(), 'torch-e2e-'));
  files = await writeShards(join(dir, 'cifar10'), TRAIN, TEST);
  // The command users run (npm run torch): two processes, gloo; and the same link on one, whole and stopped at 3.
  const torch = (name: string, args: string[]) => {
    const out = join(dir, `${name}.json`);
    const data = join(dir, 'cifar10');
    spawnSync('npx', ['tsx', 'scripts/torch.ts', LINK, '--out', out, '--data', data, '--device', 'cpu', ...args], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    return JSON.parse(readFileSync(out, 'utf8'));
  };
  run = torch('run', ['--nproc', '2']);
  single = torch('single', ['--nproc', '1']);
  stopped = torch('stopped', ['--nproc', '1', '--stop-at', '3']);
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

  test('a PyTorch run stopped at iteration 3, imported with its weights, resumes in the page on the same curve', async ({
    page,
  }) => {
    expect(stopped).toMatchObject({ status: 'stopped', checkpoint: { iter: 3 } });
    await pageWithTheRunsData(page, LINK);
    await page.getByTestId('import-runs').setInputFiles(join(dir, 'stopped.json'));
    const row = page.getByTestId('run-row');
    await row
      .getByLabel(/^Import weights for/)
      .setInputFiles([join(dir, 'stopped-model.json'), join(dir, 'stopped-model.bin')]);
    await expect(page.getByTestId('weights-check')).toContainText('Resume continues the run exactly');
    await row.getByRole('button', { name: /^Resume .* from its checkpoint$/ }).click();
    await expect(row).toHaveAttribute('data-status', 'finished', { timeout: 60_000 });
    await expect(row).toContainText('wasm');
    // Iterations 4–6 trained by tfjs from PyTorch's weights, momentum and data position: the evaluation at 6 is
    // the uninterrupted one-process PyTorch run's, within float rounding (and one test image either way of an argmax).
    const resumed = (await runsState(page)).runs[0]!.evals as RunJson['history']['evals'];
    const theirs = single.history.evals.find((e) => e.iter === 6)!;
    const ours = resumed.find((e) => e.iter === 6)!;
    expect(resumed.map((e) => e.iter)).toEqual([3, 6]);
    expect(Math.abs(ours.testLoss - theirs.testLoss) / theirs.testLoss).toBeLessThan(1e-3);
    expect(Math.abs(ours.testError - theirs.testError)).toBeLessThanOrEqual(100 / TEST + 1e-9);
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
