import { CLAIMS } from '../src/experiment/claims';
import { PRESETS, applyPreset } from '../src/experiment/presets';
import { defaults } from '../src/experiment/schema';
import { backendSettled, expect, query, SCREENSHOTS, test } from './fixtures';

test('lab=claims shows every claim with its sentence and what the check found, and queues its runs', async ({
  page,
}) => {
  await page.goto('/?lab=claims');
  const lab = page.getByTestId('claims-lab');
  const claims = lab.getByTestId('claim');
  await expect(claims).toHaveCount(CLAIMS.length);
  for (const [i, claim] of CLAIMS.entries()) {
    const card = claims.nth(i);
    await expect(card).toHaveAttribute('data-claim', claim.id);
    await expect(card.getByRole('heading')).toContainText(claim.mirrors);
    await expect(card.getByTestId('claim-point')).toHaveText(claim.point);
    await expect(card.getByTestId('claim-row')).toHaveCount(claim.rows.length);
    await expect(card.getByTestId('claim-verified')).not.toBeEmpty();
  }
  // Ten runs: the original unit serves three claims, the signal claim reads the shortcut claim's runs.
  await expect(lab.getByTestId('claims-queue')).toHaveText('10 queued');
  expect(query(page)).toBe('lab=claims');
  await expect(page.getByTestId('run-row')).toHaveCount(0);
  await expect(page.getByTestId('claims-invite')).toHaveCount(0); // already there
  await backendSettled(page);
  await lab.screenshot({ path: `${SCREENSHOTS}/claims-lab.png` });
});

test('a tiny variant of one claim (embedded set, 6 iterations, WASM) runs to the end and shows its verdict', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.goto(
    '/?lab=claims&dataset=synthetic&depth=8&batch=8&iters=6&warmupIters=0&evalEvery=6&testSubset=64&backend=wasm',
  );
  await backendSettled(page);
  const lab = page.getByTestId('claims-lab');
  await expect(lab.getByTestId('claims-overrides')).toContainText(
    'depth=8&dataset=synthetic&testSubset=64&batch=8&iters=6&warmupIters=0&evalEvery=6&backend=wasm',
  );
  await expect(lab.getByTestId('claims-data')).toContainText('embedded demo set');
  const card = lab.locator('[data-claim="bn-after-add"]');
  await card.getByRole('button', { name: 'Run this claim (2 runs)' }).click();
  const verdict = card.getByTestId('claim-verdict');
  await expect(verdict).toContainText(/This run \(seed 1\): (reproduced|not reproduced)/, { timeout: 150_000 });
  // The verdict states both figures and the ordering it found.
  await expect(verdict).toContainText(/original \(identity shortcut\) \d\.\d{3} (<|≥) BN after addition \d\.\d{3}/);
  await expect(verdict.getByTestId('claim-tally')).toContainText(/held in [01] of 1/);
  await expect(card.getByTestId('claim-chart').locator('.recharts-line')).toHaveCount(2);
  await expect(page.getByTestId('run-row').filter({ hasText: 'finished' })).toHaveCount(2);
  // The signal claim needs no training: both networks measured at initialisation give its verdict.
  const signal = lab.locator('[data-claim="signal"]');
  await signal.getByRole('button', { name: 'Measure both at initialisation' }).click();
  await expect(signal.getByTestId('claim-verdict')).toContainText(
    /This run \(seed 1\): (reproduced|not reproduced) — original \(identity shortcut\) \d\.\d{3} (<|≥) constant scaling λ = 0\.5 \d\.\d{3}/,
  );
  await card.screenshot({ path: `${SCREENSHOTS}/claims-tiny-verdict.png` });
});

test('a new user is one click from the claims lab, and after the quick demo the page suggests it first', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto('/');
  await backendSettled(page);
  // On the first screen, without scrolling.
  const entry = page.getByTestId('claims-entry');
  const box = (await entry.boundingBox())!;
  expect(box.y + box.height).toBeLessThanOrEqual(768);
  await expect(page.getByTestId('claims-invite')).toHaveCount(0);
  await page.screenshot({ path: `${SCREENSHOTS}/landing.png` });

  // A finished quick-demo run, as the demo leaves it (put in the store: the demo itself takes minutes here).
  const demo = applyPreset(
    defaults(),
    PRESETS.find((p) => p.id === 'demo')!,
  );
  await page.evaluate((config) => {
    const run = {
      id: 'demo-1',
      config,
      status: 'finished',
      info: { backend: 'wasm', adapter: null, fallbacks: [], trainableParams: 78_042 },
      train: [
        { iter: 150, epoch: 0.5, loss: 0.9, lr: 0.01, imagesPerSec: 100, elapsedMs: 40_000 },
        { iter: 300, epoch: 1, loss: 0.1, lr: 0.01, imagesPerSec: 100, elapsedMs: 80_000 },
      ],
      evals: [
        { iter: 150, epoch: 0.5, testError: 12, testLoss: 0.4, tensors: 1, elapsedMs: 40_000 },
        { iter: 300, epoch: 1, testError: 0.4, testLoss: 0.02, tensors: 1, elapsedMs: 80_000 },
      ],
      lrChanges: [],
      startedAt: Date.now(),
      visible: true,
      color: 0,
    };
    (window as unknown as { playground: { setState(s: object): void } }).playground.setState({
      runs: [run],
      config,
    });
  }, demo);
  const invite = page.getByTestId('claims-invite');
  await expect(invite).toContainText('The quick demo finished: training works.');
  await page.screenshot({ path: `${SCREENSHOTS}/landing-after-demo.png` });
  await invite.getByRole('button', { name: 'Open the claims lab' }).click();
  await expect(page.getByTestId('claims-lab')).toBeInViewport();
  expect(query(page)).toBe('lab=claims'); // the claims' own settings, not the demo's
  await expect(page.getByTestId('claims-overrides')).toHaveCount(0);
  await expect(invite).toHaveCount(0);

  // From anywhere, the header's button opens it again at its own settings.
  await page.goto('/?depth=32');
  await entry.click();
  await expect(page.getByTestId('claims-lab')).toBeInViewport();
  expect(query(page)).toBe('lab=claims');
});
