import type { Page } from '@playwright/test';
import { UNIT_IDS, UNITS } from '../src/experiment/units';
import { CHART_POINTS } from '../src/ui/chartSeries';
import { backendSettled, expect, openPicker, pickUnit, query, SCREENSHOTS, test } from './fixtures';
import { loadLongHistories, streamPoints, STREAMING_RUN } from './history64k';

// Tiny runs: software WebGPU (SwiftShader) takes seconds per step even for an 8-layer net at batch 4.
const TINY = 'dataset=synthetic&depth=8&batch=4&iters=6&evalEvery=3&testSubset=32&warmupIters=0';

// How long the main thread is busy is a figure of `npm run bench:ui`, never a test: these tests count what the page
// does (renders, points drawn, chunks written) and hold it to what the design promises.

/** Renders of the runs chart so far (RunsChart counts them on its element) and the page's clock, in seconds. */
async function chartRenders(page: Page) {
  const renders = Number(await page.getByTestId('runs-chart').getAttribute('data-renders'));
  return { renders, at: (await page.evaluate(() => performance.now())) / 1000 };
}

/** The chart redraws at most once a second: between two readings, no more renders than whole seconds plus one. */
async function expectThrottled(page: Page, from: { renders: number; at: number }) {
  const to = await chartRenders(page);
  const renders = to.renders - from.renders;
  expect(renders).toBeGreaterThan(0);
  expect(renders).toBeLessThanOrEqual(Math.ceil(to.at - from.at) + 1);
  return renders;
}

/** Points of each drawn curve (Recharts draws a linear curve as M x,y L x,y …). */
const drawnPoints = (page: Page) =>
  page
    .getByTestId('runs-chart')
    .locator('.recharts-line path.recharts-curve')
    .evaluateAll((ps) => ps.map((p) => ((p.getAttribute('d') ?? '').match(/[ML]/g) ?? []).length));

async function runs(page: Page) {
  return page.evaluate(() =>
    (
      window as unknown as {
        playground: {
          getState(): { runs: { status: string; train: unknown[]; evals: unknown[]; config: { unit: string } }[] };
        };
      }
    ).playground
      .getState()
      .runs.map((r) => ({ status: r.status, train: r.train.length, evals: r.evals.length, unit: r.config.unit })),
  );
}

test('each of the 10 unit cards sets the unit in the link, shows its diagram, and survives a reload', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.goto('/?depth=56');
  const picker = await openPicker(page);
  await expect(picker.locator('[data-testid^="unit-card-"][aria-pressed="false"]')).toHaveCount(9);
  await page.screenshot({ path: `${SCREENSHOTS}/variant-picker.png`, fullPage: false });
  for (const id of UNIT_IDS) {
    const card = page.getByTestId(`unit-card-${id}`);
    await pickUnit(page, id);
    await expect(card).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByTestId('current-unit')).toContainText(UNITS[id].title);
    // full-preact is the default unit, so its link does not name it.
    await expect.poll(() => query(page)).toBe(id === 'full-preact' ? 'depth=56' : `unit=${id}&depth=56`);
    await page.reload();
    await expect(card).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByLabel('Unit', { exact: true })).toHaveValue(id);
    await openPicker(page);
    const diagram = card.getByTestId('unit-diagram');
    await expect(diagram).toBeVisible();
    const { each, last, afterAdd } = UNITS[id].structure;
    await expect(diagram.locator('[data-where="branch"]')).toHaveCount(each.length + last.length);
    await expect(diagram.locator('[data-where="after-add"]')).toHaveCount(afterAdd.length);
    await expect(diagram.locator('[data-where="shortcut"]')).toHaveCount(UNITS[id].diagram.onShortcut.length);
    await page.keyboard.press('Escape'); // closes the picker without a choice
    await expect(picker).toBeHidden();
  }
  // Keyboard: a card is a button, reachable with Tab and chosen with Enter.
  await openPicker(page);
  await page.getByTestId('unit-card-original').focus();
  await page.keyboard.press('Enter');
  await expect.poll(() => query(page)).toBe('unit=original&depth=56');
  await expect(picker).toBeHidden();
  await backendSettled(page);
});

test('two tiny runs of different units overlay on one chart; the run list shows, hides, re-runs and deletes', async ({
  page,
}) => {
  test.setTimeout(480_000);
  await page.goto(`/?${TINY}`); // auto: WASM here, WebGPU on a GPU; the chart and list do not depend on it
  await backendSettled(page);
  const status = page.getByTestId('run-status');
  const chart = page.getByTestId('runs-chart');
  const lines = chart.locator('.recharts-line');

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(status).toContainText('finished', { timeout: 240_000 });
  await expect(lines).toHaveCount(2); // training loss and test error
  await pickUnit(page, 'original');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(status).toContainText('running', { timeout: 120_000 });
  await page.screenshot({ path: `${SCREENSHOTS}/second-run-training.png`, fullPage: true });
  await expect(status).toContainText('finished', { timeout: 240_000 });

  const all = await runs(page);
  expect(all.map((r) => [r.unit, r.status, r.evals])).toEqual([
    ['full-preact', 'finished', 2],
    ['original', 'finished', 2],
  ]);
  expect(all.every((r) => r.train > 0)).toBe(true);
  await expect(lines).toHaveCount(4);
  // The chart redraws at most once a second, so the second run's curves may come a redraw after it finished.
  const curves = chart.locator('.recharts-line path.recharts-curve');
  await expect(curves).toHaveCount(4);
  // Each curve is drawn as a path with real points.
  for (const path of await curves.all()) {
    expect(((await path.getAttribute('d')) ?? '').length).toBeGreaterThan(10);
  }
  const legend = page.getByTestId('chart-legend');
  await expect(legend).toContainText('full-preact · ResNet-8');
  await expect(legend).toContainText('original · ResNet-8');
  const strokes = await curves.evaluateAll((ps) => ps.map((p) => p.getAttribute('stroke')));
  expect(new Set(strokes).size).toBe(2); // one colour per run, shared by its two curves
  await page.screenshot({ path: `${SCREENSHOTS}/two-runs-overlaid.png`, fullPage: true });
  // Hovering reads values off the curves.
  await chart.scrollIntoViewIfNeeded();
  const box = (await chart.boundingBox())!;
  let step = 0;
  await expect
    .poll(async () => {
      // The tooltip mounts when the pointer enters; the next move positions it.
      await page.mouse.move(box.x + box.width * (0.6 + 0.01 * (step++ % 5)), box.y + box.height * 0.4);
      return (await chart.locator('.recharts-tooltip-wrapper').textContent()) ?? '';
    })
    .toContain('iteration');
  await chart.screenshot({ path: `${SCREENSHOTS}/chart-tooltip.png` });

  // Log scale and smoothing redraw the same curves.
  await page.getByLabel('Log scale for the loss').check();
  await page.getByLabel('Smoothing').fill('0.6');
  await expect(lines).toHaveCount(4);
  await expect(chart.locator('.recharts-yAxis').first()).toBeVisible();

  // Hide the first run, then delete it; re-run the second.
  const list = page.getByTestId('runs-list');
  const rows = list.getByTestId('run-row');
  await expect(rows).toHaveCount(2);
  await page.getByLabel('Show full-preact · ResNet-8 on the chart').uncheck();
  await expect(lines).toHaveCount(2);
  await expect(legend).not.toContainText('full-preact');
  await page.getByRole('button', { name: 'Delete full-preact · ResNet-8' }).click();
  await expect(rows).toHaveCount(1);
  await pickUnit(page, 'full-preact');
  await page.getByRole('button', { name: 'Re-run original · ResNet-8' }).click();
  await expect(page.getByTestId('unit-card-original')).toHaveAttribute('aria-pressed', 'true');
  await expect(rows).toHaveCount(2);
  // The re-run trains 6 iterations, about a second on threaded WASM: Stop may come after its end (Stop itself is
  // tested on long runs in train.spec.ts). Either way it ends, as its own row.
  const stop = page.getByRole('button', { name: 'Stop', exact: true });
  if (await stop.isEnabled()) await stop.click({ timeout: 5_000 }).catch(() => undefined);
  await expect(status).toContainText(/stopped|finished/, { timeout: 120_000 });
  await expect(rows).toHaveCount(2);
});

test('a WASM run trains to the end with its chart, progress and run list live; the chart redraws at most once a second', async ({
  page,
}) => {
  test.setTimeout(240_000);
  await page.goto(
    '/?dataset=synthetic&depth=8&batch=8&iters=200&evalEvery=50&testSubset=64&warmupIters=0&backend=wasm',
  );
  await backendSettled(page);
  const status = page.getByTestId('run-status');
  const from = await chartRenders(page);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(status).toContainText('finished', { timeout: 200_000 });
  await expect(page.getByTestId('runs-list')).toContainText('200 / 200 it');
  const points = (await runs(page))[0]!.train;
  expect(points).toBeGreaterThan(10); // many updates came in…
  const renders = await expectThrottled(page, from); // …and the chart took at most one a second
  console.log(`${points} training points, ${renders} chart renders`);
  expect((await drawnPoints(page)).every((n) => n > 1)).toBe(true);
});

test('a 64,000-iteration run streaming in beside two finished ones: thinned to the point budget, redrawn at most once a second, saved one chunk at a time', async ({
  page,
}) => {
  test.setTimeout(120_000);
  // Every history chunk the page writes to IndexedDB: which run, which history, which chunk, how many points.
  await page.addInitScript(() => {
    type Put = { runId: string; kind: string; index: number; points: number };
    const w = window as unknown as { puts: Put[] };
    w.puts = [];
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'history') {
        const v = value as { runId: string; kind: string; index: number; points: unknown[] };
        w.puts.push({ runId: v.runId, kind: v.kind, index: v.index, points: v.points.length });
      }
      return put.call(this, value, key);
    };
  });
  type Put = { runId: string; kind: string; index: number; points: number };
  const puts = () => page.evaluate(() => (window as unknown as { puts: Put[] }).puts);
  const lastTrainChunk = (ps: Put[], runId: string) =>
    ps.filter((p) => p.runId === runId && p.kind === 'train' && p.index === 62).at(-1)?.points;

  await page.goto('/?depth=110');
  await backendSettled(page);
  await loadLongHistories(page);
  const chart = page.getByTestId('runs-chart');
  await expect(chart.locator('.recharts-line')).toHaveCount(6);
  await page.getByLabel('Log scale for the loss').check();
  await page.getByLabel('Smoothing').fill('0.6');
  // Saved whole once: 63 chunks of 1,024 points per training history (the last holds 64,000 − 62·1,024 = 512).
  await expect
    .poll(async () => {
      const ps = await puts();
      return ['big-0', 'big-1', 'big-2'].map((id) => lastTrainChunk(ps, id));
    })
    .toEqual([512, 512, 512]);
  await page.evaluate(() => ((window as unknown as { puts: Put[] }).puts = []));

  const from = await chartRenders(page);
  await streamPoints(page, 40);
  // The last point lands, drawn (trailing redraw) and saved (next batched write).
  await expect(page.getByTestId('runs-list')).toContainText('68,000 / 128,000');
  await expect.poll(async () => lastTrainChunk(await puts(), STREAMING_RUN)).toBe(512 + 40);
  // Thinned: every training-loss curve of 64,000 points is drawn with the chart's point budget; the 160–170
  // evaluations as they are, the streaming run's up to its last (the trailing redraw).
  await expect
    .poll(async () => {
      const drawn = await drawnPoints(page);
      return [drawn.filter((n) => n === CHART_POINTS).length, ...drawn.filter((n) => n !== CHART_POINTS).sort()];
    })
    .toEqual([3, 160, 160, 170]);
  const renders = await expectThrottled(page, from);

  // Saving wrote only the streaming run's newest chunks: training chunk 62, evaluation chunk 0, at most once a save.
  const written = await puts();
  console.log(`40 points streamed in: ${renders} chart renders, ${written.length} history chunks written`);
  expect(new Set(written.map((p) => `${p.runId}:${p.kind}:${p.index}`))).toEqual(
    new Set([`${STREAMING_RUN}:train:62`, `${STREAMING_RUN}:evals:0`]),
  );
  const seconds = (await chartRenders(page)).at - from.at;
  expect(written.filter((p) => p.kind === 'train').length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);

  await page.screenshot({ path: `${SCREENSHOTS}/history-64k.png`, fullPage: false });
});

test('Copy link copies the experiment; with "starts the run" the opened link trains at once', async ({
  page,
  context,
}) => {
  test.setTimeout(180_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto(`/?${TINY}&backend=wasm`);
  await backendSettled(page);
  const share = page.getByTestId('share');
  await share.getByRole('button', { name: 'Copy link' }).click();
  await expect(share).toContainText('Link copied.');
  const plain = await page.evaluate(() => navigator.clipboard.readText());
  expect(new URL(plain).search).toBe(`?${query(page)}`);

  await share.getByLabel('starts the run when opened').check();
  await share.getByRole('button', { name: 'Copy link' }).click();
  const auto = await page.evaluate(() => navigator.clipboard.readText());
  expect(auto).toBe(`${plain}&autostart=1`);

  // Opening a plain link never starts a run.
  await page.goto(plain);
  await backendSettled(page);
  await page.waitForTimeout(1000);
  expect(await runs(page)).toEqual([]);

  await page.goto(auto);
  await expect(page.getByTestId('run-status')).toContainText(/starting|running|finished/, { timeout: 60_000 });
  // The address bar keeps the experiment but drops the action, so a reload does not start another run.
  expect(query(page)).not.toContain('autostart');
  await page
    .getByRole('button', { name: 'Stop', exact: true })
    .click({ timeout: 5000 })
    .catch(() => undefined);
  await expect(page.getByTestId('run-status')).toContainText(/stopped|finished/, { timeout: 120_000 });
});

test('presets set the protocol and keep the unit; the quick demo is marked current', async ({ page }) => {
  await page.goto('/?unit=original');
  const presets = page.getByTestId('presets');
  await presets.getByRole('button', { name: /Quick demo/ }).click();
  await expect(presets.getByRole('button', { name: /Quick demo/ })).toHaveAttribute('aria-pressed', 'true');
  await expect
    .poll(() => query(page))
    .toBe(
      'unit=original&depth=8&dataset=synthetic&testSubset=500&batch=32&iters=300&milestones=200&warmupIters=0&evalEvery=50',
    );
  await presets.getByRole('button', { name: /ResNet-164/ }).click();
  await expect.poll(() => query(page)).toBe('unit=original&depth=164&block=bottleneck&dataset=synthetic');
  await expect(page.getByTestId('params')).toContainText('1,704,154 trainable'); // ResNet-164, original unit;
  await backendSettled(page);
});

test('the layout fits a phone-sized screen without sideways scrolling', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/?${TINY}`);
  await backendSettled(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: `${SCREENSHOTS}/phone.png`, fullPage: true });
});
