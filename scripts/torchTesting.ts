/**
 * Test helpers for the PyTorch package (python/identity_mappings): finding a Python with torch, running the
 * package's modules, and tensors in tfjs's weights format, which both sides read and write (src/persist/weights.ts,
 * python/identity_mappings/weights.py). Tests only.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeWeights, type NamedTensor } from '../src/persist/weights';
import { findTorchPython } from './torchPython';

export const ROOT = new URL('..', import.meta.url).pathname;
export const PYTHON_DIR = join(ROOT, 'python');

export const PYTHON = findTorchPython();

/** Why the PyTorch tests are skipped here, in the test's title (empty when they run). */
export const SKIP_REASON = PYTHON
  ? ''
  : ' (SKIPPED: no python3 with torch and numpy found; install python3-torch or set PYTHON=/path/to/python)';

/** Runs `python -m identity_mappings<.module> ...args` with the package on PYTHONPATH. */
export function runPython(
  module: string,
  args: string[],
  options: { cwd?: string; timeout?: number; env?: Record<string, string> } = {},
): SpawnSyncReturns<string> {
  if (!PYTHON) throw new Error('no python3 with torch');
  return spawnSync(PYTHON, ['-m', module, ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: options.timeout ?? 300_000,
    env: { ...process.env, PYTHONPATH: PYTHON_DIR, OMP_NUM_THREADS: '1', ...options.env },
  });
}

/** Writes tensors as `<name>.json` + `<bin>` in `dir` (tfjs's weights format), with metadata. */
export function writeTensors(
  dir: string,
  name: string,
  tensors: NamedTensor[],
  metadata: Record<string, unknown> = {},
  bin = 'weights.bin',
): void {
  const { modelJson, weightsBin } = encodeWeights(tensors, metadata, bin);
  writeFileSync(join(dir, `${name}.json`), modelJson);
  writeFileSync(join(dir, bin), new Uint8Array(weightsBin));
}

/** Reads the tensors of a tfjs weights manifest written by the Python side, by name, and its metadata. */
export function readTensors(modelJson: string): {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, unknown>;
} {
  const doc = JSON.parse(readFileSync(modelJson, 'utf8')) as {
    userDefinedMetadata: Record<string, unknown>;
    weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
  };
  const dir = join(modelJson, '..');
  const out = new Map<string, NamedTensor>();
  for (const group of doc.weightsManifest) {
    const bytes = Buffer.concat(group.paths.map((p) => readFileSync(join(dir, p))));
    const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    let offset = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      out.set(w.name, { name: w.name, shape: w.shape, data: all.slice(offset, offset + n) });
      offset += n;
    }
  }
  return { tensors: out, metadata: doc.userDefinedMetadata };
}

/** max|x|: a tensor's scale. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/**
 * max|a − b| / max(max|b|, floor): the error relative to the reference tensor's scale, or to `floor` where that
 * scale is smaller (a tensor that is zero in exact arithmetic holds only rounding noise, which no scale of its own
 * can measure).
 */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  return diff / Math.max(maxAbs(b), floor);
}
