// One-off: import the check's PyTorch run JSONs into the page and screenshot the claims lab (not a test).
import { chromium } from '@playwright/test';
import { readdirSync } from 'node:fs';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/browser';
const dir = process.argv[2]!;
const out = process.argv[3]!;
const port = process.argv[4] ?? '4346';
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(`http://localhost:${port}/?lab=claims&backend=wasm`);
await page.getByTestId('backend').filter({ hasNotText: 'starting' }).waitFor();
for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  await page.locator('input[type=file][accept*="json"]').setInputFiles(`${dir}/${f}`);
  await page.waitForTimeout(300);
}
await page.waitForTimeout(1500);
await page.getByTestId('claims-lab').screenshot({ path: out });
console.log(await page.getByTestId('claim-verdict').allTextContents());
await browser.close();
