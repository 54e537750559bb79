import { backendSettled, expect, SCREENSHOTS, test } from './fixtures';

// This Chromium (--enable-unsafe-webgpu, no GPU) offers WebGPU only on SwiftShader, a software adapter.

test('by default (auto) the quick demo trains on WASM, and the badge says why not WebGPU', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/');
  await page
    .getByTestId('presets')
    .getByRole('button', { name: /Quick demo/ })
    .click();
  await expect(await backendSettled(page)).toHaveText(/^wasm · \d+ threads?$/);
  await expect(page.getByTestId('backend-why')).toContainText(
    'auto: WASM, because the only WebGPU adapter here is software (google swiftshader',
  );
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const status = page.getByTestId('run-status');
  await expect(status).toContainText('Running on wasm', { timeout: 60_000 });
  await expect(page.getByTestId('run-facts')).toContainText(/Iteration\s*([5-9]|\d\d)/, { timeout: 60_000 });
  await page.screenshot({ path: `${SCREENSHOTS}/auto-wasm.png` });
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(status).toContainText('stopped', { timeout: 60_000 });
});

test('backend=webgpu still means WebGPU, on the software adapter too', async ({ page }) => {
  await page.goto('/?backend=webgpu');
  await expect(await backendSettled(page)).toHaveText(/^webgpu · google swiftshader/);
  await expect(page.getByTestId('backend-why')).toHaveCount(0);
  await expect(page.getByTestId('backend-fallback')).toHaveCount(0);
});
