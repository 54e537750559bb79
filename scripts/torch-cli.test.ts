/**
 * `npm run torch` and `npm run lab` as users run them: the torchrun command printed and run, each refusal in one
 * sentence, the lab's jobs (their links are the page's lab rows, so their run JSONs fill the lab table), the Slurm
 * array script (its syntax; run here as an array task: a finished job skipped, a running one stopped by the time
 * limit's SIGTERM with its checkpoint), and one job through the local runner with few iterations.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQuery, toQuery } from '../src/experiment/codec';
import { experimentKey, labExperiment, rowConfig } from '../src/experiment/lab';
import { ROOT } from './torchCommand';
import { PYTHON, SKIP_REASON, writeShards } from './torchTesting';

function cli(script: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync('npx', ['tsx', `scripts/${script}.ts`, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, OMP_NUM_THREADS: '1', ...env },
  });
}

const hasSbatch = spawnSync('sh', ['-c', 'command -v sbatch'], { encoding: 'utf8' }).status === 0;

describe(`npm run torch and npm run lab${SKIP_REASON}`, () => {
  let dir = '';
  let data = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'torch-cli-'));
    data = join(dir, 'cifar10');
    await writeShards(data, 64, 30);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a bad link, the demo set, missing shards, an uneven split and a missing Python in one sentence', () => {
    const out = join(dir, 'never.json');
    const refused = (args: string[], message: RegExp, env: Record<string, string> = {}) => {
      const r = cli('torch', args, env);
      expect(r.status, r.stdout + r.stderr).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    };
    refused(['depth=7', '--out', out], /^error: the link has refused keys, nothing was run: depth=7: /);
    refused(['dataset=synthetic', '--out', out], /^error: the embedded synthetic demo set exists only in the page/);
    refused(
      ['dataset=cifar100', '--out', out, '--data', join(dir, 'nowhere')],
      /^error: no CIFAR-100 shards in .*nowhere: convert them first with npm run data -- cifar100/,
    );
    refused(['dataset=cifar100', '--out', out, '--data', data], /holds cifar10, but the link trains on cifar100$/);
    refused(
      ['batch=10', '--nproc', '4', '--out', out, '--data', data],
      /^error: batch=10 does not split evenly over 4/,
    );
    refused(['depth=8', '--out', out, '--data', data], /^error: no Python with PyTorch found \(PYTHON=\/bin\/false/, {
      PYTHON: '/bin/false',
    });
    const usage = cli('torch', ['depth=8', '--nproc', '2']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^error: --out is required\nusage: npm run torch -- '<link>' /);
  });

  it.skipIf(!PYTHON)('prints the torchrun command it runs, and runs it on two CPU processes', () => {
    const out = join(dir, 'run.json');
    const query = 'depth=8&batch=8&iters=4&evalEvery=2&testSubset=20';
    const dry = cli('torch', [query, '--nproc', '2', '--out', out, '--data', data, '--device', 'cpu', '--dry-run']);
    expect(dry.status, dry.stderr).toBe(0);
    const command = dry.stdout.trim();
    const launch = '--standalone --nproc_per_node=2 --redirects 1 --tee 1 -m identity_mappings';
    const canonical = toQuery(parseQuery(query).config); // the link as the page writes it
    expect(command).toBe(
      `PYTHONPATH=python torchrun ${launch} --link '${canonical}' --data ${data} --out ${out} --device cpu`,
    );
    expect(existsSync(out)).toBe(false);
    const r = cli('torch', [query, '--nproc', '2', '--out', out, '--data', data, '--device', 'cpu']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(command);
    expect(r.stdout).toMatch(/finished on pytorch-cpu \(2 processes × .*; 2 replicas identical/);
    const run = JSON.parse(readFileSync(out, 'utf8'));
    expect(run).toMatchObject({ status: 'finished', processes: 2, processGroup: 'gloo', link: `/?${canonical}` });
    expect(run.replicas).toMatchObject({ checked: true, identical: true });
  });

  it("writes a lab's jobs whose links are the page's lab rows, and a Slurm array script", () => {
    const runs = join(dir, 'runs');
    const r = cli('lab', ['table2', '--seeds', '2', '--quick', '--out', runs, '--data', data, '--partition', 'gpu']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: 20 jobs \(10 rows × 2 seeds\)/);
    const jobs = JSON.parse(readFileSync(join(runs, 'jobs.json'), 'utf8')).jobs as {
      name: string;
      row: number;
      seed: number;
      link: string;
      out: string;
      command: string;
    }[];
    expect(jobs).toHaveLength(20);
    const tsv = readFileSync(join(runs, 'jobs.tsv'), 'utf8').trim().split('\n');
    expect(tsv).toHaveLength(21);
    const experiment = labExperiment('table2')!;
    for (const [i, job] of jobs.entries()) {
      // The page's lab table keys runs by their config: the job's link must resolve to the row's config exactly.
      const { config, problems } = parseQuery(job.link);
      expect(problems).toEqual([]);
      const row = rowConfig(experiment.rows[job.row]!, { quick: true, seed: job.seed });
      expect(config).toEqual(row);
      expect(experimentKey(config)).toBe(experimentKey(rowConfig(experiment.rows[job.row]!, { quick: true, seed: 1 })));
      expect(job.command).toContain(`--link '${job.link}'`);
      expect(job.command).toMatch(
        /^PYTHONPATH=python torchrun --standalone --nproc_per_node=1 --redirects 1 --tee 1 -m/,
      );
      expect(tsv[i + 1]!.split('\t')).toEqual([String(i), job.name, job.out, job.link, job.command]);
    }
    expect(new Set(jobs.map((j) => j.out)).size).toBe(20);
    const script = join(runs, 'table2.sbatch');
    const text = readFileSync(script, 'utf8');
    expect(text).toContain('#SBATCH --array=0-19');
    expect(text).toContain('#SBATCH --gres=gpu:1');
    expect(text).toContain('#SBATCH --partition=gpu');
    expect(spawnSync('bash', ['-n', script], { encoding: 'utf8' }).status).toBe(0);
  });

  it.skipIf(!hasSbatch)('sbatch --test-only accepts the script (SKIPPED where Slurm is not installed)', () => {
    const r = spawnSync('sbatch', ['--test-only', join(dir, 'runs', 'table2.sbatch')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it.skipIf(!PYTHON)(
    'the Slurm script as an array task: skips a finished job, and the time limit SIGTERM checkpoints a running one',
    async () => {
      const runs = join(dir, 'runs');
      const script = join(runs, 'table2.sbatch');
      const jobs = JSON.parse(readFileSync(join(runs, 'jobs.json'), 'utf8')).jobs as { out: string }[];
      const task = (id: number) => ({ ...process.env, SLURM_ARRAY_TASK_ID: String(id), OMP_NUM_THREADS: '1' });
      writeFileSync(resolve(ROOT, jobs[1]!.out), JSON.stringify({ status: 'finished' }, null, 2));
      const skip = spawnSync('bash', [script], { encoding: 'utf8', env: task(1) });
      expect(skip.status, skip.stderr).toBe(0);
      expect(skip.stdout).toMatch(/table2-r00-s2: already finished/);
      const none = spawnSync('bash', [script], { encoding: 'utf8', env: task(20) });
      expect(none.status).toBe(2);
      expect(none.stderr).toMatch(/no job 20 in .*jobs\.tsv \(it lists 20\)/);

      const child = spawn('bash', [script], { env: task(0), stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      child.stdout.on('data', (b: Buffer) => (log += b.toString()));
      child.stderr.on('data', (b: Buffer) => (log += b.toString()));
      for (let i = 0; i < 1200 && !/iter \d+\/6,400/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
      expect(log).toMatch(/iter \d+\/6,400/); // training
      child.kill('SIGTERM'); // what --signal=B:TERM@300 sends the batch shell before the time limit
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code, log).toBe(1); // the run stopped, it did not finish
      const run = JSON.parse(readFileSync(resolve(ROOT, jobs[0]!.out), 'utf8'));
      expect(run.status).toBe('stopped');
      expect(run.checkpoint.iter).toBeGreaterThan(0);
      expect(existsSync(resolve(ROOT, jobs[0]!.out.replace(/\.json$/, '.ckpt.pt')))).toBe(true);
    },
  );

  it.skipIf(!PYTHON)(
    "the local runner trains a job with --iters overridden, into a file of its own, never the real run's",
    () => {
      const runs = join(dir, 'runs');
      const r = cli('lab', ['run', runs, '--slots', '1', '--device', 'cpu', '--iters', '2', '--only', '0']);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/1 job to run, 1 at a time \(CPU, \d+ threads? per process\), 2 iterations each/);
      expect(r.stdout).toMatch(/\[slot 0\] table2-r00-s1 finished, final test error \d+\.\d\d%/);
      const jobs = JSON.parse(readFileSync(join(runs, 'jobs.json'), 'utf8')).jobs as { out: string; link: string }[];
      const smoke = JSON.parse(readFileSync(resolve(ROOT, jobs[0]!.out.replace(/\.json$/, '.iters2.json')), 'utf8'));
      expect(smoke.status).toBe('finished');
      expect(smoke.config).toEqual({ ...parseQuery(jobs[0]!.link).config, iters: 2, evalEvery: 2 });
      const again = cli('lab', ['run', runs, '--device', 'cpu', '--iters', '2', '--only', '0']);
      expect(again.status).toBe(0);
      expect(again.stdout).toMatch(/table2-r00-s1: already finished/);
      const bad = cli('lab', ['run', join(dir, 'nowhere')]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/^error: no jobs\.json in .*nowhere: write it with npm run lab/);
      const lab = cli('lab', ['table9', '--out', runs]);
      expect(lab.status).toBe(2);
      expect(lab.stderr).toMatch(/^error: no lab "table9": the labs are table1, table2/);
    },
  );
});
