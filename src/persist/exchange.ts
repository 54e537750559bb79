/**
 * Runs out of and into the browser: CSV of every metrics point (for plotting elsewhere) and a JSON export that
 * an import reads back whole. The import also reads the run JSON that `npm run experiment` and the PyTorch executor
 * (python/identity_mappings) write, one run per file, so runs trained elsewhere overlay the page's. Pure: no
 * storage, no DOM.
 */
import { z } from 'zod';
import { toQuery } from '../experiment/codec';
import { CLASSES } from '../model/plan';
import { BACKENDS, completeSavedConfig, configSchema } from '../experiment/schema';
import {
  EXTERNAL_BACKENDS,
  type ErrorPoint,
  type Gallery,
  type RecordStatus,
  type RunInfo,
  type RunRecord,
} from '../experiment/record';

export const RUNS_FORMAT = 'identity-mappings-runs';
export const RUNS_VERSION = 1;

export const CSV_HEADER = [
  'run',
  'unit',
  'depth',
  'link',
  'kind',
  'iter',
  'epoch',
  'train_loss',
  'lr',
  'images_per_sec',
  'elapsed_ms',
  'test_error',
  'test_loss',
] as const;

type CsvCell = string | number | undefined;

/** RFC 4180: quote a field holding a comma, quote or line break, doubling its quotes. */
export function csvField(value: CsvCell): string {
  if (value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per metrics point, runs in the given order, each by iteration (train before eval at the same one). */
export function runsToCsv(runs: RunRecord[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const run of runs) {
    const head: CsvCell[] = [run.id, run.config.unit, run.config.depth, toQuery(run.config)];
    const rows: { iter: number; order: number; cells: CsvCell[] }[] = [
      ...run.train.map((p) => ({
        iter: p.iter,
        order: 0,
        cells: ['train', p.iter, p.epoch, p.loss, p.lr, p.imagesPerSec, p.elapsedMs, undefined, undefined],
      })),
      ...run.evals.map((p) => ({
        iter: p.iter,
        order: 1,
        cells: ['eval', p.iter, p.epoch, undefined, undefined, undefined, p.elapsedMs, p.testError, p.testLoss],
      })),
    ];
    // Array.prototype.sort is stable: points of one kind keep their recorded order.
    rows.sort((a, b) => a.iter - b.iter || a.order - b.order);
    for (const r of rows) lines.push([...head, ...r.cells].map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

export interface RunSummary {
  /** The furthest iteration any point reached. */
  iterations: number;
  bestTestError: number | null;
  finalTestError: number | null;
  elapsedMs: number;
}

export function summarizeRun(run: RunRecord): RunSummary {
  const points = [...run.train, ...run.evals];
  const errors = run.evals.map((p) => p.testError).filter(Number.isFinite);
  return {
    iterations: points.reduce((m, p) => Math.max(m, p.iter), 0),
    bestTestError: errors.length ? Math.min(...errors) : null,
    finalTestError: run.evals.at(-1)?.testError ?? null,
    elapsedMs: points.reduce((m, p) => (Number.isFinite(p.elapsedMs) ? Math.max(m, p.elapsedMs) : m), 0),
  };
}

/** JSON has no Infinity or NaN (stringify writes null): a diverged run's losses are written as these strings. */
const NON_FINITE = ['Infinity', '-Infinity', 'NaN'] as const;

export function encodeNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/** Bytes as base64 (the gallery's pixels in the JSON export). */
export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(text: string): Uint8Array {
  const s = atob(text); // throws on anything that is not base64
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * JSON.stringify with an indent, but every array of plain values (a confusion matrix, the gallery's
 * predictions, milestones) on one line: indented one number a line, a CIFAR-100 run's matrices alone would run
 * to 1.6 million lines.
 */
function stringifyCompactArrays(value: unknown, indent: number): string {
  const nonce = Math.random().toString(36).slice(2);
  const inline: string[] = [];
  const text = JSON.stringify(
    value,
    (key, v: unknown) => {
      const encoded = encodeNonFinite(key, v);
      if (Array.isArray(encoded) && encoded.length > 0 && encoded.every((x) => typeof x !== 'object' || x === null)) {
        inline.push(JSON.stringify(encoded, encodeNonFinite));
        return `${nonce}:${inline.length - 1}`;
      }
      return encoded;
    },
    indent,
  );
  return text.replace(new RegExp(`"${nonce}:(\\d+)"`, 'g'), (_, i: string) => inline[Number(i)]!);
}

export function runsToJson(runs: RunRecord[], now: Date = new Date()): string {
  const file = {
    format: RUNS_FORMAT,
    version: RUNS_VERSION,
    exportedAt: now.toISOString(),
    runs: runs.map((r) => ({
      id: r.id,
      link: toQuery(r.config),
      config: r.config,
      status: r.status,
      info: r.info,
      message: r.message,
      startedAt: r.startedAt,
      summary: summarizeRun(r),
      history: { train: r.train, evals: r.evals, lrChanges: r.lrChanges, ...(r.errors && { errors: r.errors }) },
      ...(r.gallery && { gallery: { ...r.gallery, pixels: bytesToBase64(r.gallery.pixels) } }),
    })),
  };
  return stringifyCompactArrays(file, 2);
}

// --- import ---

const IS_ACTIVE: Record<RecordStatus, boolean> = {
  starting: true,
  running: true,
  paused: true,
  finished: false,
  stopped: false,
  diverged: false,
  failed: false,
  interrupted: false,
};
const STATUSES = Object.keys(IS_ACTIVE) as [RecordStatus, ...RecordStatus[]];

/** A metric: a number, or one of the strings runsToJson writes for a non-finite one. */
const metric = z.union([z.number(), z.enum(NON_FINITE).transform(Number)], {
  error: 'must be a number (or "Infinity", "-Infinity", "NaN")',
});
const iter = z.number().int().nonnegative();

const trainPoint = z.object({
  iter,
  epoch: metric,
  loss: metric,
  lr: metric,
  imagesPerSec: metric,
  elapsedMs: metric,
});
const evalPoint = z.object({
  iter,
  epoch: metric,
  testError: metric,
  testLoss: metric,
  tensors: z.number().optional(),
  elapsedMs: metric,
});
const backend = z.enum([...BACKENDS, ...EXTERNAL_BACKENDS]);
const fallbacks = z.array(z.object({ backend, error: z.string() }));
const runMemory = z.object({
  microBatch: z.number(),
  peakBytes: z.number(),
  budgetBytes: z.number(),
  note: z.string(),
});
const runInfo: z.ZodType<RunInfo> = z.object({
  backend,
  adapter: z.string().nullable(),
  threads: z.number().int().positive().optional(),
  fallbacks,
  trainableParams: z.number(),
  trainImages: z.number().optional(),
  testImages: z.number().optional(),
  memory: runMemory.optional(),
});
const history = z.object({
  train: z.array(trainPoint),
  evals: z.array(evalPoint),
  lrChanges: z.array(z.object({ iter, lr: metric })),
});

/** A config written before a key existed holds what that run ran: completed, then checked like any config. */
const savedConfig = z.preprocess((c) => (isObject(c) ? completeSavedConfig(c) : c), configSchema);

const count = z.number().int().nonnegative();
const errorPoint: z.ZodType<ErrorPoint> = z.object({
  iter,
  confusion: z.array(count),
  predicted: z.array(count),
  confidence: z.array(z.number().min(0).max(1)),
});
const PIXEL_BYTES = 3072;
const gallery = z.object({
  classNames: z.array(z.string()),
  classCounts: z.array(count),
  labels: z.array(count),
  pixels: z.string().transform((text, ctx) => {
    try {
      return base64ToBytes(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be base64' });
      return z.NEVER;
    }
  }),
});

/** What a run's errors and gallery must agree on: its dataset's classes, and each other's sizes. */
function checkErrors(
  run: { config: { dataset: keyof typeof CLASSES }; history: { errors?: ErrorPoint[] }; gallery?: Gallery },
  ctx: z.RefinementCtx,
): void {
  const k = CLASSES[run.config.dataset];
  const problem = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const g = run.gallery;
  if (g) {
    if (g.classNames.length !== k) problem(['gallery', 'classNames'], `must name ${k} classes`);
    if (g.classCounts.length !== k) problem(['gallery', 'classCounts'], `must count ${k} classes`);
    if (g.labels.some((l) => l >= k)) problem(['gallery', 'labels'], `must be classes 0…${k - 1}`);
    if (g.pixels.length !== g.labels.length * PIXEL_BYTES)
      problem(['gallery', 'pixels'], `must hold ${g.labels.length} images of ${PIXEL_BYTES} bytes`);
  }
  (run.history.errors ?? []).forEach((e, i) => {
    const at = (key: string) => ['history', 'errors', i, key];
    if (e.confusion.length !== k * k) return problem(at('confusion'), `must hold ${k}×${k} counts`);
    if (e.predicted.some((p) => p >= k)) problem(at('predicted'), `must be classes 0…${k - 1}`);
    if (e.confidence.length !== e.predicted.length) problem(at('confidence'), 'must match predicted in length');
    if (!g) return;
    if (e.predicted.length !== g.labels.length) problem(at('predicted'), 'must match gallery.labels in length');
    const rowsMatch = g.classCounts.every((n, c) => e.confusion.slice(c * k, c * k + k).reduce((a, b) => a + b) === n);
    if (!rowsMatch) problem(at('confusion'), 'row sums must equal gallery.classCounts');
  });
}

const exportedRun = z
  .object({
    id: z.string().min(1, { error: 'must not be empty' }),
    config: savedConfig,
    status: z.enum(STATUSES),
    info: runInfo.optional(),
    message: z.string().optional(),
    startedAt: z.number(),
    history: history.extend({ errors: z.array(errorPoint).optional() }),
    gallery: gallery.optional(),
  })
  .superRefine(checkErrors);

const exportFile = z.object({
  runs: z.array(exportedRun).superRefine((runs, ctx) => {
    const first = new Map<string, number>();
    runs.forEach((r, i) => {
      const j = first.get(r.id);
      if (j === undefined) first.set(r.id, i);
      else ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `same id as runs[${j}]` });
    });
  }),
});

const signalPoint = z.object({
  iter,
  profile: z.object({
    units: z.array(z.object({ unit: z.number(), stage: z.number(), forward: metric, backward: metric })),
    backwardRatio: metric,
    images: z.number(),
  }),
});

/** One run as `npm run experiment` and the PyTorch executor write it (scripts/experiment.ts, python/…/train.py). */
const runResult = z
  .object({
    id: z.string().min(1, { error: 'must not be empty' }).optional(),
    config: savedConfig,
    status: z.enum(STATUSES),
    message: z.string().nullable().optional(),
    // null for a run that ended before its engine started
    backend: backend.nullable(),
    adapter: z.string().nullable(),
    fallbacks: fallbacks.optional(),
    params: z.number().nullable(),
    startedAt: z.number().optional(),
    trainImages: z.number().nullable().optional(),
    testImages: z.number().nullable().optional(),
    // The page's memory plan of the run (npm run experiment); null or absent elsewhere.
    memory: runMemory.nullable().optional(),
    history: history.extend({ errors: z.array(errorPoint).optional() }),
    gallery: gallery.optional(),
    signal: z.array(signalPoint).optional(),
  })
  .superRefine(checkErrors);

function pathText(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(file)';
}

function issueText(issue: z.core.$ZodIssue): string {
  // reportInput gives the value: a key that is absent is named "missing" rather than "received undefined".
  const missing = issue.code === 'invalid_type' && 'input' in issue && issue.input === undefined;
  return `${pathText(issue.path)}: ${missing ? 'missing' : issue.message}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `weights`: the file is a weights manifest (model.json), which belongs to a run's Import weights instead. */
export type ParsedRuns = { ok: true; runs: RunRecord[] } | { ok: false; reason: string; weights?: true };

function invalid(error: z.ZodError): { ok: false; reason: string } {
  const issues = error.issues;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return { ok: false, reason: `${issueText(issues[0]!)}${more}` };
}

/** A stable id for a run JSON that has none: a hash of its text (FNV-1a), so importing it twice names it alike. */
function idOf(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return `run-${(h >>> 0).toString(16).padStart(8, '0')}`;
}

/** Reads one run JSON of `npm run experiment` or the PyTorch executor (no `format` key, a `config` and a `history`). */
function parseRunResult(data: Record<string, unknown>, text: string, now: number): ParsedRuns {
  const parsed = runResult.safeParse(data, { reportInput: true });
  if (!parsed.success) return invalid(parsed.error);
  const r = parsed.data;
  const run: RunRecord = {
    id: r.id ?? idOf(text),
    config: r.config,
    status: IS_ACTIVE[r.status] ? 'interrupted' : r.status,
    train: r.history.train,
    evals: r.history.evals,
    lrChanges: r.history.lrChanges,
    startedAt: r.startedAt ?? now,
    visible: true,
    color: 0,
  };
  if (r.backend !== null && r.params !== null) {
    run.info = { backend: r.backend, adapter: r.adapter, fallbacks: r.fallbacks ?? [], trainableParams: r.params };
    if (typeof r.trainImages === 'number') run.info.trainImages = r.trainImages;
    if (typeof r.testImages === 'number') run.info.testImages = r.testImages;
    if (r.memory) run.info.memory = r.memory;
  }
  if (r.message) run.message = r.message;
  if (r.signal?.length) run.signals = r.signal;
  if (r.history.errors?.length) run.errors = r.history.errors;
  if (r.gallery) run.gallery = r.gallery;
  return { ok: true, runs: [run] };
}

/**
 * Reads a runsToJson export, or one run JSON of `npm run experiment` or the PyTorch executor. Runs keep their history
 * and status, except that a run exported while active is 'interrupted' (nothing is training it here). Colours are
 * the caller's to assign; `now` dates a run JSON that does not say when it started.
 */
export function parseRunsJson(text: string, now: number = Date.now()): ParsedRuns {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not valid JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  if (!isObject(data)) return { ok: false, reason: 'not a runs export: expected a JSON object' };
  if ('weightsManifest' in data) {
    return {
      ok: false,
      weights: true,
      reason: 'a weights file (model.json), not runs: use Import weights… on its run',
    };
  }
  if (data.format === undefined && 'config' in data && 'history' in data) return parseRunResult(data, text, now);
  if (data.format !== RUNS_FORMAT) {
    return {
      ok: false,
      reason:
        data.format === undefined
          ? `not a runs export: format is missing, expected "${RUNS_FORMAT}" (or a run JSON of npm run experiment or the PyTorch executor: config, history, status)`
          : `not a runs export: format is ${JSON.stringify(data.format)}, expected "${RUNS_FORMAT}"`,
    };
  }
  if (data.version !== RUNS_VERSION) {
    return {
      ok: false,
      reason: `unsupported export version ${JSON.stringify(data.version) ?? '(missing)'}: this page reads version ${RUNS_VERSION}`,
    };
  }
  const parsed = exportFile.safeParse(data, { reportInput: true });
  if (!parsed.success) return invalid(parsed.error);
  const runs = parsed.data.runs.map((r): RunRecord => {
    const run: RunRecord = {
      id: r.id,
      config: r.config,
      status: IS_ACTIVE[r.status] ? 'interrupted' : r.status,
      train: r.history.train,
      evals: r.history.evals,
      lrChanges: r.history.lrChanges,
      startedAt: r.startedAt,
      visible: true,
      color: 0,
    };
    if (r.info) run.info = r.info;
    if (r.history.errors) run.errors = r.history.errors;
    if (r.gallery) run.gallery = r.gallery;
    if (r.message !== undefined) run.message = r.message;
    return run;
  });
  return { ok: true, runs };
}
