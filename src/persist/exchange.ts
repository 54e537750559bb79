/**
 * Runs out of and into the browser: CSV of every metrics point (for plotting elsewhere) and a JSON export that
 * an import reads back whole. Pure: no storage, no DOM.
 */
import { z } from 'zod';
import { toQuery } from '../experiment/codec';
import { BACKENDS, configSchema } from '../experiment/schema';
import type { RecordStatus, RunInfo, RunRecord } from '../experiment/record';

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
function csvField(value: CsvCell): string {
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

function encodeNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
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
      history: { train: r.train, evals: r.evals, lrChanges: r.lrChanges },
    })),
  };
  return JSON.stringify(file, encodeNonFinite, 2);
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
  tensors: z.number(),
  elapsedMs: metric,
});
const backend = z.enum(BACKENDS);
const runInfo: z.ZodType<RunInfo> = z.object({
  backend,
  adapter: z.string().nullable(),
  threads: z.number().int().positive().optional(),
  fallbacks: z.array(z.object({ backend, error: z.string() })),
  trainableParams: z.number(),
  trainImages: z.number(),
  testImages: z.number(),
});

const exportedRun = z.object({
  id: z.string().min(1, { error: 'must not be empty' }),
  config: configSchema,
  status: z.enum(STATUSES),
  info: runInfo.optional(),
  message: z.string().optional(),
  startedAt: z.number(),
  history: z.object({
    train: z.array(trainPoint),
    evals: z.array(evalPoint),
    lrChanges: z.array(z.object({ iter, lr: metric })),
  }),
});

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

export type ParsedRuns = { ok: true; runs: RunRecord[] } | { ok: false; reason: string };

/**
 * Reads a runsToJson export. Runs keep their history and status, except that a run exported while active is
 * 'interrupted' (nothing is training it here). Colours are the caller's to assign.
 */
export function parseRunsJson(text: string): ParsedRuns {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not valid JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  if (!isObject(data)) return { ok: false, reason: 'not a runs export: expected a JSON object' };
  if (data.format !== RUNS_FORMAT) {
    return {
      ok: false,
      reason: `not a runs export: format is ${JSON.stringify(data.format) ?? 'missing'}, expected "${RUNS_FORMAT}"`,
    };
  }
  if (data.version !== RUNS_VERSION) {
    return {
      ok: false,
      reason: `unsupported export version ${JSON.stringify(data.version) ?? '(missing)'}: this page reads version ${RUNS_VERSION}`,
    };
  }
  const parsed = exportFile.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    return { ok: false, reason: `${issueText(issues[0]!)}${more}` };
  }
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
    if (r.message !== undefined) run.message = r.message;
    return run;
  });
  return { ok: true, runs };
}
