/**
 * The torchrun command of one experiment, as `npm run torch` runs it and `npm run lab` writes it into job lists
 * and Slurm scripts, and how this checkout finds a Python with PyTorch. One place, so the command users paste into
 * their own job scripts is the one that was tested.
 *
 *   PYTHONPATH=python torchrun --standalone --nproc_per_node=N --redirects 1 --tee 1 \
 *     -m identity_mappings --link '<link>' --data <shards> --out run.json [flags]
 *
 * --standalone: a rendezvous on a free local port, so several jobs on one machine never collide on a port.
 * --redirects 1 --tee 1: torch 1.13's launcher on Python 3.11 (Debian's python3-torch) crashes while parsing its
 * default stream settings (AttributeError: 'NoneType' object has no attribute 'get'); given explicitly they parse.
 * Current torch releases accept the same flags (each process's stdout goes to a log file and to the console,
 * prefixed with its rank).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import type { DatasetId } from '../src/experiment/schema';
import { dataDir } from './datasetServer';

export const ROOT = resolve(new URL('..', import.meta.url).pathname);
export const PACKAGE = 'identity_mappings';

/** Where `npm run data` writes a dataset in this checkout (data/<dataset>, or $PLAYGROUND_DATA_DIR/<dataset>). */
export function datasetDir(dataset: DatasetId): string {
  return join(dataDir(ROOT), dataset);
}

/**
 * The Python to run PyTorch with: $PYTHON when set (and only it: the user chose), else the first of python3 and
 * /usr/bin/python3 that imports torch and numpy (a pyenv or venv python3 on PATH may lack torch); null if none does.
 */
export function findTorchPython(): string | null {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ['python3', '/usr/bin/python3'];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return python;
  }
  return null;
}

/** Why no Python with PyTorch was found, in one sentence. */
export function noTorch(): string {
  const tried = process.env.PYTHON ? `PYTHON=${process.env.PYTHON}` : 'python3 and /usr/bin/python3';
  return `no Python with PyTorch found (${tried} cannot import torch and numpy): install it (Debian/Ubuntu: sudo apt-get install python3-torch; elsewhere pip install torch numpy) or set PYTHON=/path/to/python3`;
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/**
 * How to start torchrun for this Python: `torchrun` when the one on PATH belongs to it, its own torchrun by path
 * when it has one, else `python -m torch.distributed.run` (the same launcher, by PyTorch's documentation).
 */
export function launcherFor(python: string): string[] {
  const bin = python.includes('/') ? python : onPath(python);
  if (bin) {
    const own = join(dirname(realpathSync(bin)), 'torchrun');
    const found = onPath('torchrun');
    if (found && existsSync(own) && realpathSync(found) === realpathSync(own)) return ['torchrun'];
    if (existsSync(own)) return [own];
  }
  return [python, '-m', 'torch.distributed.run'];
}

export interface TorchJob {
  /** The experiment as a query string (canonical: toQuery of its config). */
  link: string;
  /** Shards folder of `npm run data`. */
  data: string;
  out: string;
  /** Processes on this machine: GPUs, or CPU processes. */
  nproc: number;
  /** Flags for the package (e.g. --device cpu, --auto-resume, --sync-bn). */
  extra?: string[];
}

/** The launcher's and the package's arguments for a job (after the launcher itself). */
export function torchrunArgs(job: TorchJob): string[] {
  return [
    '--standalone',
    `--nproc_per_node=${job.nproc}`,
    '--redirects',
    '1',
    '--tee',
    '1',
    '-m',
    PACKAGE,
    '--link',
    job.link,
    '--data',
    job.data,
    '--out',
    job.out,
    ...(job.extra ?? []),
  ];
}

/** The environment the package needs: its folder on PYTHONPATH (relative to the repository root). */
export function torchEnv(root = ROOT): Record<string, string> {
  const path = [join(root, 'python'), process.env.PYTHONPATH].filter(Boolean).join(delimiter);
  return { PYTHONPATH: path };
}

/** A word as the shell reads it: bare when safe, else in single quotes. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The job as one shell line to run from the repository root (what users paste into their own job scripts). */
export function shellCommand(launcher: string[], job: TorchJob): string {
  return ['PYTHONPATH=python', ...launcher, ...torchrunArgs(job)]
    .map((w, i) => (i === 0 ? w : shellQuote(w)))
    .join(' ');
}

/** A path the user typed, from the folder they ran npm in (npm itself runs scripts from the repository root). */
export const fromUser = (p: string) => resolve(process.env.INIT_CWD ?? process.cwd(), p);

/** A path as written in commands: relative to the repository root when inside it, else absolute. */
export function displayPath(path: string, root = ROOT): string {
  const abs = resolve(path);
  const rel = relative(root, abs);
  return rel && !rel.startsWith('..') && !rel.startsWith('/') ? rel : abs;
}
