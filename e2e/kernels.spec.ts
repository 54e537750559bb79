/**
 * Our WebGPU kernels (src/kernels/webgpu) against tfjs's CPU backend, values and gradients, in Chromium's WebGPU
 * (SwiftShader without a GPU: a real WebGPU implementation, correct if slow). The check page is bundled here
 * with Vite and served under the app's origin (a secure context, as WebGPU needs) by request interception.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import type { CheckResult } from '../src/kernels/testing';
import { expect, test } from './fixtures';

test('our WebGPU kernels match the CPU backend: conv filter gradient and batch norm, values and gradients', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'kernels-'));
  await build({
    configFile: false,
    logLevel: 'error',
    build: {
      outDir: dir,
      lib: { entry: 'e2e/kernels/entry.ts', formats: ['es'], fileName: 'kernels' },
      minify: false,
    },
  });
  await page.route('**/__kernels/**', (route) => {
    const file = new URL(route.request().url()).pathname.split('/').pop()!;
    if (file === 'index.html')
      return route.fulfill({
        contentType: 'text/html',
        body: '<!doctype html><script type="module" src="kernels.js"></script>',
      });
    return route.fulfill({ contentType: 'text/javascript', body: readFileSync(join(dir, file)) });
  });
  await page.goto('/__kernels/index.html');
  await page.waitForFunction(() => 'runKernelChecks' in window);
  const { adapter, registered, results } = await page.evaluate(() =>
    (
      window as unknown as {
        runKernelChecks(): Promise<{
          adapter: string;
          registered: { kernel: string; ours: boolean }[];
          results: CheckResult[];
        }>;
      }
    ).runKernelChecks(),
  );
  test.info().annotations.push({ type: 'adapter', description: adapter });
  expect(registered.filter((r) => !r.ours)).toEqual([]);
  expect(results.filter((r) => !r.ok)).toEqual([]);
  expect(results.length).toBeGreaterThan(50);
});
