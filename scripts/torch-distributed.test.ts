/**
 * The PyTorch executor on several processes (torchrun, DistributedDataParallel over gloo on the CPU), its
 * checkpoints and its weights, run as users run them on a small generated CIFAR-10 copy:
 * - `batch=16&microBatch=8` computes the same run on one process (two micro-batches) as on two (one each): losses,
 *   test errors and every parameter and BN running average agree within float rounding, and the two replicas are
 *   checked bit for bit equal at the end;
 * - a run stopped at an iteration and resumed (here on another number of processes) continues the same curve;
 * - trained weights leave in the page's weights format and come back by plan name (--init-weights);
 * - each fault (no checkpoint, another experiment's checkpoint, weights of another network) in one sentence.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQuery } from '../src/experiment/codec';
import { planNetwork } from '../src/model/plan';
import { exportPlan } from '../src/model/planExport';
import { encodeWeights } from '../src/persist/weights';
import { PYTHON, readTensors, relativeError, runPython, runTorchrun, SKIP_REASON, writeShards } from './torchTesting';

/** Float32 rounding in a different summation order (the gradient all-reduce, the chunked evaluation). */
const TOLERANCE = 1e-5;

interface RunJson {
  id: string;
  status: string;
  processes: number;
  processGroup: string | null;
  perProcessBatch: number;
  microBatch: number;
  syncBN: boolean;
  replicas: { processes: number; identical: boolean; checked: boolean; maxAbsDiff: number; sha256: string };
  history: {
    train: { iter: number; loss: number }[];
    evals: { iter: number; testError: number; testLoss: number }[];
    errors: { iter: number; confusion: number[]; predicted: number[]; confidence: number[] }[];
  };
  signal: { iter: number; profile: { units: { forward: number; backward: number }[] } }[];
  resumed: { iter: number; processes: number }[];
  checkpoint: { path: string; iter: number } | null;
  weights: string | null;
  initWeights: { link: string; iteration: number } | null;
}

describe(`the PyTorch executor on several processes${SKIP_REASON}`, () => {
  let dir = '';
  let data = '';
  const read = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as RunJson;
  /** A plan file; microBatch is set in its config (the key the page's memory plan adds to links). */
  const plan = (query: string, microBatch: number | null, name: string) => {
    const { config, problems } = parseQuery(query);
    expect(problems).toEqual([]);
    const doc = exportPlan(planNetwork(config));
    if (microBatch !== null) Object.assign(doc.config, { microBatch });
    writeFileSync(join(dir, name), JSON.stringify(doc));
    return join(dir, name);
  };
  const QUERY = 'dataset=cifar10&unit=full-preact&depth=8&batch=16&iters=6&evalEvery=3&testSubset=30&warmupIters=2';
  const common = (file: string, out: string) => ['--plan', file, '--data', data, '--out', join(dir, out), '--quiet'];
  /** Every plan parameter (BN running averages included) of a run's exported weights, momentum aside. */
  const weightsOf = (run: RunJson) =>
    [...readTensors(join(dir, run.weights!)).tensors.values()].filter((t) => !t.name.startsWith('momentum/'));
  const expectSameWeights = (a: RunJson, b: RunJson) => {
    const wb = new Map(weightsOf(b).map((t) => [t.name, t]));
    const wa = weightsOf(a);
    expect(wa.length).toBe(wb.size);
    for (const t of wa) expect(relativeError(wb.get(t.name)!.data, t.data), t.name).toBeLessThan(TOLERANCE);
  };
  const expectSameEvals = (a: RunJson, b: RunJson) => {
    expect(b.history.evals.map((e) => e.iter)).toEqual(a.history.evals.map((e) => e.iter));
    b.history.evals.forEach((e, i) => {
      expect(e.testError).toBe(a.history.evals[i]!.testError);
      expect(Math.abs(e.testLoss - a.history.evals[i]!.testLoss)).toBeLessThan(TOLERANCE);
    });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'torch-distributed-'));
    data = join(dir, 'cifar10');
    await writeShards(data, 64, 30);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!PYTHON)(
    'batch=16&microBatch=8: one process with two micro-batches trains what two processes with one each train',
    () => {
      const file = plan(QUERY, 8, 'micro8.json');
      const one = runPython('identity_mappings', [...common(file, 'one.json'), '--device', 'cpu', '--threads', '1']);
      expect(one.status, one.stderr).toBe(0);
      const two = runTorchrun(2, [...common(file, 'two.json'), '--device', 'cpu']);
      expect(two.status, two.stderr).toBe(0);
      expect(two.stdout).toMatch(/finished on pytorch-cpu \(2 processes × .+\): .*; 2 replicas identical → /);
      const a = read('one.json');
      const b = read('two.json');
      expect(a).toMatchObject({ processes: 1, processGroup: null, perProcessBatch: 16, microBatch: 8, syncBN: false });
      expect(b).toMatchObject({ processes: 2, processGroup: 'gloo', perProcessBatch: 8, microBatch: 8, syncBN: false });
      expect(b.replicas).toMatchObject({ processes: 2, checked: true, identical: true, maxAbsDiff: 0 });
      // The same iterations' mean losses (points are flushed at the same iterations in a run this short).
      expect(b.history.train.map((p) => p.iter)).toEqual(a.history.train.map((p) => p.iter));
      b.history.train.forEach((p, i) =>
        expect(Math.abs(p.loss - a.history.train[i]!.loss) / a.history.train[i]!.loss).toBeLessThan(TOLERANCE),
      );
      expectSameEvals(a, b);
      // What the network gets wrong, gathered from both processes' shares of the test set.
      b.history.errors.forEach((e, i) => {
        const one = a.history.errors[i]!;
        expect([e.iter, e.confusion, e.predicted]).toEqual([one.iter, one.confusion, one.predicted]);
        e.confidence.forEach((p, j) => expect(Math.abs(p - one.confidence[j]!)).toBeLessThanOrEqual(0.001));
      });
      expectSameWeights(a, b); // BN's running averages too: they are folded as one process would update them
      // Without micro-batches, one process normalises over all 16 images: another computation, as it should be.
      const whole = plan(QUERY, null, 'whole.json');
      const w = runPython('identity_mappings', [...common(whole, 'whole.json'), '--device', 'cpu', '--threads', '1']);
      expect(w.status, w.stderr).toBe(0);
      expect(read('whole.json').history.train[0]!.loss).not.toBe(a.history.train[0]!.loss);
    },
  );

  it.skipIf(!PYTHON)(
    'a run stopped at iteration 4 on two processes and resumed on one continues the same curve',
    () => {
      const file = plan(QUERY, 8, 'resume.json');
      const first = runTorchrun(2, [...common(file, 'resumed.json'), '--device', 'cpu', '--stop-at', '4']);
      expect(first.status).not.toBe(0); // stopped is not finished
      const stopped = read('resumed.json');
      expect(stopped).toMatchObject({ status: 'stopped', checkpoint: { path: 'resumed.ckpt.pt', iter: 4 } });
      expect(stopped.replicas.identical).toBe(true);
      expect(existsSync(join(dir, 'resumed.ckpt.pt'))).toBe(true);

      const again = runPython('identity_mappings', [...common(file, 'resumed.json'), '--device', 'cpu', '--resume']);
      expect(again.status, again.stderr).toBe(0);
      const resumed = read('resumed.json');
      expect(resumed).toMatchObject({ id: stopped.id, status: 'finished', resumed: [{ iter: 4, processes: 1 }] });
      const uninterrupted = read('one.json');
      expectSameEvals(uninterrupted, resumed);
      expectSameWeights(uninterrupted, resumed);
      expect(resumed.signal.map((s) => s.iter)).toEqual([0, 3, 6]);

      // Started again on a finished run (a requeued job): nothing is trained, the run JSON stays as it was.
      const done = runPython('identity_mappings', [
        ...common(file, 'resumed.json'),
        '--device',
        'cpu',
        '--auto-resume',
      ]);
      expect(done.status, done.stderr).toBe(0);
      expect(read('resumed.json')).toEqual(resumed);
    },
  );

  it.skipIf(!PYTHON)("weights leave in the page's format and come back by plan name (--init-weights)", () => {
    // one.json's trained weights, rewritten as the page's Weights export writes them (encodeWeights: parameters
    // only, metadata link, config, iteration), start a new run: its signal at iteration 0 is one.json's at the end.
    const trained = readTensors(join(dir, 'one-model.json'));
    expect(trained.metadata).toMatchObject({ iteration: 6, sampler: { size: 64 }, backend: 'pytorch-cpu' });
    const params = [...trained.tensors.values()].filter((t) => !t.name.startsWith('momentum/'));
    const momentum = [...trained.tensors.values()].filter((t) => t.name.startsWith('momentum/'));
    expect(momentum.length).toBeGreaterThan(0);
    const page = encodeWeights(params, { link: 'x', config: trained.metadata.config, iteration: 6 }, 'page.bin');
    writeFileSync(join(dir, 'page-model.json'), page.modelJson);
    writeFileSync(join(dir, 'page.bin'), new Uint8Array(page.weightsBin));
    const file = plan(QUERY, 8, 'init.json');
    const py = runPython('identity_mappings', [
      ...common(file, 'init.json'),
      '--device',
      'cpu',
      '--init-weights',
      join(dir, 'page-model.json'),
    ]);
    expect(py.status, py.stderr).toBe(0);
    const init = read('init.json');
    expect(init.initWeights).toEqual({ link: 'x', iteration: 6 });
    const before = init.signal[0]!.profile.units;
    const after = read('one.json').signal.at(-1)!.profile.units;
    expect(before.map((u) => u.forward)).toEqual(after.map((u) => u.forward));
    expect(before.map((u) => u.backward)).toEqual(after.map((u) => u.backward));
  });

  it.skipIf(!PYTHON)('refuses a missing or foreign checkpoint and weights of another network in one sentence', () => {
    const file = plan(QUERY, 8, 'faults-plan.json');
    const refused = (args: string[], message: RegExp) => {
      const py = runPython('identity_mappings', [...common(file, 'faults.json'), ...args]);
      expect(py.status).toBe(2);
      expect(py.stderr.trim()).toMatch(message);
      expect(py.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(dir, 'faults.json'))).toBe(false);
    };
    refused(['--resume'], /^error: no checkpoint at .*faults\.ckpt\.pt to resume from/);
    // whole.json trained the same link without micro-batches: another experiment.
    refused(
      ['--resume', '--checkpoint', join(dir, 'whole.ckpt.pt')],
      /^error: .*whole\.ckpt\.pt is a checkpoint of another experiment/,
    );
    writeFileSync(join(dir, 'junk.pt'), 'not a checkpoint');
    refused(['--resume', '--checkpoint', join(dir, 'junk.pt')], /^error: .*junk\.pt is not a readable checkpoint/);
    const deeper = plan(QUERY.replace('depth=8', 'depth=14'), 8, 'deeper.json');
    const py = runPython('identity_mappings', [
      ...common(deeper, 'faults.json'),
      '--init-weights',
      join(dir, 'one-model.json'),
    ]);
    expect(py.status).toBe(2);
    expect(py.stderr.trim()).toMatch(
      /^error: the weights .*one-model\.json do not fit this network: they have no s1\.u1\./,
    );
    refused(['--init-weights', join(dir, 'nowhere.json')], /^error: cannot read the weights .*nowhere\.json/);
    refused(['--sync-bn', '--device', 'cpu'], /^error: --sync-bn needs CUDA/);
  });
});
