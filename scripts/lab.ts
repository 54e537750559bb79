/**
 * Paper-lab sweeps on PyTorch: every row × seed of a lab experiment (src/experiment/lab.ts) as a job.
 *
 *   npm run lab -- <lab> [--seeds N] [--quick] --out DIR [--data DIR] [--nproc G] [--cpus-per-task C]
 *                 [--partition P] [--time T] [--account A] [--sbatch 'OPTION']…
 *     writes DIR/jobs.json and DIR/jobs.tsv (each job's name, link, run JSON path and torchrun command) and
 *     DIR/<lab>.sbatch, a Slurm array script (one job per array task, G GPUs each, default 1; `sbatch DIR/<lab>.sbatch`).
 *
 *   npm run lab -- run DIR [--slots K] [--device auto|cpu|cuda] [--iters N] [--only I,J,…]
 *     runs the jobs on this machine, K at a time: each slot its own GPUs (CUDA_VISIBLE_DEVICES) or, on the CPU,
 *     its share of the cores. --iters N trains N iterations instead (a smoke test), into DIR/<name>.iters<N>.json.
 *
 * Both skip a job whose run JSON says "finished" and resume one with a checkpoint (--auto-resume), so a sweep can be
 * stopped and started again, or requeued. Each run JSON carries its exact config: the page's Import JSON (all files
 * at once) puts the runs into the lab table beside the paper's numbers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { canonical, parseQuery, toQuery } from '../src/experiment/codec';
import { LAB, labExperiment, rowConfig, type LabExperiment } from '../src/experiment/lab';
import type { Config } from '../src/experiment/schema';
import { MAX_SEEDS } from '../src/experiment/labIds';
import {
  datasetDir,
  displayPath,
  fromUser,
  findTorchPython,
  launcherFor,
  noTorch,
  ROOT,
  shellCommand,
  shellQuote,
  torchEnv,
  torchrunArgs,
  type TorchJob,
} from './torchCommand';

const LABS = LAB.map((e) => e.id).join(', ');
const USAGE = [
  `usage: npm run lab -- <${LAB.map((e) => e.id).join('|')}> [--seeds N] [--quick] --out DIR [--data DIR] [--nproc G]`,
  "                      [--cpus-per-task C] [--partition P] [--time T] [--account A] [--sbatch 'OPTION']…",
  '       npm run lab -- run DIR [--slots K] [--device auto|cpu|cuda] [--iters N] [--only I,J,…]',
].join('\n');

const JOBS_FORMAT = 'identity-mappings-lab-jobs';

class UsageError extends Error {}

export interface LabJob {
  index: number;
  /** e.g. table2-r03-s1: lab, row (0-based), seed. */
  name: string;
  row: number;
  label: string;
  seed: number;
  link: string;
  /** Its dataset's shards folder. */
  data: string;
  /** The run JSON (relative to the repository root when inside it). */
  out: string;
  command: string;
}

interface JobsFile {
  format: typeof JOBS_FORMAT;
  version: 1;
  lab: string;
  quick: boolean;
  seeds: number;
  nproc: number;
  jobs: LabJob[];
}

/** Options as --name value pairs, flags as --name; positional words in order. */
function options(argv: string[], flags: string[]) {
  const values = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) positional.push(a);
    else if (flags.includes(a)) values.set(a, ['']);
    else {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      values.set(a, [...(values.get(a) ?? []), v]);
    }
  }
  const one = (name: string) => values.get(name)?.at(-1);
  const whole = (name: string, fallback: number, min = 1) => {
    const v = one(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} needs a whole number ≥ ${min}, got ${v}`);
    return n;
  };
  return { values, positional, one, whole, has: (name: string) => values.has(name) };
}

/** The lab's jobs: rows × seeds 1…N, each with its link, shards folder and torchrun command. */
export function labJobs(
  experiment: LabExperiment,
  o: { seeds: number; quick: boolean; dir: string; nproc: number; data: (c: Config) => string },
): LabJob[] {
  const jobs: LabJob[] = [];
  experiment.rows.forEach((row, r) => {
    for (let seed = 1; seed <= o.seeds; seed++) {
      const name = `${experiment.id}-r${String(r).padStart(2, '0')}-s${seed}`;
      const config = rowConfig(row, { quick: o.quick, seed });
      const link = toQuery(config);
      const data = o.data(config);
      const out = displayPath(join(o.dir, `${name}.json`));
      const job: TorchJob = { link, data, out, nproc: o.nproc, extra: ['--auto-resume'] };
      const command = shellCommand(['torchrun'], job);
      jobs.push({ index: jobs.length, name, row: r, label: row.label, seed, link, data, out, command });
    }
  });
  return jobs;
}

/** A Slurm array script: task i runs job i of jobs.tsv, from the repository root, unless its run has finished. */
function sbatchScript(file: JobsFile, o: { dir: string; gpus: number; cpus: number; extra: string[] }): string {
  const n = file.jobs.length;
  const head = [
    `#SBATCH --job-name=${file.lab}${file.quick ? '-quick' : ''}`,
    `#SBATCH --array=0-${n - 1}`,
    '#SBATCH --nodes=1',
    '#SBATCH --ntasks=1',
    `#SBATCH --gres=gpu:${o.gpus}`,
    `#SBATCH --cpus-per-task=${o.cpus}`,
    `#SBATCH --output=${join(o.dir, 'logs', '%x-%A_%a.out')}`,
    // SIGTERM 5 minutes before the time limit: the run checkpoints and stops; `sbatch` it again to continue.
    '#SBATCH --signal=B:TERM@300',
    ...o.extra.map((x) => `#SBATCH ${x}`),
  ];
  return `#!/usr/bin/env bash
# ${file.lab}${file.quick ? ' (quick)' : ''}: ${n} PyTorch runs (${n / file.seeds} rows × ${file.seeds} seeds), written by
#   npm run lab -- ${file.lab} --seeds ${file.seeds}${file.quick ? ' --quick' : ''} --out ${displayPath(o.dir)}
# Submit: sbatch ${displayPath(join(o.dir, `${file.lab}.sbatch`))}    (sbatch --array=I,J ... for some jobs only)
# Array task i runs job i of jobs.tsv from the repository root. A job whose run JSON says "finished" is skipped; one
# with a checkpoint continues from it (--auto-resume), so submitting the script again finishes what is left.
# Environment: PYTHON (default python3, with PyTorch), IDENTITY_MAPPINGS_ROOT (default this checkout).
${head.join('\n')}
set -euo pipefail
cd "\${IDENTITY_MAPPINGS_ROOT:-${ROOT}}"
JOBS=${shellQuote(displayPath(join(o.dir, 'jobs.tsv')))}
TASK="\${SLURM_ARRAY_TASK_ID:?run this script with sbatch (or set SLURM_ARRAY_TASK_ID)}"
field() { awk -F '\\t' -v row="$((TASK + 2))" -v col="$1" 'NR == row { print $col }' "$JOBS"; }
NAME=$(field 2)
OUT=$(field 3)
COMMAND=$(field 5)
if [ -z "$NAME" ]; then
  echo "no job $TASK in $JOBS (it lists ${n})" >&2
  exit 2
fi
if grep -qs '"status": "finished"' "$OUT"; then
  echo "$NAME: already finished ($OUT)"
  exit 0
fi
# torchrun comes with PyTorch; where only the module is on the path, start the same launcher through Python.
command -v torchrun >/dev/null 2>&1 || COMMAND="\${COMMAND/ torchrun / \${PYTHON:-python3} -m torch.distributed.run }"
echo "$NAME on $(hostname), GPUs \${CUDA_VISIBLE_DEVICES:-none}: $COMMAND"
# The launcher in the background (one simple command: $! is torchrun itself), so that the time limit's SIGTERM
# (--signal above) reaches it and, through it, the run, which checkpoints and stops; then wait for its exit status.
eval "$COMMAND &"
RUN=$!
trap 'kill -TERM "$RUN" 2>/dev/null' TERM
set +e
wait "$RUN"
STATUS=$?
# A wait cut short by the trap returns above 128: wait again for the run's own exit status.
[ "$STATUS" -gt 128 ] && kill -0 "$RUN" 2>/dev/null && { wait "$RUN"; STATUS=$?; }
exit "$STATUS"
`;
}

function writeLab(argv: string[]): number {
  const o = options(argv, ['--quick']);
  const [lab] = o.positional;
  if (!lab) throw new UsageError('which lab?');
  const out = o.one('--out');
  if (!out) throw new UsageError('--out DIR is required');
  const seeds = o.whole('--seeds', 1);
  if (seeds > MAX_SEEDS) throw new UsageError(`--seeds is at most ${MAX_SEEDS}, as in the page`);
  const quick = o.has('--quick');
  const gpus = o.whole('--nproc', o.whole('--gpus-per-job', 1));
  const cpus = o.whole('--cpus-per-task', 4 * gpus);
  const experiment = labExperiment(lab);
  if (!experiment) throw new UsageError(`no lab "${lab}": the labs are ${LABS}`);
  const datasets = new Set(experiment.rows.map((r) => rowConfig(r, { quick, seed: 1 }).dataset));
  const given = o.one('--data');
  if (given && datasets.size > 1) {
    throw new UsageError(`--data names one folder, but ${lab} trains on ${[...datasets].join(' and ')}`);
  }
  const dir = fromUser(out);
  const data = (c: Config) => displayPath(given ? fromUser(given) : datasetDir(c.dataset));
  const jobs = labJobs(experiment, { seeds, quick, dir, nproc: gpus, data });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const file: JobsFile = {
    format: JOBS_FORMAT,
    version: 1,
    lab,
    quick,
    seeds,
    nproc: gpus,
    jobs,
  };
  writeFileSync(join(dir, 'jobs.json'), `${JSON.stringify(file, null, 2)}\n`);
  const tsv = [
    'index\tname\tout\tlink\tcommand',
    ...jobs.map((j) => [j.index, j.name, j.out, j.link, j.command].join('\t')),
  ];
  writeFileSync(join(dir, 'jobs.tsv'), `${tsv.join('\n')}\n`);
  const extra = [
    ...(o.one('--partition') ? [`--partition=${o.one('--partition')}`] : []),
    ...(o.one('--time') ? [`--time=${o.one('--time')}`] : []),
    ...(o.one('--account') ? [`--account=${o.one('--account')}`] : []),
    ...(o.values.get('--sbatch') ?? []),
  ];
  const script = join(dir, `${lab}.sbatch`);
  writeFileSync(script, sbatchScript(file, { dir: displayPath(dir), gpus, cpus, extra }), { mode: 0o755 });
  console.log(
    `${experiment.title}${quick ? ' (quick)' : ''}: ${jobs.length} jobs (${experiment.rows.length} rows × ${seeds} seeds) → ${displayPath(join(dir, 'jobs.tsv'))}`,
  );
  console.log(`Slurm: sbatch ${displayPath(script)}    (${gpus} GPU${gpus > 1 ? 's' : ''} per job)`);
  console.log(`This machine: npm run lab -- run ${displayPath(dir)} --slots K`);
  console.log(
    `Then Import JSON in the page (all ${displayPath(dir)}/*.json at once) and open ?lab=${lab}${quick ? '&quick=1' : ''}`,
  );
  return 0;
}

/** What a run JSON says about its run: finished, some other status, or nothing yet. */
function runStatus(path: string): string | null {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { status?: string }).status ?? null;
  } catch {
    return null;
  }
}

/** CUDA devices torch sees (0 without CUDA). */
function cudaDevices(python: string): number {
  const r = spawnSync(
    python,
    ['-c', 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)'],
    {
      encoding: 'utf8',
    },
  );
  return r.status === 0 ? Number(r.stdout.trim()) || 0 : 0;
}

/** The job with `iters` iterations instead of its own: its link and run JSON path (never the real run's). */
function smoke(job: LabJob, iters: number): { link: string; out: string } {
  const { config } = parseQuery(job.link);
  const link = toQuery(canonical({ ...config, iters, evalEvery: Math.min(config.evalEvery, iters) }));
  return { link, out: job.out.replace(/\.json$/, `.iters${iters}.json`) };
}

async function runLab(argv: string[]): Promise<number> {
  const o = options(argv, []);
  const [, folder] = o.positional;
  if (!folder) throw new UsageError('run needs the folder npm run lab wrote');
  const dir = fromUser(folder);
  const jobsPath = join(dir, 'jobs.json');
  if (!existsSync(jobsPath))
    throw new UsageError(`no jobs.json in ${displayPath(dir)}: write it with npm run lab -- <lab> --out DIR`);
  const file = JSON.parse(readFileSync(jobsPath, 'utf8')) as JobsFile;
  if (file.format !== JOBS_FORMAT || file.version !== 1)
    throw new UsageError(`${displayPath(jobsPath)} is not a jobs file of npm run lab`);
  const iters = o.has('--iters') ? o.whole('--iters', 1) : null;
  const only = o.one('--only')?.split(',').map(Number);
  if (only?.some((i) => !Number.isInteger(i) || i < 0 || i >= file.jobs.length)) {
    throw new UsageError(`--only takes job indices 0…${file.jobs.length - 1}`);
  }
  const device = o.one('--device') ?? 'auto';
  if (!['auto', 'cpu', 'cuda'].includes(device)) throw new UsageError(`--device is auto, cpu or cuda, not ${device}`);
  const python = findTorchPython();
  if (!python) {
    console.error(`error: ${noTorch()}`);
    return 2;
  }
  const gpus = device === 'cpu' ? 0 : cudaDevices(python);
  if (device === 'cuda' && gpus === 0) throw new UsageError('--device cuda, but torch sees no CUDA device');
  const perJob = file.nproc;
  const slots = o.whole('--slots', gpus ? Math.max(1, Math.floor(gpus / perJob)) : 1);
  if (gpus && slots * perJob > gpus) {
    throw new UsageError(`${slots} slots × ${perJob} GPUs per job need ${slots * perJob} GPUs; torch sees ${gpus}`);
  }
  const threads = Math.max(1, Math.floor(cpus().length / (slots * perJob)));
  const launcher = launcherFor(python);
  const todo = file.jobs
    .filter((j) => !only || only.includes(j.index))
    .map((j) => ({ job: j, ...(iters ? smoke(j, iters) : { link: j.link, out: j.out }) }))
    .filter((t) => {
      if (runStatus(resolve(ROOT, t.out)) !== 'finished') return true;
      console.log(`${t.job.name}: already finished (${t.out})`);
      return false;
    });
  const where = gpus
    ? `${gpus} GPU${gpus > 1 ? 's' : ''}, ${perJob} per job`
    : `CPU, ${threads} thread${threads > 1 ? 's' : ''} per process`;
  console.log(
    `${todo.length} job${todo.length === 1 ? '' : 's'} to run, ${slots} at a time (${where})${iters ? `, ${iters} iterations each (smoke test)` : ''}`,
  );
  mkdirSync(join(dir, 'logs'), { recursive: true });
  let next = 0;
  let failed = 0;
  const slot = async (s: number) => {
    while (next < todo.length) {
      const t = todo[next++]!;
      const extra = [
        '--auto-resume',
        '--quiet',
        ...(gpus ? ['--device', 'cuda'] : ['--device', 'cpu', '--threads', String(threads)]),
      ];
      const job: TorchJob = { link: t.link, data: t.job.data, out: t.out, nproc: perJob, extra };
      const env: Record<string, string> = { ...torchEnv(), OMP_NUM_THREADS: String(threads) };
      if (gpus) env.CUDA_VISIBLE_DEVICES = Array.from({ length: perJob }, (_, g) => s * perJob + g).join(',');
      const log = join(dir, 'logs', `${t.job.name}${iters ? `.iters${iters}` : ''}.log`);
      console.log(
        `[slot ${s}] ${t.job.name} started${env.CUDA_VISIBLE_DEVICES ? ` on GPU ${env.CUDA_VISIBLE_DEVICES}` : ''}: ${shellCommand(launcher, job)}`,
      );
      const stream = createWriteStream(log);
      const code = await new Promise<number>((done) => {
        const child = spawn(launcher[0]!, [...launcher.slice(1), ...torchrunArgs(job)], {
          cwd: ROOT,
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        child.stdout.pipe(stream, { end: false });
        child.stderr.pipe(stream, { end: false });
        child.on('exit', (c) => done(c ?? 1));
      });
      stream.end();
      const status = runStatus(resolve(ROOT, t.out));
      if (code !== 0 || status !== 'finished') failed++;
      const result = status ? JSON.parse(readFileSync(resolve(ROOT, t.out), 'utf8')) : null;
      const error =
        typeof result?.finalTestError === 'number' ? `, final test error ${result.finalTestError.toFixed(2)}%` : '';
      console.log(
        `[slot ${s}] ${t.job.name} ${status ?? 'wrote no run JSON'}${error} (exit ${code}; log ${displayPath(log)})`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(slots, todo.length) }, (_, s) => slot(s)));
  console.log(
    failed ? `${failed} of ${todo.length} jobs did not finish: see their logs` : `all ${todo.length} jobs finished`,
  );
  return failed ? 1 : 0;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  try {
    if (argv[0] === 'run') return await runLab(argv);
    if (!argv.length || argv[0]!.startsWith('--')) throw new UsageError('which lab?');
    return writeLab(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n${USAGE}`);
    return 2;
  }
}

process.exit(await main());
