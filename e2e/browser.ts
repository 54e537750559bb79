import type { Page } from '@playwright/test';
// Debian's Chromium, never a downloaded browser. WebGPU needs --enable-unsafe-webgpu on Linux (headless it runs
// on SwiftShader); the other flags keep Chromium quiet on an offline machine, as root.
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Waits until the page's backend badge has left "starting": the worker's backend answered (ready or failed). */
export async function backendAnswered(page: Page, timeout = 120_000): Promise<void> {
  await page.getByTestId('backend').filter({ hasNotText: 'starting' }).waitFor({ timeout });
}
