import { CHROMIUM, CHROMIUM_ARGS } from './browser';
import { backendSettled, expect, SCREENSHOTS, test } from './fixtures';

// The same Chromium without --enable-unsafe-webgpu: navigator.gpu exists but offers no adapter on Linux.
test.use({
  launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu') },
});

test('without a usable GPU the worker falls back to WASM and the page says why', async ({ page }) => {
  await page.goto('/');
  await expect(await backendSettled(page)).toHaveText('wasm');
  await expect(page.getByTestId('backend-fallback')).toContainText('webgpu unavailable:');
  await page.screenshot({ path: `${SCREENSHOTS}/fallback.png` });
});
