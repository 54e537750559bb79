/**
 * Value types of experiment keys: how a value is read from a link, validated, written back, and described.
 *
 * Reading is two steps: syntax (is "abc" a number at all?) by hand, then bounds by zod, so that a config
 * that arrives as JSON (an imported run, a worker message) is checked by the very same zod schema.
 */
import { z } from 'zod';

export type Parsed<V> = { ok: true; value: V } | { ok: false; reason: string };

/** What the UI needs to draw an input for a value type, without knowing the type's code. */
export type InputHint =
  | { kind: 'enum'; options: readonly string[] }
  /** auto: the word "auto" is a value too (typed in a text box). */
  | { kind: 'number'; integer: boolean; min: number; max: number; auto?: boolean }
  | { kind: 'bool' }
  | { kind: 'list' };

export interface FieldType<V> {
  /** Validates a typed value (bounds, options). */
  readonly zod: z.ZodType<V>;
  /** Text of a link → value; never throws. */
  parse(raw: string): Parsed<V>;
  /** Value → text of a link; parse(format(v)) gives v back for every valid v. */
  format(value: V): string;
  /** Human-readable bounds, e.g. "1 – 1024" (for help text and the README). */
  readonly bounds: string;
  readonly input: InputHint;
  equals(a: V, b: V): boolean;
}

// `+ 0` below turns -0 into 0: one value, one spelling in links.
const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function check<V>(schema: z.ZodType<V>, value: unknown): Parsed<V> {
  const r = schema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, reason: r.error.issues[0]?.message ?? 'invalid' };
}

const same = <V>(a: V, b: V) => a === b;

export function intType(min: number, max: number): FieldType<number> {
  const zod = z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });
  return {
    zod,
    parse: (raw) =>
      INT_RE.test(raw.trim()) ? check(zod, Number(raw) + 0) : { ok: false, reason: 'must be a whole number' },
    format: (v) => String(v),
    bounds: `${min} – ${max}`,
    input: { kind: 'number', integer: true, min, max },
    equals: same,
  };
}

export function floatType(min: number, max: number, opts: { exclusiveMin?: boolean } = {}): FieldType<number> {
  const zod = z
    .number({ error: 'must be a number' })
    .refine(Number.isFinite, { error: 'must be a finite number' })
    .refine((v) => (opts.exclusiveMin ? v > min : v >= min), {
      error: opts.exclusiveMin ? `must be greater than ${min}` : `must be at least ${min}`,
    })
    .refine((v) => v <= max, { error: `must be at most ${max}` });
  return {
    zod,
    parse: (raw) =>
      FLOAT_RE.test(raw.trim()) ? check(zod, Number(raw) + 0) : { ok: false, reason: 'must be a number' },
    format: (v) => String(v),
    bounds: `${opts.exclusiveMin ? '>' : ''}${min} – ${max}`,
    input: { kind: 'number', integer: false, min, max },
    equals: same,
  };
}

export function enumType<const T extends readonly [string, ...string[]]>(options: T): FieldType<T[number]> {
  const zod = z.enum(options, { error: `must be one of ${options.join(', ')}` }) as unknown as z.ZodType<T[number]>;
  return {
    zod,
    parse: (raw) => check(zod, raw),
    format: (v) => v,
    bounds: options.join(' | '),
    input: { kind: 'enum', options },
    equals: same,
  };
}

const TRUE_WORDS = ['1', 'true', 'on', 'yes'];
const FALSE_WORDS = ['0', 'false', 'off', 'no'];

export function boolType(): FieldType<boolean> {
  return {
    zod: z.boolean({ error: 'must be true or false' }),
    parse: (raw) => {
      const w = raw.trim().toLowerCase();
      if (TRUE_WORDS.includes(w)) return { ok: true, value: true };
      if (FALSE_WORDS.includes(w)) return { ok: true, value: false };
      return { ok: false, reason: 'must be 1 or 0 (true/false, on/off)' };
    },
    format: (v) => (v ? '1' : '0'),
    bounds: '1 | 0',
    input: { kind: 'bool' },
    equals: same,
  };
}

/** A strictly ascending list of whole numbers, written "32000,48000"; "none" is the empty list. */
export function ascendingIntListType(min: number, max: number, maxLength: number): FieldType<readonly number[]> {
  const zod = z
    .array(intType(min, max).zod, { error: 'must be a list of whole numbers' })
    .max(maxLength, { error: `must have at most ${maxLength} entries` })
    .refine((xs) => xs.every((x, i) => i === 0 || x > xs[i - 1]!), { error: 'must be strictly ascending' });
  return {
    zod: zod as z.ZodType<readonly number[]>,
    parse: (raw) => {
      const t = raw.trim();
      if (t.toLowerCase() === 'none') return { ok: true, value: [] };
      const parts = t.split(',').map((p) => p.trim());
      if (!parts.every((p) => INT_RE.test(p))) {
        return { ok: false, reason: 'must be whole numbers separated by commas, or "none"' };
      }
      return check(zod, parts.map(Number)) as Parsed<readonly number[]>;
    },
    format: (v) => (v.length === 0 ? 'none' : v.join(',')),
    bounds: `ascending, each ${min} – ${max}, at most ${maxLength}; "none" for no steps`,
    input: { kind: 'list' },
    equals: (a, b) => a.length === b.length && a.every((x, i) => x === b[i]),
  };
}

export const AUTO = 'auto';
export type AutoOr<V> = typeof AUTO | V;

/** "auto" (resolved later, by whoever runs the experiment) or a number of the inner type, e.g. microBatch. */
export function autoOr(inner: FieldType<number>): FieldType<AutoOr<number>> {
  const error = `must be auto or a number in ${inner.bounds}`;
  const zod = z.union([z.literal(AUTO), inner.zod], { error }) as z.ZodType<AutoOr<number>>;
  return {
    zod,
    parse: (raw) => {
      if (raw.trim().toLowerCase() === AUTO) return { ok: true, value: AUTO };
      const r = inner.parse(raw);
      return r.ok ? r : { ok: false, reason: `${r.reason} (or auto)` };
    },
    format: (v) => (v === AUTO ? AUTO : inner.format(v)),
    bounds: `${AUTO} | ${inner.bounds}`,
    input: inner.input.kind === 'number' ? { ...inner.input, auto: true } : inner.input,
    equals: same,
  };
}
