/**
 * The long-history scene shared by the e2e test (what is drawn and saved) and `npm run bench:ui` (how long the
 * main thread is busy): two finished 64,000-iteration runs and a third, trained by this tab, streaming in beside
 * them. The histories carry one point per iteration (more than the worker ever sends) and the paper's evaluation
 * schedule; they are put straight into the page's store, so this exercises drawing and saving, not training.
 */
import type { Page } from '@playwright/test';

export const STREAMING_RUN = 'big-2';

/** Puts the three runs into the store; this tab takes the lock of the third, as it does for a run it starts. */
export async function loadLongHistories(page: Page): Promise<void> {
  await page.evaluate(async (streaming) => {
    type Store = {
      getState(): { config: object; locks: { claim(id: string): Promise<unknown> } };
      setState(s: object): void;
    };
    const store = (window as unknown as { playground: Store }).playground;
    const config = store.getState().config;
    const runs = ['original', 'bn-after-add', 'full-preact'].map((unit, k) => {
      const train = [];
      for (let i = 1; i <= 64_000; i++) {
        const lr = i < 32_000 ? 0.1 : i < 48_000 ? 0.01 : 0.001;
        const loss = (0.05 + 2 * Math.exp(-i / 4000)) * (lr < 0.1 ? 0.4 : 1) * (1 + 0.2 * Math.sin(i * 7.1 + k));
        train.push({ iter: i, epoch: i / 390, loss, lr, imagesPerSec: 1000, elapsedMs: i * 100 });
      }
      const evals = [];
      for (let i = 400; i <= 64_000; i += 400) {
        const testError = 6 + k + 80 * Math.exp(-i / 3000);
        evals.push({ iter: i, epoch: i / 390, testError, testLoss: 0.3, tensors: 1, elapsedMs: i * 100 });
      }
      const running = k === 2;
      return {
        id: `big-${k}`,
        config: { ...config, unit, iters: running ? 128_000 : 64_000 },
        status: running ? 'running' : 'finished',
        train,
        evals,
        lrChanges: [],
        startedAt: Date.now(),
        visible: true,
        color: k,
      };
    });
    const lease = await store.getState().locks.claim(streaming);
    if (!lease) throw new Error(`the lock of ${streaming} is held elsewhere`);
    store.setState({ runs, nextColor: 3, owned: { [streaming]: true } });
  }, STREAMING_RUN);
}

/** The streaming run gets `n` points, one every 250 ms (the worker's fastest rate), as sync.ts appends them. */
export async function streamPoints(page: Page, n = 40): Promise<void> {
  await page.evaluate(
    ([id, n]) =>
      new Promise<void>((done) => {
        type Run = { id: string; train: { iter: number }[]; evals: { iter: number }[] };
        type Store = { getState(): { updateRun(id: string, f: (r: Run) => Partial<Run>): void } };
        const store = (window as unknown as { playground: Store }).playground;
        let k = 0;
        const timer = setInterval(() => {
          const iter = 64_000 + 100 * ++k;
          store.getState().updateRun(id, (r) => ({
            train: [
              ...r.train,
              { iter, epoch: iter / 390, loss: 0.02, lr: 0.001, imagesPerSec: 1000, elapsedMs: iter * 100 },
            ],
            ...(k % 4 === 0 && {
              evals: [...r.evals, { iter, epoch: iter / 390, testError: 6, testLoss: 0.3, tensors: 1, elapsedMs: 0 }],
            }),
          }));
          if (k === n) {
            clearInterval(timer);
            done();
          }
        }, 250);
      }),
    [STREAMING_RUN, n] as const,
  );
}
