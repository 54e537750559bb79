/**
 * Shared e2e fixtures. Every test fails if the page or its engine worker logs a console error or throws:
 * "no console error" is checked everywhere, not in one test.
 */
import { test as base, expect, type Page } from '@playwright/test';

export const SCREENSHOTS = 'test-results/screenshots';

export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(`page: ${m.text()}`));
      page.on('pageerror', (e) => errors.push(`page threw: ${e.message}`));
      page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && errors.push(`worker: ${m.text()}`)));
      await use(errors);
      expect(errors, 'console errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the engine worker has reported which backend runs (software WebGPU can take a while). */
export async function backendSettled(page: Page) {
  const badge = page.getByTestId('backend');
  await expect(badge).not.toContainText('starting', { timeout: 90_000 });
  return badge;
}

/** The query string of the page's address, without "?". */
export function query(page: Page): string {
  return new URL(page.url()).search.replace(/^\?/, '');
}
