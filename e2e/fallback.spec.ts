import { CHROMIUM, CHROMIUM_ARGS } from './browser';
import { backendSettled, expect, SCREENSHOTS, test } from './fixtures';

// The same Chromium without --enable-unsafe-webgpu: navigator.gpu exists but offers no adapter on Linux.
test.use({
  launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu') },
});

test('asked for WebGPU without a usable GPU, the worker falls back to WASM, says why, and a run trains there', async ({
  page,
}) => {
  test.setTimeout(240_000);
  await page.goto('/?dataset=synthetic&depth=8&batch=4&iters=3&evalEvery=3&testSubset=16&backend=webgpu');
  await expect(await backendSettled(page)).toHaveText(/^wasm · \d+ threads?$/);
  await expect(page.getByTestId('backend-fallback')).toContainText('webgpu unavailable:');
  await page.screenshot({ path: `${SCREENSHOTS}/fallback.png` });
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const status = page.getByTestId('run-status');
  await expect(status).toContainText('finished', { timeout: 200_000 });
  await expect(page.getByTestId('run-facts')).toContainText('3 / 3');
  await expect(status).toContainText('Finished 3 iterations');
});
