/**
 * Shared e2e fixtures. Every test fails if the page or its engine worker logs a console error or throws:
 * "no console error" is checked everywhere, not in one test.
 */
import { readFileSync } from 'node:fs';
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

/** What a click downloads, saved under test-results. */
export async function downloadOf(page: Page, click: () => Promise<void>) {
  const [file] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = `test-results/${file.suggestedFilename()}`;
  await file.saveAs(path);
  return { name: file.suggestedFilename(), path, text: () => readFileSync(path, 'utf8') };
}

/** Opens the full picker of Figs. 2 and 4 (a dialog over the page). */
export async function openPicker(page: Page) {
  const dialog = page.locator('dialog.picker-dialog');
  if (!(await dialog.isVisible())) await page.getByRole('button', { name: 'Change unit…' }).click();
  await expect(dialog).toBeVisible();
  return dialog;
}

/** Chooses a unit as a user does: open the picker, click its card; choosing closes the picker. */
export async function pickUnit(page: Page, unit: string) {
  const dialog = await openPicker(page);
  await dialog.getByTestId(`unit-card-${unit}`).click();
  await expect(dialog).toBeHidden();
}

/** The query string of the page's address, without "?". */
export function query(page: Page): string {
  return new URL(page.url()).search.replace(/^\?/, '');
}

export interface RunView {
  id: string;
  status: string;
  train: { iter: number; loss: number }[];
  evals: { iter: number; testError: number }[];
}

/** The page's runs and their checkpoints, as its store holds them (window.playground). */
export const runsState = (page: Page) =>
  page.evaluate(() => {
    const s = (
      window as unknown as {
        playground: { getState(): { runs: RunView[]; checkpoints: Record<string, { iter: number; bytes: number }> } };
      }
    ).playground.getState();
    return {
      runs: s.runs.map((r) => ({ id: r.id, status: r.status, train: r.train, evals: r.evals })),
      checkpoints: s.checkpoints,
    };
  });

/** Waits until the page's first run has trained, and checkpointed, at least `iter` iterations. */
export async function untilCheckpointed(page: Page, iter: number) {
  await expect
    .poll(async () => {
      const s = await runsState(page);
      const r = s.runs[0];
      return r && s.checkpoints[r.id] ? Math.min(r.train.at(-1)?.iter ?? 0, s.checkpoints[r.id]!.iter) : 0;
    })
    .toBeGreaterThanOrEqual(iter);
}

/** Presses Start and waits until the run has trained at least one iteration. */
export async function startAndTrainOne(page: Page) {
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-facts')).toContainText(/Iteration\s*[1-9]/, { timeout: 120_000 });
}

/** Sends the engine worker a message as the page would (the diagnostics that simulate a fault). */
export async function sendToEngine(page: Page, message: { type: string }) {
  await page.evaluate(
    (m) =>
      (window as unknown as { playground: { getState(): { engine: { send(m: unknown): void } } } }).playground
        .getState()
        .engine.send(m),
    message,
  );
}
