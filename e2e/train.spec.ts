import { backendSettled, expect, SCREENSHOTS, sendToEngine, startAndTrainOne, test } from './fixtures';

// Tiny runs: software WebGPU (SwiftShader) takes seconds per step even for an 8-layer net at batch 4.
const TINY = 'dataset=synthetic&depth=8&batch=4&iters=6&evalEvery=3&testSubset=32&warmupIters=0';
// backend=webgpu: WebGPU even on a software adapter, where auto would take WASM.
const ON_WEBGPU = `${TINY}&backend=webgpu`;

async function runState(page: import('@playwright/test').Page) {
  return page.evaluate(() => {
    const runs = (
      window as unknown as {
        playground: {
          getState(): {
            runs: { status: string; train: { iter: number; loss: number }[]; evals: { tensors: number }[] }[];
          };
        };
      }
    ).playground.getState().runs;
    const r = runs.at(-1);
    return r
      ? {
          status: r.status,
          iters: r.train.map((p) => p.iter),
          losses: r.train.map((p) => p.loss),
          evals: r.evals.length,
          tensors: r.evals.map((e) => e.tensors),
          runs: runs.length,
        }
      : null;
  });
}

test('a tiny run on WebGPU trains, pauses, resumes and finishes with loss and test error on its chart', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await page.goto(`/?${ON_WEBGPU}`);
  await expect(await backendSettled(page)).toHaveText(/^webgpu/);
  const status = page.getByTestId('run-status');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(status).toContainText('running', { timeout: 120_000 });
  await expect(status).toContainText('Running on webgpu');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(status).toContainText('paused', { timeout: 120_000 });
  const paused = (await runState(page))!;
  await page.waitForTimeout(3000);
  expect((await runState(page))!.iters).toEqual(paused.iters); // nothing trains while paused
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await expect(status).toContainText('finished', { timeout: 240_000 });
  const done = (await runState(page))!;
  expect(done.iters.at(-1)).toBe(6);
  expect(done.evals).toBe(2);
  expect(new Set(done.tensors).size).toBe(1); // the same live tensor count after every evaluation
  expect(done.losses.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
  await expect(page.getByTestId('runs-chart').locator('.recharts-line')).toHaveCount(2);
  await expect(page.getByTestId('run-facts')).toContainText('6 / 6');
  await page.screenshot({ path: `${SCREENSHOTS}/finished-run.png`, fullPage: true });
});

test('a diverging run ends as "diverged" with its curve kept, and the page stays usable', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto(`/?${TINY}&lr=1000&backend=wasm`);
  await backendSettled(page);
  const status = page.getByTestId('run-status');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(status).toContainText('diverged', { timeout: 240_000 });
  await expect(status).toContainText('The paper counts such runs as “fail”');
  expect((await runState(page))!.iters.length).toBeGreaterThan(0);
  await page.screenshot({ path: `${SCREENSHOTS}/diverged.png`, fullPage: true });
  // Stop works on a fresh run, and a new run can start after any ending without a reload.
  await page.getByTestId('field-lr').getByRole('textbox').fill('0.1');
  await page.getByTestId('field-iters').getByRole('textbox').fill('100000'); // long enough to stop mid-way
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(status).toContainText(/starting|running/);
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(status).toContainText('stopped', { timeout: 240_000 });
  expect((await runState(page))!.runs).toBe(2);
});

test('a lost GPU device ends the run as failed with its curves kept, and the next run starts afresh', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await page.goto(`/?${ON_WEBGPU.replace('iters=6', 'iters=1000')}`);
  await expect(await backendSettled(page)).toHaveText(/^webgpu/);
  const status = page.getByTestId('run-status');
  await startAndTrainOne(page);
  await sendToEngine(page, { type: 'simulate-device-loss' });
  await expect(status).toContainText('failed', { timeout: 120_000 });
  await expect(status).toContainText('the GPU device was lost');
  expect((await runState(page))!.iters.length).toBeGreaterThan(0); // curves kept
  await page.screenshot({ path: `${SCREENSHOTS}/device-lost.png`, fullPage: true });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(status).toContainText('Running on webgpu', { timeout: 120_000 });
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(status).toContainText('stopped', { timeout: 120_000 });
});
