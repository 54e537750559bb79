/**
 * npm run torch -- '<link>' [--nproc N] --out run.json [--data DIR] [--dry-run] [flags of the package…]
 *
 * The one-line way to train a link on PyTorch: checks the link (refused keys), the dataset (the shards of
 * `npm run data`) and the Python (torch importable), prints the exact torchrun command and runs it from the
 * repository root. N processes train one run with DistributedDataParallel (NCCL on GPUs, gloo on the CPU); any
 * other flag goes to the package unchanged (--device, --threads, --sync-bn, --resume, --lr-change, …; see
 * `PYTHONPATH=python python3 -m identity_mappings --help`). --dry-run prints the command only, for job scripts.
 * Exit status: the run's (0 finished, 1 otherwise, 2 bad arguments); 2 when a check fails, saying why.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATASET_LABELS } from '../src/data/catalog';
import { parseQuery, toQuery } from '../src/experiment/codec';
import {
  datasetDir,
  displayPath,
  fromUser,
  findTorchPython,
  launcherFor,
  noTorch,
  ROOT,
  shellCommand,
  torchEnv,
  torchrunArgs,
} from './torchCommand';

const USAGE =
  "usage: npm run torch -- '<link>' [--nproc N] --out run.json [--data DIR] [--dry-run] [flags of python3 -m identity_mappings]";

class UsageError extends Error {}

function parse(argv: string[]) {
  const [link, ...rest] = argv;
  if (!link || link.startsWith('--')) throw new UsageError(`the link comes first\n${USAGE}`);
  let nproc = 1;
  let out: string | undefined;
  let data: string | undefined;
  let dryRun = false;
  const extra: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const value = () => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--nproc') {
      const v = value();
      nproc = Number(v);
      if (!Number.isInteger(nproc) || nproc < 1) throw new UsageError(`--nproc needs a whole number ≥ 1, got ${v}`);
    } else if (a === '--out') out = value();
    else if (a === '--data') data = value();
    else if (a === '--dry-run') dryRun = true;
    else extra.push(a);
  }
  if (!out) throw new UsageError(`--out is required\n${USAGE}`);
  return { link, nproc, out, data, dryRun, extra };
}

function main(): number {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    console.error(e instanceof UsageError ? `error: ${e.message}` : e);
    return 2;
  }
  const fail = (message: string) => {
    console.error(`error: ${message}`);
    return 2;
  };
  const { config, problems } = parseQuery(args.link);
  if (problems.length) {
    return fail(
      `the link has refused keys, nothing was run: ${problems.map((p) => `${p.key}=${p.value}: ${p.reason}`).join('; ')}`,
    );
  }
  if (config.dataset === 'synthetic') {
    return fail(
      'the embedded synthetic demo set exists only in the page; PyTorch trains on CIFAR shards (npm run data -- cifar10, then dataset=cifar10 in the link)',
    );
  }
  if (config.batch % args.nproc !== 0) {
    return fail(`batch=${config.batch} does not split evenly over ${args.nproc} processes (--nproc)`);
  }
  const data = args.data ? fromUser(args.data) : datasetDir(config.dataset);
  const manifest = join(data, 'manifest.json');
  if (!existsSync(manifest)) {
    return fail(
      `no ${DATASET_LABELS[config.dataset]} shards in ${displayPath(data)}: convert them first with npm run data -- ${config.dataset} (see README "Getting CIFAR"), or pass --data DIR`,
    );
  }
  const held = (JSON.parse(readFileSync(manifest, 'utf8')) as { dataset?: string }).dataset;
  if (held !== config.dataset)
    return fail(`${displayPath(data)} holds ${held}, but the link trains on ${config.dataset}`);
  const python = findTorchPython();
  if (!python) return fail(noTorch());

  const launcher = launcherFor(python);
  const job = {
    link: toQuery(config),
    data: displayPath(data),
    out: displayPath(fromUser(args.out)),
    nproc: args.nproc,
  };
  const full = { ...job, extra: args.extra };
  console.log(shellCommand(launcher, full));
  if (args.dryRun) return 0;
  const child = spawn(launcher[0]!, [...launcher.slice(1), ...torchrunArgs(full)], {
    cwd: ROOT,
    env: { ...process.env, ...torchEnv() },
    stdio: 'inherit',
  });
  // Ctrl-C reaches torchrun and its workers from the terminal; a SIGTERM sent to this process is passed on, so
  // the run stops after its iteration and writes its checkpoint and JSON.
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  process.on('SIGINT', () => {});
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return -1;
}

const status = main();
if (status >= 0) process.exit(status);
