import { describe, expect, it } from 'vitest';
import { toQuery } from '../experiment/codec';
import { defaults } from '../experiment/schema';
import type { RunRecord } from '../experiment/record';
import { bytesToBase64, CSV_HEADER, parseRunsJson, runsToCsv, runsToJson, summarizeRun } from './exchange';

function run(id: string, change: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    config: { ...defaults(), depth: 110, milestones: [100, 200], iters: 300 },
    status: 'finished',
    info: {
      backend: 'webgpu',
      adapter: 'some "gpu", v2',
      fallbacks: [],
      trainableParams: 1_700_000,
      trainImages: 50_000,
      testImages: 10_000,
    },
    train: [
      { iter: 20, epoch: 0.05, loss: 2.1, lr: 0.1, imagesPerSec: 300, elapsedMs: 2000 },
      { iter: 10, epoch: 0.02, loss: 2.3, lr: 0.01, imagesPerSec: 250, elapsedMs: 1000 },
    ],
    evals: [
      { iter: 10, epoch: 0.02, testError: 0.8, testLoss: 2.2, tensors: 40, elapsedMs: 1500 },
      { iter: 20, epoch: 0.05, testError: 0.7, testLoss: 2.0, tensors: 40, elapsedMs: 2500 },
    ],
    lrChanges: [{ iter: 15, lr: 0.05 }],
    startedAt: 1_700_000_000_000,
    visible: true,
    color: 0,
    ...change,
  };
}

/** A CSV line split by RFC 4180 rules (quoted fields may hold commas and doubled quotes). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        s += line.slice(i, q);
        if (line[q + 1] === '"') {
          s += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(s);
      i++; // the comma
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

describe('runsToCsv', () => {
  it('writes one row per point, by run then iteration, train before eval', () => {
    const csv = runsToCsv([run('r1'), run('r,"2"', { train: [], evals: [] }), run('r3', { evals: [] })]);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_HEADER.join(','));
    expect(lines[0]).toBe(
      'run,unit,depth,link,kind,iter,epoch,train_loss,lr,images_per_sec,elapsed_ms,test_error,test_loss',
    );
    const rows = lines.slice(1).map(splitCsvLine);
    expect(rows.every((r) => r.length === CSV_HEADER.length)).toBe(true);
    expect(rows.map((r) => [r[0], r[4], r[5]])).toEqual([
      ['r1', 'train', '10'],
      ['r1', 'eval', '10'],
      ['r1', 'train', '20'],
      ['r1', 'eval', '20'],
      ['r3', 'train', '10'],
      ['r3', 'train', '20'],
    ]);
    const link = toQuery(run('r1').config);
    expect(link).toContain(','); // milestones=100,200: the field must be quoted
    expect(rows[0]).toEqual([
      'r1',
      'full-preact',
      '110',
      link,
      'train',
      '10',
      '0.02',
      '2.3',
      '0.01',
      '250',
      '1000',
      '',
      '',
    ]);
    expect(rows[1]).toEqual(['r1', 'full-preact', '110', link, 'eval', '10', '0.02', '', '', '', '1500', '0.8', '2.2']);
    expect(lines[1]).toContain(`"${link}"`);
    expect(csv.endsWith('\n')).toBe(true);
  });

  it('quotes ids with commas and quotes, and writes non-finite losses', () => {
    const csv = runsToCsv([
      run('a "b", c', {
        evals: [],
        train: [{ iter: 1, epoch: 0, loss: Infinity, lr: 1, imagesPerSec: 1, elapsedMs: 1 }],
      }),
    ]);
    const line = csv.split('\n')[1]!;
    expect(line.startsWith('"a ""b"", c",')).toBe(true);
    expect(splitCsvLine(line)[7]).toBe('Infinity');
  });

  it('gives a header only for no runs', () => {
    expect(runsToCsv([])).toBe(`${CSV_HEADER.join(',')}\n`);
  });
});

describe('runsToJson / parseRunsJson', () => {
  it('round-trips runs, history included, with non-finite losses', () => {
    const diverged = run('d', {
      status: 'diverged',
      message: 'loss became Infinity at iteration 20',
      info: undefined,
      train: [
        { iter: 10, epoch: 0.02, loss: 9e9, lr: 10, imagesPerSec: 250, elapsedMs: 1000 },
        { iter: 20, epoch: 0.05, loss: Infinity, lr: 10, imagesPerSec: 250, elapsedMs: 2000 },
      ],
      evals: [{ iter: 20, epoch: 0.05, testError: 0.9, testLoss: NaN, tensors: 40, elapsedMs: 2100 }],
    });
    delete diverged.info;
    const runs = [run('a'), diverged, run('e', { status: 'failed', train: [], evals: [], lrChanges: [] })];
    const text = runsToJson(runs, new Date('2025-01-02T03:04:05.000Z'));
    expect(text).toContain('\n  "version": 1,');
    expect(text).toContain('"loss": "Infinity"');
    expect(text).toContain('"testLoss": "NaN"');

    const file = JSON.parse(text);
    expect(file.format).toBe('identity-mappings-runs');
    expect(file.exportedAt).toBe('2025-01-02T03:04:05.000Z');
    expect(file.runs[0].link).toBe(toQuery(runs[0]!.config));
    expect(file.runs[0].summary).toEqual({ iterations: 20, bestTestError: 0.7, finalTestError: 0.7, elapsedMs: 2500 });
    expect(file.runs[2].summary).toEqual({ iterations: 0, bestTestError: null, finalTestError: null, elapsedMs: 0 });

    const back = parseRunsJson(text);
    expect(back).toEqual({ ok: true, runs });
    if (!back.ok) return;
    expect(back.runs[1]!.train[1]!.loss).toBe(Infinity);
    expect(back.runs[1]!.evals[0]!.testLoss).toBeNaN();
    expect('info' in back.runs[1]!).toBe(false);
  });

  it('reads an export made before micro-batches: each run ran its whole batch per pass', () => {
    const json = JSON.parse(runsToJson([run('old', { config: { ...defaults(), batch: 32 } })]));
    delete json.runs[0].config.microBatch;
    delete json.runs[0].config.memoryBudget;
    const back = parseRunsJson(JSON.stringify(json));
    expect(back.ok && back.runs[0]!.config).toEqual({ ...defaults(), batch: 32, microBatch: 32 });
  });

  it('makes an active run interrupted, visible, colour 0', () => {
    const runs = [
      run('s', { status: 'starting' }),
      run('r', { status: 'running', visible: false, color: 7 }),
      run('p', { status: 'paused' }),
      run('x', { status: 'stopped' }),
      run('i', { status: 'interrupted' }),
    ];
    const back = parseRunsJson(runsToJson(runs));
    expect(back.ok && back.runs.map((r) => [r.id, r.status, r.visible, r.color])).toEqual([
      ['s', 'interrupted', true, 0],
      ['r', 'interrupted', true, 0],
      ['p', 'interrupted', true, 0],
      ['x', 'stopped', true, 0],
      ['i', 'interrupted', true, 0],
    ]);
  });

  it('summarizes the best and final test error', () => {
    expect(summarizeRun(run('a', { evals: [] }))).toEqual({
      iterations: 20,
      bestTestError: null,
      finalTestError: null,
      elapsedMs: 2000,
    });
  });
});

// Two gallery images, 10 classes: class 0 has 2 test images, class 1 has 1.
const withErrors = () =>
  run('e', {
    config: { ...defaults(), dataset: 'synthetic', depth: 8, iters: 20 },
    errors: [10, 20].map((iter) => ({
      iter,
      confusion: Array.from({ length: 100 }, (_, i) => (i === 0 ? 1 : i === 1 ? 1 : i === 11 ? 1 : 0)),
      predicted: [0, 1],
      confidence: [0.9, 0.123],
    })),
    gallery: {
      classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
      classCounts: [2, 1, 0, 0, 0, 0, 0, 0, 0, 0],
      labels: [0, 0],
      pixels: new Uint8Array(2 * 3072).map((_, i) => (i * 7) % 256),
    },
  });

describe("a run's errors and gallery", () => {
  it('go into the export (pixels as base64, each array on one line) and come back whole', () => {
    const r = withErrors();
    const text = runsToJson([r]);
    const file = JSON.parse(text);
    expect(file.runs[0].history.errors).toHaveLength(2);
    expect(typeof file.runs[0].gallery.pixels).toBe('string');
    expect(text).toContain(`"confusion": [1,1,0,0`);
    expect(text).toContain('"predicted": [0,1]');
    // No line is a bare array element: a 10×10 matrix one number per line would be 100 of them.
    expect(text.split('\n').filter((line) => /^\s*-?[\d.]+,?$/.test(line))).toEqual([]);
    const back = parseRunsJson(text);
    expect(back).toEqual({ ok: true, runs: [r] });
    expect(back.ok && back.runs[0]!.gallery!.pixels).toBeInstanceOf(Uint8Array);
  });

  it('a run without them imports without them', () => {
    const back = parseRunsJson(runsToJson([run('plain')]));
    expect(back.ok && 'errors' in back.runs[0]! && 'gallery' in back.runs[0]!).toBe(false);
  });

  it('are refused, with the reason, where they disagree with the dataset or each other', () => {
    const reason = (change: (f: { runs: Record<string, any>[] }) => void) => {
      const f = JSON.parse(runsToJson([withErrors()]));
      change(f);
      const r = parseRunsJson(JSON.stringify(f));
      return r.ok ? 'accepted' : r.reason;
    };
    expect(reason((f) => f.runs[0]!.history.errors[1].confusion.pop())).toBe(
      'runs[0].history.errors[1].confusion: must hold 10×10 counts',
    );
    expect(reason((f) => (f.runs[0]!.history.errors[0].confusion[1] = 2))).toBe(
      'runs[0].history.errors[0].confusion: row sums must equal gallery.classCounts',
    );
    expect(reason((f) => (f.runs[0]!.history.errors[0].predicted[0] = 10))).toBe(
      'runs[0].history.errors[0].predicted: must be classes 0…9',
    );
    expect(reason((f) => f.runs[0]!.history.errors[0].confidence.pop())).toBe(
      'runs[0].history.errors[0].confidence: must match predicted in length',
    );
    expect(reason((f) => (f.runs[0]!.history.errors[0].confidence[0] = 1.5))).toMatch(
      /^runs\[0\]\.history\.errors\[0\]\.confidence\[0\]: /,
    );
    expect(reason((f) => (f.runs[0]!.gallery.pixels = 'not base64!'))).toBe('runs[0].gallery.pixels: must be base64');
    expect(reason((f) => (f.runs[0]!.gallery.pixels = f.runs[0]!.gallery.pixels.slice(0, 4096)))).toBe(
      'runs[0].gallery.pixels: must hold 2 images of 3072 bytes',
    );
    expect(reason((f) => f.runs[0]!.gallery.classNames.pop())).toBe('runs[0].gallery.classNames: must name 10 classes');
  });
});

describe('parseRunsJson refuses bad input with a reason', () => {
  const good = () => JSON.parse(runsToJson([run('a'), run('b'), run('c')]));
  const reason = (input: unknown) => {
    const r = parseRunsJson(typeof input === 'string' ? input : JSON.stringify(input));
    expect(r.ok).toBe(false);
    return r.ok ? '' : r.reason;
  };

  it('malformed JSON', () => {
    expect(reason('{"format": ')).toMatch(/^not valid JSON \(/);
  });

  it('not an object, wrong format, wrong version', () => {
    expect(reason([1, 2])).toBe('not a runs export: expected a JSON object');
    // A sweep's folder holds weights files beside the run JSONs: named as such, for the page to skip.
    const weights = parseRunsJson(JSON.stringify({ weightsManifest: [], userDefinedMetadata: {} }));
    expect(weights).toEqual({
      ok: false,
      weights: true,
      reason: 'a weights file (model.json), not runs: use Import weights… on its run',
    });
    expect(reason({ ...good(), format: 'something-else' })).toBe(
      'not a runs export: format is "something-else", expected "identity-mappings-runs"',
    );
    const { format: _, ...noFormat } = good();
    expect(reason(noFormat)).toMatch(/format is missing/);
    expect(reason({ ...good(), version: 2 })).toBe('unsupported export version 2: this page reads version 1');
  });

  it('missing runs', () => {
    const { runs: _, ...noRuns } = good();
    expect(reason(noRuns)).toBe('runs: missing');
  });

  it('a bad config names the run and key', () => {
    const f = good();
    f.runs[2].config.depth = 33;
    expect(reason(f)).toMatch(/^runs\[2\]\.config\.depth: /);
    const g = good();
    g.runs[1].config.batch = 'many';
    expect(reason(g)).toBe('runs[1].config.batch: must be a number');
    const h = good();
    h.runs[0].config.colour = 'red';
    expect(reason(h)).toMatch(/^runs\[0\]\.config: .*colour/);
    const k = good();
    delete k.runs[0].config;
    expect(reason(k)).toBe('runs[0].config: missing');
  });

  it('missing or broken history', () => {
    const f = good();
    delete f.runs[1].history;
    expect(reason(f)).toBe('runs[1].history: missing');
    const g = good();
    delete g.runs[0].history.evals;
    expect(reason(g)).toBe('runs[0].history.evals: missing');
    const h = good();
    h.runs[0].history.train[1].loss = 'lots';
    expect(reason(h)).toBe('runs[0].history.train[1].loss: must be a number (or "Infinity", "-Infinity", "NaN")');
  });

  it('unknown status, missing id, duplicate ids', () => {
    const f = good();
    f.runs[0].status = 'exploded';
    expect(reason(f)).toMatch(/^runs\[0\]\.status: /);
    const g = good();
    delete g.runs[2].id;
    expect(reason(g)).toBe('runs[2].id: missing');
    const h = good();
    h.runs[2].id = 'a';
    expect(reason(h)).toBe('runs[2].id: same id as runs[0]');
  });

  it('counts further problems', () => {
    const f = good();
    delete f.runs[0].history;
    delete f.runs[1].history;
    delete f.runs[2].history;
    expect(reason(f)).toBe('runs[0].history: missing (and 2 more problems)');
  });
});

describe('parseRunsJson reads the run JSON of npm run experiment and of the PyTorch executor', () => {
  /** A run as scripts/experiment.ts and python/identity_mappings/train.py write it. */
  const runJson = (change: Record<string, unknown> = {}) => {
    const r = run('x');
    return {
      link: `/?${toQuery(r.config)}`,
      config: r.config,
      status: 'finished',
      message: null,
      backend: 'pytorch-cuda',
      adapter: 'NVIDIA H100 80GB HBM3',
      fallbacks: [],
      params: 1_727_962,
      finalTestError: 0.7,
      bestTestError: 0.7,
      history: {
        train: r.train,
        evals: r.evals.map(({ tensors: _, ...e }) => e), // torch has no tfjs tensor count
        lrChanges: [],
      },
      signal: [
        {
          iter: 0,
          profile: {
            units: [{ unit: 1, stage: 1, forward: 30, backward: 0.02 }],
            backwardRatio: 1,
            images: 32,
          },
        },
      ],
      trainImages: 50_000,
      testImages: 10_000,
      device: 'cuda:0',
      ...change,
    };
  };

  it('imports a PyTorch run with its backend, device, history and signal profile', () => {
    const text = JSON.stringify(runJson({ startedAt: 1_800_000_000_000, id: 'pytorch-1' }));
    const back = parseRunsJson(text);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    const [r] = back.runs;
    expect(r).toMatchObject({
      id: 'pytorch-1',
      status: 'finished',
      startedAt: 1_800_000_000_000,
      visible: true,
      info: {
        backend: 'pytorch-cuda',
        adapter: 'NVIDIA H100 80GB HBM3',
        fallbacks: [],
        trainableParams: 1_727_962,
        trainImages: 50_000,
        testImages: 10_000,
      },
    });
    expect(r!.evals).toEqual(runJson().history.evals);
    expect(r!.signals).toEqual(runJson().signal);
  });

  it('names a run JSON without id by its content and dates it by the import', () => {
    const text = JSON.stringify(runJson({ status: 'running', signal: [] }));
    const a = parseRunsJson(text, 42);
    const b = parseRunsJson(text, 43);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.runs[0]!.id).toMatch(/^run-[0-9a-f]{8}$/);
    expect(a.runs[0]!.id).toBe(b.runs[0]!.id);
    expect(a.runs[0]!.startedAt).toBe(42);
    expect(a.runs[0]!.status).toBe('interrupted'); // nothing trains it here
    expect('signals' in a.runs[0]!).toBe(false);
  });

  it('reads npm run experiment output: a tfjs backend, tensor counts, a run that never started, non-finite losses', () => {
    const memory = { microBatch: 64, peakBytes: 2e9, budgetBytes: 3.8e9, note: 'microBatch auto → 64: …' };
    const tfjs = parseRunsJson(JSON.stringify(runJson({ backend: 'wasm', adapter: null, history: run('w'), memory })));
    expect(tfjs.ok && tfjs.runs[0]!.info?.backend).toBe('wasm');
    expect(tfjs.ok && tfjs.runs[0]!.info?.memory).toEqual(memory); // how its micro-batch was chosen
    // A PyTorch run JSON of a config written before microBatch existed: what it ran, the whole batch per pass.
    const { microBatch: _m, ...older } = runJson().config;
    const old = parseRunsJson(JSON.stringify(runJson({ config: older })));
    expect(old.ok && old.runs[0]!.config.microBatch).toBe(older.batch);
    const failed = runJson({ status: 'failed', message: 'no backend', backend: null, params: null });
    const none = parseRunsJson(JSON.stringify(failed));
    expect(none.ok && none.runs[0]).toMatchObject({ status: 'failed', message: 'no backend' });
    expect(none.ok && 'info' in none.runs[0]!).toBe(false);
    const diverged = runJson({ status: 'diverged' });
    diverged.history.train[1] = { ...diverged.history.train[1]!, loss: 'NaN' as unknown as number };
    const d = parseRunsJson(JSON.stringify(diverged));
    expect(d.ok && d.runs[0]!.train[1]!.loss).toBeNaN();
  });

  it('reads the errors and gallery npm run experiment writes, and refuses them where they disagree', () => {
    const e = withErrors();
    const data = runJson({
      config: e.config,
      backend: 'wasm',
      adapter: null,
      history: { train: e.train, evals: e.evals, lrChanges: [], errors: e.errors },
      gallery: { ...e.gallery, pixels: bytesToBase64(e.gallery!.pixels) },
    });
    const back = parseRunsJson(JSON.stringify(data));
    expect(back.ok && back.runs[0]!.errors).toEqual(e.errors);
    expect(back.ok && back.runs[0]!.gallery).toEqual(e.gallery);
    const broken = JSON.parse(JSON.stringify(data));
    broken.history.errors[0].confusion.pop();
    const bad = parseRunsJson(JSON.stringify(broken));
    expect(!bad.ok && bad.reason).toBe('history.errors[0].confusion: must hold 10×10 counts');
  });

  it('refuses a run JSON with a bad field, saying which', () => {
    const reason = (data: unknown) => {
      const r = parseRunsJson(JSON.stringify(data));
      return r.ok ? '' : r.reason;
    };
    expect(reason(runJson({ backend: 'tpu' }))).toMatch(/^backend: /);
    expect(reason(runJson({ config: { ...run('x').config, depth: 7 } }))).toMatch(/^config\.depth: /);
    const { history: _, ...noHistory } = runJson();
    expect(reason(noHistory)).toMatch(/format is missing, .*run JSON/);
  });
});
