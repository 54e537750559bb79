import { describe, expect, it } from 'vitest';
import type { DatasetEntry } from '../data/catalog';
import { parseQuery } from '../experiment/codec';
import { PRESETS } from '../experiment/presets';
import { createPlaygroundStore } from './playground';
import { syncWithEngine } from './sync';
import type { WorkerToPage } from '../worker/protocol';
import { fakeEngine, SYNTHETIC } from './testing';

/** A store wired to a fake worker that records what the page sends and lets the test answer. */
function setup(link = 'dataset=synthetic&depth=8') {
  const { engine, sent, reply, starts, restarts } = fakeEngine();
  const parsed = parseQuery(link);
  const store = createPlaygroundStore(parsed.config);
  store.getState().loadLink(parsed.config, parsed.problems, parsed.actions);
  syncWithEngine(store, engine);
  const backendReady = () =>
    reply({
      type: 'backend-ready',
      report: {
        requested: parsed.config.backend, // what the page asked for: auto unless the link says
        active: 'webgpu',
        adapter: 'test',
        attempts: [],
        checkMs: 1,
        reason: null,
        threads: null,
      },
    });
  return { store, sent, reply, backendReady, starts, restarts };
}

describe('playground store', () => {
  it('starts a run, refuses a second while it is active, and records why', () => {
    const { store, starts } = setup();
    store.getState().setDatasets([SYNTHETIC]);
    expect(store.getState().startRun()).toBeNull();
    expect(store.getState().startRun()).toBe('a run is already in progress');
    expect(store.getState().startProblem).toBe('a run is already in progress');
    expect(starts()).toHaveLength(1);
  });

  it('deletes only ended runs, hides and shows runs, and re-runs a run with its own config', () => {
    const { store, reply, starts } = setup();
    const s = () => store.getState();
    s().setDatasets([SYNTHETIC]);
    s().startRun();
    const first = s().runs[0]!;
    s().deleteRun(first.id);
    expect(s().runs).toHaveLength(1); // still starting: not deleted
    reply({ type: 'run-status', runId: first.id, status: 'finished' });
    s().edit('depth', '14');
    s().setRunVisible(first.id, false);
    expect(s().runs[0]!.visible).toBe(false);
    expect(s().rerun(first.id)).toBeNull();
    expect(s().config.depth).toBe(8);
    expect(starts().at(-1)).toMatchObject({ config: { depth: 8 } });
    const second = s().runs[1]!;
    expect(second.color).not.toBe(first.color);
    reply({ type: 'run-status', runId: second.id, status: 'stopped' });
    s().deleteRun(first.id);
    expect(s().runs.map((r) => r.id)).toEqual([second.id]);
  });

  it('autostart=1 starts one run once the backend and the dataset list are ready', () => {
    const { store, backendReady, starts } = setup('dataset=synthetic&depth=8&autostart=1');
    expect(starts()).toHaveLength(0);
    store.getState().setDatasets([SYNTHETIC]);
    expect(starts()).toHaveLength(0); // backend still starting
    backendReady();
    expect(starts()).toHaveLength(1);
    expect(store.getState().autostartPending).toBe(false);
    backendReady();
    expect(starts()).toHaveLength(1);
  });

  it('without autostart a link never starts a run', () => {
    const { store, backendReady, starts } = setup('dataset=synthetic&depth=8');
    store.getState().setDatasets([SYNTHETIC]);
    backendReady();
    expect(starts()).toHaveLength(0);
  });

  it('autostart of an unavailable dataset says why and does not retry', () => {
    const { store, backendReady, starts } = setup('dataset=cifar10&autostart=1');
    store.getState().setDatasets([SYNTHETIC]);
    backendReady();
    expect(starts()).toHaveLength(0);
    expect(store.getState().startProblem).toMatch(/cifar10 is not available/);
    expect(store.getState().autostartPending).toBe(false);
  });

  it('records the micro-batch the worker chose; a WASM module that ran out of memory is replaced', () => {
    const { store, reply, sent, restarts } = setup('dataset=synthetic&depth=8');
    const s = () => store.getState();
    s().setDatasets([SYNTHETIC]);
    s().startRun();
    const id = s().runs[0]!.id;
    expect(s().runs[0]!.config.microBatch).toBe('auto');
    const memory = { microBatch: 64, peakBytes: 2 ** 30, budgetBytes: 3 * 2 ** 30, note: 'microBatch auto → 64' };
    const info = { backend: 'wasm', adapter: null, fallbacks: [], trainableParams: 1, trainImages: 1, testImages: 1 };
    reply({ type: 'run-status', runId: id, status: 'running', info: { ...info, backend: 'wasm', memory } });
    expect(s().runs[0]!.config.microBatch).toBe(64);
    expect(s().runs[0]!.info?.memory?.note).toBe('microBatch auto → 64');
    reply({ type: 'run-status', runId: id, status: 'failed', message: 'ran out of memory at iteration 3 …' });
    const before = sent.length;
    reply({ type: 'engine-aborted' });
    expect(restarts).toEqual([before]);
    expect(sent.slice(before).map((m) => m.type)).toEqual(['init-backend', 'prepare-dataset']);
  });

  it('applies a preset to the config', () => {
    const { store } = setup('unit=original&dataset=synthetic');
    store.getState().applyPreset(PRESETS.find((p) => p.id === 'paper-110')!);
    expect(store.getState().config).toMatchObject({ unit: 'original', depth: 110, dataset: 'synthetic' });
  });
});

describe('queue and paper lab', () => {
  const finish = (reply: (m: WorkerToPage) => void, store: ReturnType<typeof setup>['store']) => {
    const active = store.getState().runs.find((r) => ['starting', 'running', 'paused'].includes(r.status))!;
    reply({ type: 'run-status', runId: active.id, status: 'finished' });
  };

  it('a lab link queues rows × seeds without starting; Run queue trains them one after another', () => {
    const { store, reply, backendReady, starts } = setup('lab=fig6&quick=1&seeds=2');
    const s = () => store.getState();
    s().setDatasets([SYNTHETIC, { ...SYNTHETIC, dataset: 'cifar10', where: 'server' }]);
    backendReady();
    expect(s().lab).toEqual({ id: 'fig6', quick: true, seeds: 2 });
    expect(s().queue).toHaveLength(8); // 4 rows × 2 seeds
    expect(starts()).toHaveLength(0);
    expect(s().runQueue()).toBeNull();
    expect(starts()).toHaveLength(1);
    expect(s().runs[0]).toMatchObject({ lab: { id: 'fig6', row: 0, quick: true }, config: { seed: 1, iters: 6400 } });
    finish(reply, store);
    expect(starts()).toHaveLength(2);
    expect(s().runs[1]).toMatchObject({ lab: { row: 0 }, config: { seed: 2 } });
    s().stopQueue();
    finish(reply, store);
    expect(starts()).toHaveLength(2); // stopped: the rest waits
    expect(s().queue).toHaveLength(6);
  });

  it('with autostart the lab queue starts by itself; an unavailable dataset stops it with the reason', () => {
    const { store, backendReady, starts } = setup('lab=fig1&autostart=1');
    store.getState().setDatasets([SYNTHETIC]);
    backendReady();
    expect(starts()).toHaveLength(0);
    expect(store.getState().startProblem).toMatch(/cifar10 is not available/);
    expect(store.getState().queue).toHaveLength(2);
    expect(store.getState().queueRunning).toBe(false);
  });

  it('queues seeds 1…n of the current config', () => {
    const { store, reply, starts } = setup('dataset=synthetic&depth=8&seed=9');
    store.getState().setDatasets([SYNTHETIC]);
    store.getState().queueSeeds(3);
    store.getState().runQueue();
    finish(reply, store);
    finish(reply, store);
    expect(starts().map((m) => m.type === 'start-run' && m.config.seed)).toEqual([1, 2, 3]);
  });

  it("sends a run's weights to the worker with its history, and records what the worker measured or why it refused", () => {
    const { store, sent, reply } = setup();
    const s = () => store.getState();
    const imported = {
      id: 'pytorch-1',
      config: s().config,
      status: 'finished' as const,
      train: [{ iter: 6, epoch: 1, loss: 2.1, lr: 0.1, imagesPerSec: 900, elapsedMs: 1234 }],
      evals: [{ iter: 6, epoch: 1, testError: 80, testLoss: 2.2, elapsedMs: 1234 }],
      lrChanges: [],
      startedAt: 1,
      visible: true,
      color: 0,
    };
    s().importRuns([imported]);
    const files = [new File(['{}'], 'run-model.json'), new File([new Uint8Array(4)], 'run-model.bin')];
    expect(s().importWeights('pytorch-1', files)).toBe(
      'synthetic is not available in this page: import it (Datasets) to check the weights on it',
    );
    s().setDatasets([SYNTHETIC]);
    expect(s().importWeights('pytorch-1', files)).toBeNull();
    expect(s().checkingWeights).toEqual({ 'pytorch-1': true });
    expect(sent.at(-1)).toMatchObject({
      type: 'import-weights',
      runId: 'pytorch-1',
      config: imported.config,
      where: 'embedded',
      files,
      history: { train: imported.train, evals: imported.evals, lrChanges: [], signals: [] },
      elapsedMs: 1234,
    });
    const profile = { units: [{ unit: 1, stage: 1, forward: 1, backward: 2 }], backwardRatio: 1, images: 32 };
    const check = {
      iter: 6,
      file: 'run-model.json',
      backend: 'wasm' as const,
      testError: 80,
      testLoss: 2.2,
      testImages: 2,
      signal: profile,
      optimizerState: true,
      checkedAt: 5,
    };
    reply({ type: 'run-weights', runId: 'pytorch-1', checkpoint: { iter: 6, bytes: 100, savedAt: 5 }, check });
    expect(s().checkingWeights).toEqual({});
    expect(s().checkpoints['pytorch-1']).toEqual({ iter: 6, bytes: 100, savedAt: 5 });
    expect(s().runs[0]!.weightsCheck).toEqual(check);
    s().importWeights('pytorch-1', files);
    reply({ type: 'run-weights-failed', runId: 'pytorch-1', message: 'run-model.json: not a weights file' });
    expect(s().runs[0]!.warning).toBe('Weights not imported: run-model.json: not a weights file');
    expect(s().runs[0]!.weightsCheck).toEqual(check); // the earlier check and checkpoint stay
    s().startRun();
    expect(s().importWeights(s().runs[1]!.id, files)).toBe('this run is training: import weights once it has ended');
  });
});

describe('claims lab', () => {
  const CIFAR: DatasetEntry = { ...SYNTHETIC, dataset: 'cifar10', where: 'server' };

  it('lab=claims queues every claim’s runs once each, labelled with their claim, at the claims’ settings', () => {
    const { store, starts } = setup('lab=claims');
    const s = () => store.getState();
    expect(s().lab).toEqual({ id: 'claims', quick: false, seeds: 1 });
    expect(s().queue).toHaveLength(10);
    expect(s().queue[0]).toMatchObject({
      lab: { id: 'claims', claim: 'shortcuts', row: 0 },
      config: { unit: 'original', depth: 56, iters: 200, dataset: 'cifar10', seed: 1 },
    });
    expect(s().queue.map((q) => q.lab?.claim)).toContain('depth');
    expect(starts()).toHaveLength(0);
  });

  it('the link’s changed keys apply over every claim, and an edit re-queues what waits', () => {
    const { store } = setup('lab=claims&seeds=2&dataset=synthetic&iters=6&backend=wasm');
    const s = () => store.getState();
    expect(s().queue).toHaveLength(20);
    expect(s().queue.every((q) => q.config.dataset === 'synthetic' && q.config.iters === 6)).toBe(true);
    expect(s().queue.every((q) => q.config.backend === 'wasm' && q.config.depth !== 20)).toBe(true);
    s().edit('iters', '8');
    expect(s().queue.every((q) => q.config.iters === 8)).toBe(true);
    s().openClaims(); // the claims' own settings, the backend kept
    expect(s().config).toMatchObject({ dataset: 'cifar10', iters: 64_000, backend: 'wasm' });
    expect(s().queue.every((q) => q.config.dataset === 'cifar10' && q.config.iters === 200)).toBe(true);
    expect(s().queue).toHaveLength(20);
  });

  it('Run this claim trains only that claim’s runs not yet done here', () => {
    const { store, reply, starts } = setup('lab=claims&dataset=synthetic');
    const s = () => store.getState();
    s().setDatasets([SYNTHETIC, CIFAR]);
    expect(s().runClaim('bn-after-add')).toBeNull();
    expect(starts().map((m) => m.type === 'start-run' && m.config.unit)).toEqual(['original']);
    expect(s().queue).toHaveLength(1);
    reply({ type: 'run-status', runId: s().runs[0]!.id, status: 'finished' });
    reply({ type: 'run-status', runId: s().runs[1]!.id, status: 'finished' });
    expect(starts().map((m) => m.type === 'start-run' && m.config.unit)).toEqual(['original', 'bn-after-add']);
    expect(s().runClaim('bn-after-add')).toMatch(/every run of this claim has finished/);
    // The shortcut claim shares the original unit's run: four of its five runs are left.
    expect(s().runClaim('shortcuts')).toBeNull();
    expect(starts()).toHaveLength(3);
    expect(s().queue).toHaveLength(3);
  });

  it('a queued claim run that has a result by now (imported, or shared) is not trained again', () => {
    const { store, starts } = setup('lab=claims&dataset=synthetic');
    const s = () => store.getState();
    s().setDatasets([SYNTHETIC, CIFAR]);
    const first = s().queue[0]!.config;
    s().runQueue(); // the first starts at once…
    const imported = { ...s().runs[0]!, id: 'imported', status: 'finished' as const, config: s().queue[0]!.config };
    s().importRuns([imported]); // …and the second arrives by import while it trains: skipped when its turn comes
    const active = s().runs.find((r) => r.status === 'starting')!;
    store.setState({ runs: s().runs.map((r) => (r.id === active.id ? { ...r, status: 'finished' } : r)) });
    const started = starts().map((m) => (m.type === 'start-run' ? m.config.unit : ''));
    expect(started).toEqual([first.unit, 'exclusive-gate']); // scale (row 1) was skipped
  });
});
