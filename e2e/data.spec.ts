import { cifarFile, gzip } from '../src/data/fixtures';
import { writeTar } from '../src/data/tar';
import type { Page } from '@playwright/test';
import { backendSettled, expect, query, SCREENSHOTS, test } from './fixtures';

async function smallCifar10Archive(): Promise<Buffer> {
  const tar = writeTar([
    { name: 'cifar-10-batches-bin/data_batch_1.bin', data: cifarFile('cifar10', 40) },
    { name: 'cifar-10-batches-bin/data_batch_2.bin', data: cifarFile('cifar10', 20) },
    { name: 'cifar-10-batches-bin/test_batch.bin', data: cifarFile('cifar10', 20) },
    { name: 'cifar-10-batches-bin/batches.meta.txt', data: new TextEncoder().encode('airplane\n') },
  ]);
  return Buffer.from(await gzip(tar));
}

/** Picks a file named as the official archive in the page's import input, as a user would. */
function importArchive(page: Page, buffer: Buffer) {
  return page
    .getByTestId('import-input')
    .first()
    .setInputFiles({ name: 'cifar-10-binary.tar.gz', mimeType: 'application/gzip', buffer });
}

test.beforeEach(async ({ page }) => {
  // Whatever datasets this checkout's data/ holds, these tests see a server without any.
  await page.route('**/data/index.json', (route) => route.fulfill({ json: { datasets: [] } }));
});

test('a missing dataset is named, and the embedded set is one click away', async ({ page }) => {
  await page.goto('/');
  const notice = page.getByTestId('dataset-missing');
  await expect(notice).toContainText('CIFAR-10 is not available yet');
  await expect(notice.getByText('Import the official tarball…')).toBeVisible();
  await notice.getByRole('button', { name: 'Use the embedded demo set' }).click();
  await expect(notice).toHaveCount(0);
  await expect(page.getByLabel('Dataset', { exact: true })).toHaveValue('synthetic');
  await expect.poll(() => query(page)).toBe('dataset=synthetic');
  await expect(page.getByTestId('engine-dataset')).toContainText(
    'Embedded demo set loaded, 10,000 training and 2,000 test images',
  );
  await backendSettled(page);
});

test('importing the official tarball layout lists the dataset with its image count, also after a reload', async ({
  page,
}) => {
  await page.goto('/');
  await expect(page.getByTestId('dataset-missing')).toBeVisible();
  await importArchive(page, await smallCifar10Archive());
  await expect(page.getByTestId('datasets')).toContainText('Imported CIFAR-10: 60 training and 20 test images');
  const entry = page.getByTestId('dataset-cifar10-browser');
  await expect(entry).toContainText('60 train / 20 test · imported in this browser');
  await expect(page.getByTestId('dataset-missing')).toHaveCount(0);
  // The config asks for CIFAR-10, so the engine loads the new copy at once.
  await expect(page.getByTestId('engine-dataset')).toContainText('CIFAR-10 loaded, 60 training and 20 test images');
  await backendSettled(page);
  await page.screenshot({ path: `${SCREENSHOTS}/imported.png`, fullPage: true });

  await page.reload();
  await expect(page.getByTestId('dataset-cifar10-browser')).toContainText('60 train / 20 test');
  await expect(page.getByTestId('engine-dataset')).toContainText('CIFAR-10 loaded');
  await backendSettled(page);
});

test('a corrupt archive is refused with its reason and nothing is stored', async ({ page }) => {
  await page.goto('/');
  const good = await smallCifar10Archive();
  await importArchive(page, good.subarray(0, Math.floor(good.length / 2)));
  await expect(page.getByTestId('import-error')).toContainText('Import failed, nothing was stored:');
  await page.reload();
  await expect(page.getByTestId('dataset-missing')).toBeVisible();
  await expect(page.getByTestId('dataset-cifar10-browser')).toHaveCount(0);
  await backendSettled(page);
});
