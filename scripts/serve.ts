/**
 * The built app, served for the command-line tools (npm run experiment, the benchmarks): built first if the sources
 * changed, then `vite preview` inside this very process, so the server ends with the process on every path (an
 * error, Ctrl-C, a kill). A port that something already answers on is refused, never silently shared.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { preview } from 'vite';

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist/ when it is missing or older than the sources. */
export function buildIfNeeded(): void {
  const built = existsSync('dist/index.html') ? statSync('dist/index.html').mtimeMs : 0;
  const sources = Math.max(newestMtime('src'), statSync('index.html').mtimeMs, statSync('vite.config.ts').mtimeMs);
  if (built > sources) return;
  process.stderr.write('building the app…\n');
  const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error('the build failed');
}

/** Whether anything accepts a connection on the port, on IPv4 or IPv6 loopback ("localhost" may be either). */
export async function portAnswers(port: number): Promise<boolean> {
  const probe = (host: string) =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      const done = (answered: boolean) => {
        socket.destroy();
        resolve(answered);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.setTimeout(2000, () => done(false));
    });
  const [v4, v6] = await Promise.all([probe('127.0.0.1'), probe('::1')]);
  return v4 || v6;
}

export function portInUse(port: number): string {
  return `port ${port} is already in use by another program; pass --port <free port> to serve the app on another one`;
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves dist/ (built first if stale) and the datasets, live, on `port`, in this process. A port something else
 * answers on is refused before anything is built.
 */
export async function serveBuilt(port: number): Promise<Served> {
  if (await portAnswers(port)) throw new Error(portInUse(port));
  buildIfNeeded();
  const server = await preview({ preview: { port, strictPort: true, open: false }, logLevel: 'error' }).catch(
    (e: Error) => {
      throw new Error(/already in use/i.test(e.message) ? portInUse(port) : `could not serve the app: ${e.message}`);
    },
  );
  return { url: `http://localhost:${port}`, close: () => server.close() };
}

/** Ends a tool when its work does: 0 when it resolves, 1 with the error's sentence when it fails. */
export function exitWhenDone(work: Promise<void>): void {
  work.then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(`error: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
