import { backendSettled, expect, runsState, SCREENSHOTS, test, untilCheckpointed } from './fixtures';

// WASM: about 100 iterations in 10 s here; checkpoints every 0.6 s of training.
const LINK =
  '/?dataset=synthetic&depth=8&batch=8&iters=300&evalEvery=100&testSubset=64&warmupIters=0&checkpointMinutes=0.01&backend=wasm';

const increasing = (iters: number[]) => iters.every((it, i) => i === 0 || it > iters[i - 1]!);

test('a run belongs to the tab that trains it: another tab shows it live, and takes it over only once that tab is closed', async ({
  page: a,
  context,
}) => {
  test.setTimeout(180_000);
  await a.goto(LINK);
  await backendSettled(a);
  await a.getByRole('button', { name: 'Start', exact: true }).click();
  await untilCheckpointed(a, 20);

  // Tab B: same browser, same storage. It shows A's run live, with neither Resume nor Delete.
  const b = await context.newPage();
  const errors: string[] = [];
  b.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  b.on('pageerror', (e) => errors.push(e.message));
  await b.goto('/?dataset=synthetic&depth=8&backend=wasm');
  const row = b.getByTestId('run-row');
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute('data-elsewhere', 'true');
  await expect(row).toHaveAttribute('data-status', 'running');
  await expect(row.getByRole('cell', { name: 'training in another tab' })).toBeVisible();
  await expect(row.getByRole('button', { name: /^Resume/ })).toHaveCount(0);
  await expect(row.getByRole('button', { name: /^Delete full-preact/ })).toHaveCount(0);
  await expect(b.getByTestId('run-status')).toContainText(/^ready/); // B's Train panel: B trains nothing
  const iterShown = async () =>
    Number(/([\d,]+) \/ 300 it/.exec((await row.textContent()) ?? '')?.[1]?.replace(/,/g, ''));
  const seen = await iterShown();
  await expect.poll(iterShown).toBeGreaterThan(seen); // live: the iteration moves
  await expect(b.getByTestId('runs-chart').locator('.recharts-line path.recharts-curve').first()).toHaveAttribute(
    'd',
    /L/,
  );
  await b.locator('.results').screenshot({ path: `${SCREENSHOTS}/tab-b-live.png` });

  // A closes mid-run: B sees the run interrupted, with every point A had, and can resume it.
  const before = (await runsState(a)).runs[0]!;
  expect(before.status).toBe('running');
  await a.close();
  await expect(row).toHaveAttribute('data-status', 'interrupted');
  await expect(row).not.toHaveAttribute('data-elsewhere', /.*/);
  const interrupted = (await runsState(b)).runs[0]!;
  expect(interrupted.train.slice(0, before.train.length)).toEqual(before.train); // no hole
  expect(increasing(interrupted.train.map((p) => p.iter))).toBe(true); // no duplicate
  const from = (await runsState(b)).checkpoints[before.id]!.iter;
  await backendSettled(b);
  await row.getByRole('button', { name: /^Resume/ }).click();
  await expect(row).toHaveAttribute('data-status', 'finished', { timeout: 120_000 });
  const done = (await runsState(b)).runs[0]!;
  const iters = done.train.map((p) => p.iter);
  expect(increasing(iters)).toBe(true);
  expect(iters.some((it) => it <= from) && iters.some((it) => it > from)).toBe(true);
  expect(iters.at(-1)).toBe(300);
  expect(errors).toEqual([]);
});
