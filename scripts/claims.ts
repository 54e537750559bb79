/**
 * npm run claims [-- --check] [--seeds 5] [--claims shortcuts,depth] [--max-runs K] [--data DIR] [--runs DIR]
 *                [--threads 2] [--lock /tmp/heavy.lock | --no-lock] [--python python3] [--verified FILE] [--readme]
 *
 * The claims lab's check over seeds (src/experiment/claims.ts): every run that the claims read, seeds 1…N, trained
 * with the PyTorch executor (python/identity_mappings, single process, CPU unless a GPU is there), each run its own
 * process (wrapped in `flock LOCK` when a lock is given, so the lock is taken and released run by run), writing
 * its run JSON under --runs. Runs whose JSON already holds a final result (finished or diverged) are skipped, so the
 * check can be run in pieces (--max-runs) and resumed after an interruption. Then, per claim, the per-seed metrics
 * (the page's own metric code) and the verdict, printed and written to src/experiment/claims.verified.json, which
 * the page reads for each claim's "verified" line.
 *
 * Without --check: prints what the last check found (from claims.verified.json) and the runs it would train.
 * --readme rewrites the README's claims section (between <!-- claims:start --> and <!-- claims:end -->) from
 * claims.verified.json. A benchmark, not a test: it takes hours on a CPU.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import {
  claimsRuns,
  CLAIMS,
  HOLD_FRACTION,
  METRIC_TEXT,
  pairText,
  trainedKey,
  type Claim,
} from '../src/experiment/claims';
import {
  isFinal,
  summariseCheck,
  verifiedFileSchema,
  type CheckedRun,
  type VerifiedClaim,
  type VerifiedFile,
} from '../src/experiment/claimsVerified';
import { toQuery } from '../src/experiment/codec';
import { runLabel } from '../src/experiment/label';
import { CLAIM_IDS, MAX_SEEDS, type ClaimId } from '../src/experiment/labIds';
import type { Config } from '../src/experiment/schema';
import { dataDir } from './datasetServer';
import { findTorchPython } from './torchCommand';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const VERIFIED_PATH = join(ROOT, 'src/experiment/claims.verified.json');
const README = join(ROOT, 'README.md');
const USAGE =
  'usage: npm run claims -- [--check] [--seeds N] [--claims id,id] [--max-runs K] [--data DIR] [--runs DIR] ' +
  '[--threads N] [--lock FILE | --no-lock] [--python PATH] [--verified FILE] [--readme]';

interface Options {
  check: boolean;
  readme: boolean;
  seeds: number;
  claims: ClaimId[];
  maxRuns: number;
  data: string;
  runs: string;
  threads: number;
  lock: string | null;
  python: string;
  /** Where the result goes (the page reads the default). */
  verified: string;
}

function options(argv: string[]): Options {
  const o: Options = {
    check: false,
    readme: false,
    seeds: 5,
    claims: [...CLAIM_IDS],
    maxRuns: Infinity,
    data: join(dataDir(ROOT), 'cifar10'),
    runs: join(ROOT, 'claims-runs'),
    threads: 2,
    lock: '/tmp/heavy.lock',
    python: '', // found below unless given
    verified: VERIFIED_PATH,
  };
  const value = (i: number) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${argv[i]} needs a value\n${USAGE}`);
    return v;
  };
  const whole = (i: number, min: number, max: number) => {
    const n = Number(value(i));
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`${argv[i]} needs a whole number from ${min} to ${max}, got ${argv[i + 1]}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--check') o.check = true;
    else if (a === '--readme') o.readme = true;
    else if (a === '--no-lock') o.lock = null;
    else if (a === '--seeds') o.seeds = whole(i++, 1, MAX_SEEDS);
    else if (a === '--max-runs') o.maxRuns = whole(i++, 0, 1e6);
    else if (a === '--threads') o.threads = whole(i++, 1, 1024);
    else if (a === '--data') o.data = resolve(value(i++));
    else if (a === '--runs') o.runs = resolve(value(i++));
    else if (a === '--lock') o.lock = value(i++);
    else if (a === '--python') o.python = value(i++);
    else if (a === '--verified') o.verified = resolve(value(i++));
    else if (a === '--claims') {
      const ids = value(i++).split(',');
      const bad = ids.filter((id) => !(CLAIM_IDS as readonly string[]).includes(id));
      if (bad.length) throw new Error(`unknown claim ${bad.join(', ')}: the claims are ${CLAIM_IDS.join(', ')}`);
      o.claims = ids as ClaimId[];
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return o;
}

/** A run's JSON file: readable, and unique to its experiment and seed. */
function runFile(dir: string, config: Config): string {
  const query = toQuery(config);
  const hash = createHash('sha256').update(query).digest('hex').slice(0, 10);
  return join(dir, `${config.unit}-${config.depth}-seed${config.seed}-${hash}.json`);
}

function readRun(file: string): CheckedRun | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CheckedRun;
  } catch {
    return undefined; // half-written by a killed run: it is run again
  }
}

/** What the last check wrote, or nothing yet. */
function lastCheck(path = VERIFIED_PATH): VerifiedFile | undefined {
  if (!existsSync(path)) return undefined;
  return verifiedFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;

/** Trains one run with the PyTorch executor, in its own process, under the lock; resolves with its exit status. */
function train(o: Options, config: Config, out: string): Promise<number | null> {
  const py = [o.python, '-m', 'identity_mappings', 'train', '--link', toQuery(config), '--data', o.data];
  py.push('--out', out, '--device', 'cpu', '--threads', String(o.threads), '--quiet');
  const [cmd, ...args] = o.lock ? ['flock', o.lock, ...py] : py;
  // This checkout's package first; a PYTHONPATH given to the script stays behind it.
  const path = [join(ROOT, 'python'), process.env.PYTHONPATH].filter(Boolean).join(':');
  const env = { ...process.env, PYTHONPATH: path, OMP_NUM_THREADS: String(o.threads) };
  return new Promise((done) => {
    const child = spawn(cmd!, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => done(code));
    child.on('error', (e) => {
      console.error(`cannot start ${cmd}: ${e.message}`);
      done(null);
    });
  });
}

function checkPrerequisites(o: Options) {
  o.python ||= findTorchPython() ?? 'python3';
  if (!existsSync(join(o.data, 'manifest.json')))
    throw new Error(
      `no dataset at ${o.data}: make it with \`npm run data -- cifar10 --from <folder of CIFAR-10 .bin files>\` ` +
        '(or pass --data DIR)',
    );
  const probe = spawnSync(o.python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0)
    throw new Error(`${o.python} cannot import torch (pass --python /path/to/python3 with PyTorch and numpy)`);
  return probe.stdout.trim();
}

/** One claim's result as text: a line per row with its figure in every seed, whether the ordering held, the verdict. */
export function claimReport(claim: Claim, v: VerifiedClaim): string {
  const lines = [`${claim.mirrors} · ${claim.title} [${claim.id}]`, `  reads: ${METRIC_TEXT[claim.metric]}`];
  const labels = claim.rows.map((r) => r.label);
  const width = Math.max(...labels.map((l) => l.length), 'test error (%)'.length) + 2;
  const cell = (t: string) => t.padStart(10);
  const line = (label: string, cells: string[]) => `  ${label.padEnd(width)}${cells.map(cell).join('')}`;
  if (v.seeds.length > 0) {
    lines.push(
      line(
        '',
        v.seeds.map((s) => `seed ${s.seed}`),
      ),
    );
    for (const [i, label] of labels.entries())
      lines.push(
        line(
          label,
          v.seeds.map((s) => (s.values[i] === null ? 'diverged' : s.values[i]!.toFixed(3))),
        ),
      );
    lines.push(
      line(
        'ordering',
        v.seeds.map((s) => (s.holds ? 'holds' : 'fails')),
      ),
    );
    if (claim.metric === 'train-loss') {
      lines.push('  final test error (%):');
      for (const [i, label] of labels.entries())
        lines.push(
          line(
            label,
            v.seeds.map((s) => (s.testErrors[i] == null ? '—' : s.testErrors[i]!.toFixed(1))),
          ),
        );
    }
    for (const s of v.seeds.filter((s) => !s.holds)) {
      const values = s.values.map((x) => x ?? Infinity);
      const failed = claim.expect.filter(([a, b]) => !(values[a]! < values[b]!));
      const text = failed.map(([lower, higher]) => pairText(claim, values, { lower, higher }));
      lines.push(`  seed ${s.seed} breaks: ${text.join('; ')}`);
    }
  }
  const verdict =
    v.verdict === 'incomplete'
      ? `incomplete: ${v.of} of ${v.asked} seeds done, the ordering held in ${v.held}`
      : `${v.verdict.toUpperCase()}: the ordering held in ${v.held} of ${v.of} seeds (needs ${Math.ceil(HOLD_FRACTION * v.of)})`;
  lines.push(`  verdict: ${verdict}`);
  return lines.join('\n');
}

function reportAll(file: VerifiedFile, ids: readonly ClaimId[] = CLAIM_IDS): string {
  const head = `${file.command} — ${file.executor}; ${file.machine}; ${file.data}; ${file.date}`;
  const blocks = CLAIMS.filter((c) => ids.includes(c.id)).map((c) => {
    const v = file.claims.find((x) => x.id === c.id);
    return v ? claimReport(c, v) : `${c.mirrors} · ${c.title} [${c.id}]\n  not checked yet`;
  });
  return [head, ...blocks].join('\n\n');
}

/** The README's claims section, generated from claims.verified.json (never typed by hand). */
function readmeSection(file: VerifiedFile): string {
  const out = ['<!-- claims:start (generated by `npm run claims -- --readme` from claims.verified.json) -->'];
  for (const c of CLAIMS) {
    const v = file.claims.find((x) => x.id === c.id);
    const link = `/?lab=claims`;
    out.push(`**${c.mirrors} · ${c.title}** (\`${c.id}\`). ${c.point}${c.note ? ` ${c.note}` : ''}`);
    out.push('');
    out.push(`Rows (at \`${c.settings}\`, open them in ${link}): ${c.rows.map((r) => `\`${r.query}\``).join(', ')}.`);
    out.push('');
    out.push('```');
    out.push(v ? claimReport(c, v) : `${c.id}: not checked yet`);
    out.push('```');
    out.push('');
  }
  out.push(`Check: \`${file.command}\` — ${file.executor}; ${file.machine}; ${file.data}; ${file.date}.`);
  out.push('<!-- claims:end -->');
  return out.join('\n');
}

function writeReadme(file: VerifiedFile) {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf('<!-- claims:start');
  const end = text.indexOf('<!-- claims:end -->');
  if (start < 0 || end < 0) throw new Error('README.md has no <!-- claims:start --> … <!-- claims:end --> section');
  writeFileSync(README, text.slice(0, start) + readmeSection(file) + text.slice(end + '<!-- claims:end -->'.length));
  console.log('README.md: claims section regenerated from claims.verified.json');
}

async function check(o: Options) {
  const torch = checkPrerequisites(o);
  mkdirSync(o.runs, { recursive: true });
  const all = claimsRuns(o.claims, { seeds: o.seeds });
  const todo = all.filter((r) => {
    const doc = readRun(runFile(o.runs, r.config));
    return !doc || !isFinal(doc);
  });
  console.log(
    `${all.length} runs for ${o.claims.length} claims × ${o.seeds} seeds; ${all.length - todo.length} already done` +
      ` (${o.runs}); PyTorch ${torch}, ${o.threads} threads${o.lock ? `, each run under flock ${o.lock}` : ''}`,
  );
  const times = new Map<number, number[]>(); // depth → minutes per run, measured this session
  let ran = 0;
  for (const [i, r] of todo.entries()) {
    if (ran >= o.maxRuns) {
      console.log(`stopping after ${ran} runs (--max-runs); ${todo.length - i} left: run the same command again`);
      break;
    }
    const out = runFile(o.runs, r.config);
    rmSync(out, { force: true }); // a partial JSON of an interrupted run
    const perDepth = times.get(r.config.depth);
    const eta = perDepth?.length
      ? ` (about ${minutes(perDepth.reduce((a, b) => a + b, 0) / perDepth.length)} each at this depth)`
      : '';
    console.log(`[${i + 1}/${todo.length}] ${runLabel(r.config)} · seed ${r.config.seed}${eta}`);
    const t0 = Date.now();
    const code = await train(o, r.config, out);
    const ms = Date.now() - t0;
    ran++;
    const doc = readRun(out);
    console.log(`  ${doc?.status ?? 'no result'} in ${minutes(ms)}${code ? ` (exit ${code})` : ''} → ${out}`);
    if (doc && isFinal(doc)) times.set(r.config.depth, [...(times.get(r.config.depth) ?? []), ms]);
    if (code === null || (!doc && code !== 0)) throw new Error('the PyTorch executor could not run; see above');
  }

  const runOf = (config: Config) => readRun(runFile(o.runs, config));
  const claims = summariseCheck(runOf, o.seeds);
  const sample = all.map((r) => runOf(r.config)).find((d) => d !== undefined) as
    (CheckedRun & { trainImages?: number; testImages?: number }) | undefined;
  const file: VerifiedFile = {
    command: `npm run claims -- --check --seeds ${o.seeds}`,
    executor: `PyTorch ${torch}, one process, CPU, ${o.threads} threads`,
    machine: `${cpus().length}-core ${cpus()[0]?.model ?? 'CPU'}, no GPU`,
    data: sample
      ? `CIFAR-10, ${sample.trainImages?.toLocaleString('en-US')} training images, ${sample.testImages?.toLocaleString('en-US')} test images`
      : 'no run yet',
    date: new Date().toISOString().slice(0, 10),
    // Claims not asked for this time keep what the last check found.
    claims: CLAIM_IDS.map(
      (id) =>
        claims.find((c) => c.id === id && o.claims.includes(id)) ??
        lastCheck(o.verified)?.claims.find((c) => c.id === id),
    ).filter((c): c is VerifiedClaim => c !== undefined),
  };
  writeFileSync(o.verified, `${JSON.stringify(verifiedFileSchema.parse(file), null, 2)}\n`);
  console.log(`\n${reportAll(file, o.claims)}\n\nwritten: ${o.verified}`);
}

async function main() {
  const o = options(process.argv.slice(2));
  if (o.check) await check(o);
  else {
    const last = lastCheck(o.verified);
    console.log(last ? reportAll(last) : 'no check yet: npm run claims -- --check');
    const all = claimsRuns(o.claims, { seeds: o.seeds });
    const distinct = new Set(all.map((r) => trainedKey(r.config))).size;
    console.log(`\n--check would read ${all.length} runs (${distinct} experiments × up to ${o.seeds} seeds):`);
    for (const r of all.filter((r) => r.config.seed === 1)) console.log(`  ${toQuery(r.config)}`);
  }
  if (o.readme) {
    const last = lastCheck(o.verified);
    if (!last) throw new Error('no claims.verified.json yet: run npm run claims -- --check first');
    writeReadme(last);
  }
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
