import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from '../scripts/datasetServer';
import { LAB } from '../src/experiment/lab';
import { backendSettled, expect, pickUnit, query, SCREENSHOTS, test } from './fixtures';

test("every paper-lab link opens with its runs queued and the paper's number on each row", async ({ page }) => {
  test.setTimeout(180_000);
  for (const e of LAB) {
    await page.goto(`/?lab=${e.id}`);
    const lab = page.getByTestId('paper-lab');
    await expect(lab.getByTestId('lab-row')).toHaveCount(e.rows.length);
    await expect(lab.getByTestId('queue-count')).toHaveText(`${e.rows.length} queued`);
    for (const [i, row] of e.rows.entries()) {
      const paper = lab.getByTestId('lab-row').nth(i).locator('td').nth(1);
      await expect(paper).toHaveText(row.paper === null ? 'fail' : `${row.paper.toFixed(2)}%`);
    }
    expect(query(page)).toBe(`lab=${e.id}`); // the address bar keeps the lab, without starting anything
    await expect(page.getByTestId('run-row')).toHaveCount(0);
  }
  await page.goto('/?lab=table1&quick=1&seeds=3');
  await expect(page.getByTestId('queue-count')).toHaveText('33 queued');
  await expect(page.getByTestId('paper-lab')).toContainText('quick version');
  await backendSettled(page);
  await page.getByTestId('paper-lab').screenshot({ path: `${SCREENSHOTS}/paper-lab-table1.png` });
});

test('three seeds of a tiny config train one after another; the median with mean ± std is shown', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?dataset=synthetic&depth=8&batch=8&iters=20&evalEvery=10&testSubset=64&warmupIters=0&backend=wasm');
  await backendSettled(page);
  await page.getByLabel('Number of seeds').fill('3');
  await page.getByRole('button', { name: 'Run seeds 1…' }).click();
  const rows = page.getByTestId('run-row');
  await expect(rows.filter({ hasText: 'finished' })).toHaveCount(3, { timeout: 200_000 });
  const errors = await page.evaluate(() =>
    (
      window as unknown as {
        playground: { getState(): { runs: { config: { seed: number }; evals: { testError: number }[] }[] } };
      }
    ).playground
      .getState()
      .runs.map((r) => ({ seed: r.config.seed, error: r.evals.at(-1)!.testError })),
  );
  expect(errors.map((e) => e.seed)).toEqual([1, 2, 3]);
  const sorted = errors.map((e) => e.error).sort((a, b) => a - b);
  const median = sorted[1]!;
  const seeds = page.getByTestId('seed-results');
  await expect(seeds.getByTestId('seed-row')).toHaveCount(1);
  await expect(seeds.getByTestId('seed-row')).toContainText('1, 2, 3');
  await expect(seeds.getByTestId('seed-row')).toContainText(
    median > 20 ? `fail (${median.toFixed(2)}%)` : `${median.toFixed(2)}%`,
  );
  await expect(seeds.getByTestId('seed-row')).toContainText('n = 3');
  await seeds.screenshot({ path: `${SCREENSHOTS}/seeds.png` });

  // The runs were measured at their start and at each evaluation; the signal view shows any of those.
  const signal = page.getByTestId('signal-view');
  const select = signal.getByLabel('Runs at');
  await expect(select.locator('option')).toHaveText([
    'their latest measurement',
    'their start (initialisation)',
    'iteration 10',
    'iteration 20',
  ]);
  await expect(signal.getByTestId('signal-legend').locator('li')).toHaveCount(3);
  await expect(signal.getByTestId('signal-legend')).toContainText('full-preact · ResNet-8 · iteration 20');
  await select.selectOption('0');
  await expect(signal.getByTestId('signal-legend')).toContainText('full-preact · ResNet-8 · initialisation');
  await expect(signal.getByTestId('signal-backward').locator('.recharts-line')).toHaveCount(3);
});

// Real CIFAR-10 when this checkout has it (npm run data -- cifar10 --from …); the embedded set otherwise.
const CIFAR = existsSync(join(dataDir(), 'cifar10', 'manifest.json'));

test('the signal view measures ResNet-56 original and scale λ=0.5 at initialisation and draws both; their gradient ratios differ ≥10×', async ({
  page,
}) => {
  test.setTimeout(180_000);
  test.info().annotations.push({ type: 'data', description: CIFAR ? 'CIFAR-10' : 'embedded set (no CIFAR-10 here)' });
  await page.goto(`/?unit=original&depth=56&dataset=${CIFAR ? 'cifar10' : 'synthetic'}&backend=wasm`);
  await backendSettled(page);
  const view = page.getByTestId('signal-view');
  const measure = view.getByRole('button', { name: 'Measure this network at initialisation' });
  await measure.click();
  await expect(view.getByTestId('signal-ratio')).toHaveCount(1, { timeout: 120_000 });
  await pickUnit(page, 'scale');
  await measure.click();
  await expect(view.getByTestId('signal-ratio')).toHaveCount(2, { timeout: 120_000 });
  await expect(view.getByTestId('signal-legend')).toContainText('original · ResNet-56 · initialisation');
  await expect(view.getByTestId('signal-legend')).toContainText('scale (λ=0.5, s=1) · ResNet-56 · initialisation');
  for (const field of ['forward', 'backward']) {
    const paths = view.getByTestId(`signal-${field}`).locator('.recharts-line path.recharts-curve');
    await expect(paths).toHaveCount(2);
    for (const d of await paths.evaluateAll((ps) => ps.map((p) => p.getAttribute('d') ?? ''))) {
      expect(d.split('L').length).toBeGreaterThan(20); // 27 units
    }
  }
  const ratios = (await view.getByTestId('signal-ratio').allTextContents()).map((t) => Number(t.replace(/,/g, '')));
  console.log(
    `gradient ratio ‖∂E/∂x_1‖/‖∂E/∂x_27‖ (${CIFAR ? 'CIFAR-10' : 'embedded set'}): original ${ratios[0]}, scale λ=0.5 ${ratios[1]}`,
  );
  expect(Math.abs(Math.log10(ratios[1]! / ratios[0]!))).toBeGreaterThanOrEqual(1);
  await view.screenshot({ path: `${SCREENSHOTS}/signal-view.png` });
});
