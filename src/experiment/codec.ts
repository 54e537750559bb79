/**
 * The URL codec: config ↔ query string.
 *
 * Writing: only keys that differ from their defaults and apply to the chosen unit/block, in table order, so
 * equal experiments always share one link. Reading is total: it never throws, whatever the text. Every key
 * it refuses (unknown, malformed, out of bounds, breaking a rule, not applicable) is reported as a Problem and
 * that key keeps its default, so a half-broken link still opens the rest of the experiment.
 */
import { LAB_IDS, MAX_SEEDS, type LabId } from './labIds';
import {
  anyField,
  applies,
  CONFIG_KEYS,
  defaults,
  describeApplicability,
  SCHEMA,
  type Config,
  type ConfigKey,
} from './schema';

export interface Problem {
  /** The key as written in the link. */
  key: string;
  /** The value as written in the link (cut to a readable length). */
  value: string;
  reason: string;
}

/**
 * What a link asks the page to do, beside the experiment it describes. Not part of the config: two links that
 * differ only here are the same experiment.
 */
export interface LinkActions {
  /** Start training as soon as the page is ready, instead of waiting for the Start button. */
  autostart: boolean;
  /** A paper-lab experiment (lab.ts) or the claims lab (claims.ts) whose runs the page queues. */
  lab: LabId | null;
  /** The lab's quick version (shorter schedule, smaller depth), labelled as such. */
  quick: boolean;
  /** Seeds per lab row (the paper: 5). */
  seeds: number;
  /** WASM threads on this machine (0: one per core, at most 8): a setting of the machine, not of the run. */
  threads: number;
}

/** tfjs's WASM module starts a pool of 8 workers for its threads. */
export const MAX_THREADS = 8;

export const ACTION_KEYS = {
  autostart: {
    values: '0 or 1',
    help: 'Start the run (or the lab queue) as soon as the page is ready; without it a link only fills in the experiment.',
  },
  lab: {
    values: LAB_IDS.join(' | '),
    help: "Queue the runs of one of the paper's experiments (Tables 1–3, Figs. 1, 3, 6) and show its table beside the paper's numbers; claims: the claims lab, the paper's effects as small experiments checked over seeds (the link's other keys apply over every claim's settings).",
  },
  quick: {
    values: '0 or 1',
    help: 'With lab: the quick version (a tenth of the schedule; ResNet-56 for the basic 110-layer rows).',
  },
  seeds: {
    values: `1 – ${MAX_SEEDS}`,
    help: 'With lab: runs per row, seeds 1…N; the table shows the median with mean ± std (the paper: median of 5).',
  },
  threads: {
    values: `1 – ${MAX_THREADS}`,
    help: `Threads of the WASM backend (default: one per core, at most ${MAX_THREADS}); read when WASM first starts in the page. Needs a cross-origin-isolated page, as \`npm start\` serves it.`,
  },
} as const;

const NO_ACTIONS: LinkActions = { autostart: false, lab: null, quick: false, seeds: 1, threads: 0 };

export interface ParsedLink {
  config: Config;
  problems: Problem[];
  actions: LinkActions;
}

const KEY_OF_URL_NAME = new Map<string, ConfigKey>(CONFIG_KEYS.map((k) => [SCHEMA[k].url, k]));
const MAX_SHOWN_VALUE = 120;

/** The query part of a full link, a "?query", or a bare query string. */
export function queryOf(input: string): string {
  const text = input.trim();
  const q = text.indexOf('?');
  if (q >= 0) {
    const rest = text.slice(q + 1);
    const hash = rest.indexOf('#');
    return hash >= 0 ? rest.slice(0, hash) : rest;
  }
  // A link with no query at all ("http://host/", "/path") holds only defaults.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.startsWith('/')) return '';
  return text;
}

function shown(value: string): string {
  return value.length > MAX_SHOWN_VALUE ? `${value.slice(0, MAX_SHOWN_VALUE)}…` : value;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function unknownKeyReason(name: string): string {
  if (name.length <= 40) {
    const lower = name.toLowerCase();
    let best: string | null = null;
    let bestDistance = 3;
    for (const url of KEY_OF_URL_NAME.keys()) {
      const d = url.toLowerCase() === lower ? 0 : editDistance(lower, url.toLowerCase());
      if (d < bestDistance) [best, bestDistance] = [url, d];
    }
    if (best) return `unknown key (did you mean "${best}"?)`;
  }
  return 'unknown key';
}

/** Reads a link, a "?query" or a bare query string into a full config plus the problems found. Never throws. */
export function parseQuery(input: string): ParsedLink {
  const config = defaults() as unknown as Record<ConfigKey, unknown>;
  const problems: Problem[] = [];
  const given = new Map<ConfigKey, string>();
  const actions: LinkActions = { ...NO_ACTIONS };

  let params: URLSearchParams;
  try {
    params = new URLSearchParams(queryOf(String(input)));
  } catch {
    return {
      config: defaults(),
      problems: [{ key: '(link)', value: shown(String(input)), reason: 'not a readable query string' }],
      actions: { ...NO_ACTIONS },
    };
  }

  // 1. Each key on its own: known? once? well-formed and in bounds?
  for (const [name, raw] of params) {
    if (name === 'autostart' || name === 'quick') {
      if (raw === '1' || raw === '0') actions[name] = raw === '1';
      else problems.push({ key: name, value: shown(raw), reason: `expected ${ACTION_KEYS[name].values}` });
      continue;
    }
    if (name === 'lab') {
      if ((LAB_IDS as readonly string[]).includes(raw)) actions.lab = raw as LabId;
      else problems.push({ key: name, value: shown(raw), reason: `must be one of ${LAB_IDS.join(', ')}` });
      continue;
    }
    if (name === 'seeds') {
      const n = Number(raw);
      if (Number.isInteger(n) && n >= 1 && n <= MAX_SEEDS) actions.seeds = n;
      else problems.push({ key: name, value: shown(raw), reason: `must be a whole number from 1 to ${MAX_SEEDS}` });
      continue;
    }
    if (name === 'threads') {
      const n = Number(raw);
      if (Number.isInteger(n) && n >= 1 && n <= MAX_THREADS) actions.threads = n;
      else problems.push({ key: name, value: shown(raw), reason: `must be a whole number from 1 to ${MAX_THREADS}` });
      continue;
    }
    const key = KEY_OF_URL_NAME.get(name);
    if (!key) {
      problems.push({ key: name, value: shown(raw), reason: unknownKeyReason(name) });
      continue;
    }
    if (given.has(key)) {
      problems.push({ key: name, value: shown(raw), reason: 'given more than once; the first value is used' });
      continue;
    }
    given.set(key, raw);
    if (raw.trim() === '') {
      problems.push({ key: name, value: raw, reason: 'empty value' });
      continue;
    }
    const parsed = SCHEMA[key].type.parse(raw);
    if (parsed.ok) config[key] = parsed.value;
    else problems.push({ key: name, value: shown(raw), reason: parsed.reason });
  }

  const resolved = config as unknown as Config;
  // 2. Keys that do not apply to the chosen unit or block (e.g. gateBias with unit=original).
  for (const [key, raw] of given) {
    if (!applies(key, resolved)) {
      const where = describeApplicability(key);
      const current = SCHEMA[key].when?.unit ? `unit ${resolved.unit}` : `block ${resolved.block}`;
      problems.push({ key: SCHEMA[key].url, value: shown(raw), reason: `does not apply to ${current} (${where})` });
      config[key] = SCHEMA[key].default;
    }
  }
  // 3. Rules across keys (e.g. depth must be 6n+2 for basic units), once every key has its final value.
  for (const key of CONFIG_KEYS) {
    const reason = anyField(key).rule?.(config[key], resolved);
    if (reason) {
      problems.push({ key: SCHEMA[key].url, value: shown(given.get(key) ?? ''), reason });
      config[key] = SCHEMA[key].default;
    }
  }
  return { config: resolved, problems, actions };
}

/** The config with keys that do not apply reset to their defaults: the experiment a link can express. */
export function canonical(config: Config): Config {
  const c = { ...config } as Record<ConfigKey, unknown>;
  for (const key of CONFIG_KEYS) if (!applies(key, config)) c[key] = SCHEMA[key].default;
  return c as unknown as Config;
}

function encode(text: string): string {
  // Commas are legal in a query and keep lists like milestones=32000,48000 readable.
  return encodeURIComponent(text).replace(/%2C/gi, ',');
}

/**
 * The canonical query string (no leading "?") of a config: non-default, applicable keys in table order, then
 * the actions asked for.
 */
export function toQuery(config: Config, actions: Partial<LinkActions> = {}): string {
  const parts: string[] = [];
  for (const key of CONFIG_KEYS) {
    const f = anyField(key);
    const value = config[key];
    if (!applies(key, config) || f.type.equals(value, f.default)) continue;
    parts.push(`${encode(f.url)}=${encode(f.type.format(value))}`);
  }
  if (actions.lab) parts.push(`lab=${actions.lab}`);
  if (actions.lab && actions.quick) parts.push('quick=1');
  if (actions.lab && actions.seeds && actions.seeds > 1) parts.push(`seeds=${actions.seeds}`);
  if (actions.threads) parts.push(`threads=${actions.threads}`);
  if (actions.autostart) parts.push('autostart=1');
  return parts.join('&');
}
