import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifiedFileSchema } from '../src/experiment/claimsVerified';

const root = new URL('..', import.meta.url).pathname;
const claims = (...args: string[]) =>
  spawnSync('npx', ['tsx', 'scripts/claims.ts', ...args], { cwd: root, encoding: 'utf8' });

/**
 * A stand-in for the PyTorch executor with its command line: `-c …` answers the torch probe; `-m identity_mappings
 * train --link Q … --out F` writes a finished run JSON whose loss is 2.0 for the original unit and 2.5 otherwise,
 * and logs the link it trained.
 */
function fakePython(dir: string): string {
  const path = join(dir, 'python');
  writeFileSync(
    path,
    `#!/bin/sh
if [ "$1" = "-c" ]; then echo "0.0-fake"; exit 0; fi
while [ $# -gt 0 ]; do
  case "$1" in --link) link="$2"; shift;; --out) out="$2"; shift;; esac; shift
done
echo "$link" >> "${dir}/trained.log"
case "$link" in unit=original*) loss=2.0;; *) loss=2.5;; esac
seed=$(echo "$link" | sed -n 's/.*seed=\\([0-9]*\\).*/\\1/p')
cat > "$out" <<EOF
{"config": {"iters": 200, "seed": \${seed:-1}}, "status": "finished", "trainImages": 10000, "testImages": 1000,
 "history": {"train": [{"iter": 200, "loss": $loss}], "evals": [{"testError": 80}]}, "signal": []}
EOF
`,
  );
  chmodSync(path, 0o755);
  return path;
}

describe('npm run claims', () => {
  it('refuses a bad option, an unknown claim and a missing dataset, each in one sentence', () => {
    const bad = claims('--seeds', '0');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('error: --seeds needs a whole number from 1 to 10, got 0');
    const unknown = claims('--claims', 'shortcuts,nope');
    expect(unknown.stderr).toContain('error: unknown claim nope: the claims are shortcuts, signal,');
    const noData = claims('--check', '--data', '/nonexistent/cifar10');
    expect(noData.status).toBe(1);
    expect(noData.stderr).toContain('error: no dataset at /nonexistent/cifar10: make it with `npm run data');
  });

  it('--check trains each run in its own process, writes the verdicts, and skips finished runs when run again', () => {
    const committed = readFileSync(join(root, 'src/experiment/claims.verified.json'), 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'claims-check-'));
    const data = join(dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'manifest.json'), '{}');
    const verified = join(dir, 'verified.json');
    const args = ['--check', '--claims', 'bn-after-add', '--seeds', '2', '--no-lock', '--data', data];
    args.push('--runs', join(dir, 'runs'), '--python', fakePython(dir), '--verified', verified);
    const first = claims(...args, '--max-runs', '3');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('4 runs for 1 claims × 2 seeds; 0 already done');
    expect(first.stdout).toContain('stopping after 3 runs (--max-runs); 1 left');
    const partial = verifiedFileSchema.parse(JSON.parse(readFileSync(verified, 'utf8')));
    expect(partial.claims.find((c) => c.id === 'bn-after-add')).toMatchObject({
      of: 1,
      asked: 2,
      verdict: 'incomplete',
    });

    const second = claims(...args);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain('3 already done');
    const trained = readFileSync(join(dir, 'trained.log'), 'utf8').trim().split('\n');
    expect(trained).toHaveLength(4); // each run once
    expect(new Set(trained).size).toBe(4);
    expect(trained[0]).toMatch(/^unit=original&depth=56&.*batch=64&iters=200/);
    const file = verifiedFileSchema.parse(JSON.parse(readFileSync(verified, 'utf8')));
    const bn = file.claims.find((c) => c.id === 'bn-after-add')!;
    expect(bn).toMatchObject({ held: 2, of: 2, asked: 2, verdict: 'reproduced' });
    expect(bn.seeds.map((s) => s.values)).toEqual([
      [2, 2.5],
      [2, 2.5],
    ]);
    expect(second.stdout).toContain('REPRODUCED: the ordering held in 2 of 2 seeds');
    expect(readFileSync(join(root, 'src/experiment/claims.verified.json'), 'utf8')).toBe(committed); // untouched
  });
});
