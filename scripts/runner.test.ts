/**
 * `npm run experiment` as a user drives it: it leaves nothing running behind it (no server on its port, no browser,
 * no vite process) whether it fails early or is stopped with Ctrl-C; it refuses a port another program answers on;
 * and a dataset converted after the build is served to it without a rebuild. Each test runs the real command
 * (built app, headless Chromium, WASM); the runner is marked by an environment variable its every descendant
 * inherits, so a process it left behind is found even after it was re-parented.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cifarFile } from '../src/data/fixtures';
import { buildIfNeeded, portAnswers } from './serve';

const root = new URL('..', import.meta.url).pathname;
const TINY = 'depth=8&batch=8&warmupIters=0&testSubset=16&backend=wasm';

/** A port nothing listens on now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Processes whose environment carries the mark: the runner and everything it started. */
function marked(mark: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`RUNNER_TEST_MARK=${mark}`)) {
        found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').slice(0, 120)}`);
      }
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

interface Runner {
  pid: number;
  stderr: () => string;
  exited: Promise<number | null>;
  mark: string;
}

const started: Runner[] = [];

/** Starts the runner the way `npm run experiment` does (tsx), with its own mark. */
function runner(args: string[], env: Record<string, string> = {}): Runner {
  const mark = randomUUID();
  const child = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/experiment.ts', ...args], {
    cwd: root,
    env: { ...process.env, ...env, RUNNER_TEST_MARK: mark },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const r = { pid: child.pid!, stderr: () => err, exited, mark };
  started.push(r);
  return r;
}

/** Nothing of the run is left: no process carrying its mark, nothing answering on its port. */
async function nothingLeft(r: Runner, port: number) {
  await expect.poll(() => marked(r.mark), { timeout: 15_000 }).toEqual([]);
  expect(await portAnswers(port)).toBe(false);
}

// Should a test fail half-way, its processes are ended here rather than left to the next test.
afterEach(() => {
  for (const r of started.splice(0)) {
    for (const line of marked(r.mark)) {
      try {
        process.kill(Number(line.split(' ')[0]), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
});

describe('npm run experiment', () => {
  beforeAll(() => {
    process.chdir(root);
    buildIfNeeded(); // so the tests below time the runner, not the build (they would build it the same way)
  }, 300_000);

  it('refuses a port another program answers on, in one sentence, and leaves that program alone', async () => {
    const port = await freePort();
    const other = createHttpServer((_req, res) => res.end('another app')).listen(port);
    try {
      const r = runner([
        `dataset=synthetic&iters=2&${TINY}`,
        '--out',
        join(tmpdir(), 'unused.json'),
        '--port',
        `${port}`,
      ]);
      expect(await r.exited).toBe(1);
      expect(r.stderr().trim()).toBe(
        `error: port ${port} is already in use by another program; pass --port <free port> to serve the app on another one`,
      );
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('another app');
      await expect.poll(() => marked(r.mark)).toEqual([]);
    } finally {
      other.close();
    }
  }, 60_000);

  it('after an early error (a dataset that is not here) no server, browser or vite process is left', async () => {
    const port = await freePort();
    const empty = mkdtempSync(join(tmpdir(), 'no-data-'));
    const r = runner([`dataset=cifar100&iters=2&${TINY}`, '--out', join(empty, 'r.json'), '--port', `${port}`], {
      PLAYGROUND_DATA_DIR: empty,
    });
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toContain('error: the dataset cifar100 is not available in the page (see npm run data)');
    await nothingLeft(r, port);
  }, 180_000);

  it('after Ctrl-C mid-run (SIGINT) no server, browser or vite process is left, and the run so far is written', async () => {
    const port = await freePort();
    const out = join(mkdtempSync(join(tmpdir(), 'sigint-')), 'r.json');
    const r = runner([`dataset=synthetic&iters=100000&evalEvery=100000&${TINY}`, '--out', out, '--port', `${port}`]);
    await expect.poll(() => r.stderr(), { timeout: 150_000 }).toMatch(/iter [1-9][\d,]*\/100,000 .* running/);
    expect(await portAnswers(port)).toBe(true);
    process.kill(r.pid, 'SIGINT'); // the runner only, as killing `npx` did
    expect(await r.exited).toBe(130);
    expect(r.stderr()).toContain(
      `interrupted (SIGINT): the browser and the server are closed; the run so far is in ${out}`,
    );
    await nothingLeft(r, port);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.status).toBe('interrupted');
    expect(result.history.train.length).toBeGreaterThan(0);
  }, 240_000);

  it('build, then npm run data, then a run on that dataset: served with no rebuild, nothing copied into dist/', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'build-data-run-'));
    const built = readFileSync(join(root, 'dist/index.html'), 'utf8');
    mkdirSync(join(dir, 'in'));
    writeFileSync(join(dir, 'in', 'data_batch_1.bin'), cifarFile('cifar10', 64));
    writeFileSync(join(dir, 'in', 'test_batch.bin'), cifarFile('cifar10', 32));
    const data = spawnSync(
      process.execPath,
      ['node_modules/tsx/dist/cli.mjs', 'scripts/data.ts', 'cifar10', '--from', join(dir, 'in')],
      { cwd: root, encoding: 'utf8', env: { ...process.env, PLAYGROUND_DATA_DIR: join(dir, 'data') } },
    );
    expect(data.stderr).not.toMatch(/error/);
    expect(data.stdout).toContain(`64 training and 32 test images in 2 shards → ${join(dir, 'data', 'cifar10')}`);

    const port = await freePort();
    const out = join(dir, 'r.json');
    const r = runner([`dataset=cifar10&iters=4&evalEvery=2&${TINY}`, '--out', out, '--port', `${port}`], {
      PLAYGROUND_DATA_DIR: join(dir, 'data'),
    });
    expect(await r.exited, r.stderr()).toBe(0);
    expect(r.stderr()).not.toContain('building the app');
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result).toMatchObject({ status: 'finished', backend: 'wasm', config: { dataset: 'cifar10', iters: 4 } });
    expect(result.history.evals.map((e: { iter: number }) => e.iter)).toEqual([2, 4]);
    // The build is the one from before the data existed, and it holds no dataset.
    expect(readFileSync(join(root, 'dist/index.html'), 'utf8')).toBe(built);
    expect(existsSync(join(root, 'dist/data'))).toBe(false);
    await nothingLeft(r, port);
  }, 240_000);
});
