/**
 * The PyTorch executor as a user runs it (python3 -m identity_mappings), on a small generated CIFAR-10 copy in the
 * layout `npm run data` writes: the page's data order, crops, flips, normalisation and schedule; the run JSON that
 * the page imports; and one clear sentence, with nothing lost, for each fault.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFFICIAL } from '../src/data/cifar';
import { PAPER_NORMALIZATION, recordSet } from '../src/data/format';
import { augmentWith, drawAugmentation, EpochSampler, gatherBatch, toNormalizedImages } from '../src/data/pipeline';
import { createRng, deriveSeed } from '../src/data/rng';
import { parseQuery, toQuery } from '../src/experiment/codec';
import type { Config } from '../src/experiment/schema';
import { planNetwork, summarizePlan } from '../src/model/plan';
import { exportPlan } from '../src/model/planExport';
import { parseRunsJson } from '../src/persist/exchange';
import { lrAt } from '../src/train/schedule';
import { PYTHON, PYTHON_DIR, readTensors, ROOT, runPython, SKIP_REASON, writeShards } from './torchTesting';

const TRAIN = 50;
const TEST = 30;

function config(query: string): Config {
  const { config, problems } = parseQuery(query);
  expect(problems).toEqual([]);
  return config;
}

const writeDataset = async (dir: string) => (await writeShards(dir, TRAIN, TEST)).get('data_batch_1.bin')!;

describe(`the PyTorch executor${SKIP_REASON}`, () => {
  let dir = '';
  let data = '';
  let trainBytes: Uint8Array = new Uint8Array();
  const plan = (query: string, name = 'plan.json') => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(exportPlan(planNetwork(config(query)))));
    return file;
  };
  const train = (args: string[]) => runPython('identity_mappings', ['train', ...args, '--quiet']);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'torch-executor-'));
    data = join(dir, 'cifar10');
    trainBytes = await writeDataset(data);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!PYTHON)(
    "visits the page's records in its order with its crops, flips, normalisation and learning rates",
    async () => {
      // trainSubset 40 of 50 records, batch 16: epochs end inside batches, as they do in the page.
      const c = config('dataset=cifar10&trainSubset=40&batch=16&seed=7&warmupIters=2&warmupLr=0.02&milestones=4,6');
      const lrChanges = [[5, 0.3]];
      const iters = 7;
      const req = join(dir, 'protocol');
      mkdirSync(req, { recursive: true });
      writeFileSync(join(req, 'request.json'), JSON.stringify({ config: c, iters, lrChanges }));
      rmSync(join(req, 'data'), { recursive: true, force: true });
      await writeDataset(join(req, 'data'));
      const py = runPython('identity_mappings.parity', ['protocol', req]);
      expect(py.status, py.stderr).toBe(0);
      const torch = JSON.parse(readFileSync(join(req, 'protocol.json'), 'utf8')) as {
        steps: { indices: number[]; epoch: number; draws: [number, number, boolean][]; lr: number }[];
        trainRecords: number;
      };
      const batches = readTensors(join(req, 'batches.json')).tensors;
      expect(torch.trainRecords).toBe(TRAIN);

      const set = recordSet(OFFICIAL.cifar10.layout, trainBytes);
      const sampler = new EpochSampler(c.seed, c.trainSubset);
      await tf.setBackend('cpu');
      for (let it = 0; it < iters; it++) {
        const indices = sampler.nextBatch(TRAIN, c.batch);
        const draws = drawAugmentation(c.batch, createRng(deriveSeed(c.seed, 1, it)));
        const step = torch.steps[it]!;
        expect(step.indices, `records of iteration ${it}`).toEqual([...indices]);
        expect(step.epoch).toBe(sampler.epoch);
        expect(step.draws).toEqual(draws.map((d) => [d.oy, d.ox, d.flip]));
        expect(step.lr).toBe(lrAt(c, it, [{ iter: 5, lr: 0.3 }]));
        const { pixels, labels } = gatherBatch(set, indices);
        const images = tf.tidy(() =>
          augmentWith(toNormalizedImages(pixels, c.batch, PAPER_NORMALIZATION.cifar10), draws),
        );
        expect(batches.get(`batch/${it}`)!.data).toEqual(await images.data());
        expect([...batches.get(`labels/${it}`)!.data]).toEqual([...labels]);
        images.dispose();
      }
      expect(new Set(torch.steps.map((s) => Math.floor(s.epoch))).size).toBeGreaterThan(1);
    },
  );

  it.skipIf(!PYTHON)('trains a link and writes the run JSON the page imports', () => {
    const query = 'dataset=cifar10&unit=full-preact&depth=8&batch=8&iters=4&evalEvery=2&testSubset=20&warmupIters=1';
    const out = join(dir, 'run.json');
    const py = train(['--plan', plan(query), '--data', data, '--out', out, '--device', 'cpu', '--lr-change', '3:0.05']);
    expect(py.status, py.stderr).toBe(0);
    expect(py.stdout).toMatch(/^finished on pytorch-cpu \(.+\): final test error \d+\.\d\d%, best/m);
    const text = readFileSync(out, 'utf8');
    const run = JSON.parse(text);
    const c = config(query);
    expect(run).toMatchObject({
      link: `/?${toQuery(c)}`,
      config: c,
      status: 'finished',
      message: null,
      backend: 'pytorch-cpu',
      fallbacks: [],
      params: summarizePlan(planNetwork(c)).trainableParams,
      trainImages: TRAIN,
      testImages: 20,
      processes: 1,
      microBatch: 8,
    });
    expect(run.history.evals.map((e: { iter: number }) => e.iter)).toEqual([2, 4]);
    expect(run.finalTestError).toBe(run.history.evals[1].testError);
    expect(run.bestTestError).toBe(Math.min(...run.history.evals.map((e: { testError: number }) => e.testError)));
    // Set by hand from iteration 3 on, as in the page; the last point gives the rate of the next iteration.
    expect(run.history.lrChanges).toEqual([{ iter: 3, lr: 0.05 }]);
    expect(run.history.train.at(-1).iter).toBe(4);
    expect(run.history.train.at(-1).lr).toBeCloseTo(0.05, 12);
    expect(run.history.train.every((p: { loss: number }) => p.loss > 0 && p.loss < 10)).toBe(true);
    expect(run.signal.map((s: { iter: number }) => s.iter)).toEqual([0, 2, 4]);
    expect(run.signal[0].profile.units).toHaveLength(3);

    const imported = parseRunsJson(text);
    expect(imported.ok, imported.ok ? '' : imported.reason).toBe(true);
    if (!imported.ok) return;
    expect(imported.runs[0]).toMatchObject({
      id: run.id,
      status: 'finished',
      info: { backend: 'pytorch-cpu', adapter: run.adapter, trainableParams: run.params },
    });
    expect(imported.runs[0]!.evals).toHaveLength(2);
    expect(imported.runs[0]!.signals).toHaveLength(3);
    // What the network gets wrong, as npm run experiment writes it: a confusion matrix per evaluation, over the 20
    // evaluated images, and the gallery's predictions (here all 20 images), with the gallery itself.
    const errors = imported.runs[0]!.errors!;
    expect(errors.map((e) => e.iter)).toEqual([2, 4]);
    expect(errors[1]!.confusion).toHaveLength(100);
    expect(errors[1]!.confusion.reduce((a, b) => a + b, 0)).toBe(20);
    const right = errors[1]!.confusion.filter((_, i) => i % 11 === 0).reduce((a, b) => a + b, 0);
    expect(100 - 5 * right).toBeCloseTo(run.finalTestError, 9);
    expect(errors[1]!.predicted).toHaveLength(20);
    expect(imported.runs[0]!.gallery).toMatchObject({ labels: Array.from({ length: 20 }, (_, i) => i % 10) });
    expect(imported.runs[0]!.gallery!.pixels).toHaveLength(20 * 3072);
  });

  it.skipIf(!PYTHON)('resolves a link itself through npm run summary', () => {
    const out = join(dir, 'link.json');
    const link = 'http://localhost:4173/?depth=8&batch=4&iters=1&evalEvery=1&testSubset=10&warmupIters=0';
    const py = train(['--link', link, '--data', data, '--out', out, '--device', 'cpu', '--threads', '1']);
    expect(py.status, py.stderr).toBe(0);
    const run = JSON.parse(readFileSync(out, 'utf8'));
    expect(run.link).toBe('/?depth=8&testSubset=10&batch=4&iters=1&warmupIters=0&evalEvery=1');
    expect(run.adapter).toMatch(/1 thread$/);
  });

  it.skipIf(!PYTHON)('a diverging run ends as diverged, curves and JSON kept, exit status 1', () => {
    const out = join(dir, 'diverged.json');
    const query = 'dataset=cifar10&depth=8&batch=8&iters=50&lr=1000&warmupIters=0&evalEvery=50&testSubset=10';
    const py = train(['--plan', plan(query), '--data', data, '--out', out]);
    expect(py.status).toBe(1);
    expect(py.stderr).toMatch(/^error: run diverged: training loss reached \S+ at iteration \d+$/m);
    const run = JSON.parse(readFileSync(out, 'utf8'));
    expect(run.status).toBe('diverged');
    expect(run.history.train.length).toBeGreaterThan(0);
    expect(parseRunsJson(JSON.stringify(run)).ok).toBe(true);
  });

  it.skipIf(!PYTHON)('SIGTERM (a scheduler ending the job) stops after the iteration and writes the JSON', async () => {
    const out = join(dir, 'stopped.json');
    const query = 'dataset=cifar10&depth=8&batch=4&iters=100000&evalEvery=1&testSubset=4';
    const child = spawn(PYTHON!, ['-m', 'identity_mappings', '--plan', plan(query), '--data', data, '--out', out], {
      cwd: ROOT,
      env: { ...process.env, PYTHONPATH: PYTHON_DIR },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    for (let i = 0; i < 600 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 100)); // first eval
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(1);
    expect(stderr).toMatch(/error: run stopped: stopped at iteration \d+/);
    const run = JSON.parse(readFileSync(out, 'utf8'));
    expect(run.status).toBe('stopped');
    expect(run.history.evals.length).toBeGreaterThan(0);
  });

  it.skipIf(!PYTHON)('refuses a bad link, a corrupt or missing dataset and the demo set in one sentence', () => {
    const out = join(dir, 'never.json');
    const refused = (args: string[], status: number, message: RegExp) => {
      const py = train([...args, '--out', out]);
      expect(py.status, py.stderr).toBe(status);
      expect(py.stderr.trim()).toMatch(message);
      expect(py.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    };
    refused(['--link', 'depth=7&dataset=cifar10'], 2, /^error: the link has refused keys, nothing was run: depth=7: /);
    refused(['--plan', join(dir, 'absent.json')], 2, /^error: cannot read the plan .*absent\.json/);
    const stale = plan('depth=8&dataset=cifar10', 'stale.json');
    writeFileSync(stale, JSON.stringify({ ...JSON.parse(readFileSync(stale, 'utf8')), planVersion: 0 }));
    refused(['--plan', stale], 2, /is plan version 0, this package reads version 1/);
    refused(
      ['--plan', plan('depth=8&dataset=cifar10'), '--data', join(dir, 'nowhere')],
      1,
      /^error: no manifest\.json in /,
    );
    refused(
      ['--plan', plan('depth=8&dataset=cifar100'), '--data', data],
      1,
      /holds cifar10, but the link trains on cifar100/,
    );
    refused(
      ['--plan', plan('depth=8&dataset=synthetic'), '--data', data],
      1,
      /synthetic demo set exists only in the page/,
    );

    const corrupt = join(dir, 'corrupt');
    rmSync(corrupt, { recursive: true, force: true });
    mkdirSync(corrupt);
    for (const f of ['manifest.json', 'train-0.bin', 'test-0.bin'])
      writeFileSync(join(corrupt, f), readFileSync(join(data, f)));
    const bytes = readFileSync(join(corrupt, 'train-0.bin'));
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(join(corrupt, 'train-0.bin'), bytes);
    refused(['--plan', plan('depth=8&dataset=cifar10'), '--data', corrupt], 1, /shard train-0\.bin .* is corrupt/);
  });

  it.skipIf(!PYTHON)('refuses a malformed flag with its usage', () => {
    const py = train(['--plan', plan('depth=8'), '--lr-change', '3', '--out', join(dir, 'never.json')]);
    expect(py.status).toBe(2);
    expect(py.stderr).toMatch(/^usage: /);
    expect(py.stderr.trim().split('\n').at(-1)).toMatch(/argument --lr-change: expected ITER:LR .*got '3'$/);
  });

  it.skipIf(!PYTHON)('refuses a micro-batch that does not divide the batch before running', () => {
    const file = plan('depth=8&dataset=cifar10&batch=8');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.config.microBatch = 3;
    writeFileSync(file, JSON.stringify(doc));
    const py = train(['--plan', file, '--data', data, '--out', join(dir, 'never.json')]);
    expect(py.status).toBe(2);
    expect(py.stderr.trim()).toBe('error: microBatch=3 does not divide the 8 images each process takes of batch=8');
  });

  it.skipIf(!PYTHON)('benchmarks a plan: one JSON line with the steady state from the third iteration', () => {
    const py = runPython('identity_mappings.bench', [
      '--plan',
      plan('depth=8&batch=4'),
      '--iters',
      '3',
      '--threads',
      '1',
    ]);
    expect(py.status, py.stderr).toBe(0);
    const lines = py.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]!);
    expect(r).toMatchObject({ iters: 3, batch: 4, microBatch: 4, threads: 1, device: 'cpu', backend: 'pytorch-cpu' });
    expect(r.stepSeconds).toHaveLength(3);
    expect(r.imagesPerSec).toBeCloseTo(4 / r.stepSeconds[2], 6);
    expect(r.firstStepSeconds).toBe(r.stepSeconds[0]);
    expect(r.params).toBe(summarizePlan(planNetwork(config('depth=8'))).trainableParams);
    const bad = runPython('identity_mappings.bench', ['--plan', plan('depth=8'), '--iters', '2']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--iters needs at least 3/);
  });
});
