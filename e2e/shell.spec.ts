import { backendSettled, expect, query, SCREENSHOTS, test } from './fixtures';

test('loads without console errors and runs the engine worker (auto: WASM beside a software WebGPU adapter)', async ({
  page,
  consoleErrors,
}) => {
  await page.goto('/');
  const badge = await backendSettled(page);
  // This browser offers only SwiftShader (--enable-unsafe-webgpu, no GPU): auto takes WASM, with all cores.
  await expect(badge).toHaveText(/^wasm · \d+ threads?$/);
  await expect(page.getByTestId('backend-why')).toContainText(
    'auto: WASM, because the only WebGPU adapter here is software',
  );
  await expect(page.getByTestId('backend-fallback')).toHaveCount(0);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Identity Mappings in Deep Residual Networks');
  await expect(page.getByTestId('params')).toContainText('269,722 trainable'); // ResNet-20, pre-activation
  await page.screenshot({ path: `${SCREENSHOTS}/default.png`, fullPage: true });
  expect(consoleErrors).toEqual([]);
});

test('a link with bad keys names each refused key with its reason, and can be dismissed', async ({
  page,
  consoleErrors,
}) => {
  await page.goto('/?depth=abc&unit=nope&batch=-1&zzz=1&seed=9');
  const problems = page.getByTestId('link-problems');
  await expect(problems).toContainText('4 refused keys');
  await expect(problems).toContainText('depth=abc: must be a whole number');
  await expect(problems).toContainText('unit=nope: must be one of');
  await expect(problems).toContainText('batch=-1: must be at least 1');
  await expect(problems).toContainText('zzz=1: unknown key');
  // The good key survives, the bad ones leave the address bar.
  expect(query(page)).toBe('seed=9');
  await expect(page.getByTestId('field-seed').getByRole('textbox')).toHaveValue('9');
  await backendSettled(page);
  await page.screenshot({ path: `${SCREENSHOTS}/bad-link.png`, fullPage: true });
  await problems.getByRole('button', { name: 'Dismiss' }).click();
  await expect(problems).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});

test('editing fields updates the address bar, and reloading that address restores them', async ({ page }) => {
  await page.goto('/');
  await page.getByLabel('Depth').fill('56');
  await expect.poll(() => query(page)).toBe('depth=56');

  await page.getByLabel('Unit', { exact: true }).selectOption('exclusive-gate');
  const gate = page.getByLabel('Gate bias b_g');
  await expect(gate).toHaveValue('-6');
  await gate.fill('-3');
  await page.getByLabel('Nesterov').check();
  await expect.poll(() => query(page)).toBe('unit=exclusive-gate&gateBias=-3&depth=56&nesterov=1');
  await expect(page.getByTestId('unit-card-exclusive-gate')).toHaveAttribute('aria-pressed', 'true');

  await page.reload();
  await expect(page.getByLabel('Depth')).toHaveValue('56');
  await expect(page.getByLabel('Unit', { exact: true })).toHaveValue('exclusive-gate');
  await expect(page.getByLabel('Gate bias b_g')).toHaveValue('-3');
  await expect(page.getByLabel('Nesterov')).toBeChecked();
  await expect(page.getByTestId('link-problems')).toHaveCount(0);
  await backendSettled(page);
});

test('a refused value is explained beside its field and leaves the link as it was', async ({ page }) => {
  await page.goto('/?depth=32');
  const depth = page.getByLabel('Depth');
  await depth.fill('33');
  await expect(page.getByTestId('field-depth').getByRole('alert')).toContainText('6n+2');
  await expect(depth).toHaveAttribute('aria-invalid', 'true');
  expect(query(page)).toBe('depth=32');
  await depth.fill('44');
  await expect(page.getByTestId('field-depth').getByRole('alert')).toHaveCount(0);
  await expect.poll(() => query(page)).toBe('depth=44');
  await expect(page.getByTestId('network-summary')).toContainText('21 (3 stages × 7)');
  await expect(page.getByTestId('params')).toContainText('658,586 trainable');
  await backendSettled(page);
});

test('switching to bottleneck units moves depth to a valid one and says so', async ({ page }) => {
  await page.goto('/?depth=32');
  await page.getByLabel('Block').selectOption('bottleneck');
  await expect(page.getByTestId('adjustments')).toContainText('Depth changed from 32 to 29');
  await expect(page.getByLabel('Depth')).toHaveValue('29');
  await expect(page.getByLabel('Convs per unit')).toHaveCount(0);
  await expect.poll(() => query(page)).toBe('depth=29&block=bottleneck');
  await backendSettled(page);
});

test('the backend key switches the worker to the backend asked for', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await expect(await backendSettled(page)).toHaveText(/^wasm · /);
  await expect(page.getByTestId('backend-why')).toHaveCount(0); // named, not chosen by auto
  await page.getByLabel('Backend').selectOption('cpu');
  await expect(page.getByTestId('backend')).toHaveText('cpu');
  await page.getByLabel('Backend').selectOption('webgpu');
  await expect(page.getByTestId('backend')).toHaveText(/^webgpu · /, { timeout: 90_000 });
});
