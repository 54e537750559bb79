import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cifarFile, gzip } from '../src/data/fixtures';
import { writeTar } from '../src/data/tar';

const root = new URL('..', import.meta.url).pathname;
function data(args: string[]) {
  const r = spawnSync('npx', ['tsx', 'scripts/data.ts', ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const fresh = () => mkdtempSync(join(tmpdir(), 'data-cli-'));
/** What the output folder holds afterwards: nothing at all after a failure. */
const contents = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

async function smallArchive(dir: string, testRecords = 20) {
  const tar = writeTar([
    { name: 'cifar-10-batches-bin/data_batch_1.bin', data: cifarFile('cifar10', 30) },
    { name: 'cifar-10-batches-bin/data_batch_2.bin', data: cifarFile('cifar10', 30) },
    { name: 'cifar-10-batches-bin/test_batch.bin', data: cifarFile('cifar10', testRecords) },
    { name: 'cifar-10-batches-bin/batches.meta.txt', data: new TextEncoder().encode('airplane\n') },
  ]);
  const path = join(dir, 'cifar-10-binary.tar.gz');
  writeFileSync(path, await gzip(tar));
  return path;
}

describe('npm run data', () => {
  it('converts a tarball in the official layout into shards and a manifest', async () => {
    const dir = fresh();
    const r = data(['cifar10', '--from', await smallArchive(dir), '--no-verify', '--out', join(dir, 'out')]);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toContain('60 training and 20 test images in 3 shards');
    expect(r.out).toContain('missing data_batch_3.bin, data_batch_4.bin, data_batch_5.bin');
    expect(contents(join(dir, 'out'))).toEqual(['cifar10']);
    expect(contents(join(dir, 'out', 'cifar10')).sort()).toEqual([
      'manifest.json',
      'test-0.bin',
      'train-0.bin',
      'train-1.bin',
    ]);
    const manifest = JSON.parse(readFileSync(join(dir, 'out', 'cifar10', 'manifest.json'), 'utf8'));
    expect(manifest.splits.test[0].records).toBe(20);
  });

  it('refuses an archive whose MD5 is not the official one, and writes nothing', async () => {
    const dir = fresh();
    const r = data(['cifar10', '--from', await smallArchive(dir), '--out', join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error: checksum mismatch .* c32a1d4ab5d03f1284b67883e8d87530/);
    expect(contents(join(dir, 'out'))).toEqual([]);
  });

  it('refuses a truncated file with its name, and writes nothing', () => {
    const dir = fresh();
    mkdirSync(join(dir, 'in'));
    writeFileSync(join(dir, 'in', 'data_batch_1.bin'), cifarFile('cifar10', 3));
    writeFileSync(join(dir, 'in', 'test_batch.bin'), cifarFile('cifar10', 3).subarray(0, 5000));
    const r = data(['cifar10', '--from', join(dir, 'in'), '--out', join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error: test_batch.bin: 5,000 bytes is not a whole number of 3073-byte CIFAR-10 records');
    expect(contents(join(dir, 'out'))).toEqual([]);
  });

  it('refuses a file that is not an archive, and writes nothing', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'fake.tar.gz'), 'certainly not gzip'.repeat(100));
    const r = data(['cifar10', '--from', join(dir, 'fake.tar.gz'), '--no-verify', '--out', join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error: not a (tar|readable) archive/);
    expect(contents(join(dir, 'out'))).toEqual([]);
  });

  it('says clearly when the download fails (offline), and writes nothing', () => {
    const dir = fresh();
    const r = data(['cifar100', '--url', 'http://127.0.0.1:9/cifar-100-binary.tar.gz', '--out', join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /error: could not download http:\/\/127\.0\.0\.1:9\/.*Offline\? .*npm run data -- cifar100 --from <file>/,
    );
    expect(contents(join(dir, 'out'))).toEqual([]);
  });

  it('answers a wrong command with its usage', () => {
    expect(data(['imagenet']).err).toMatch(/unknown argument "imagenet"\nusage: npm run data/);
  });

  const shared = new URL('../../shared/data/cifar10/', import.meta.url).pathname;
  it.skipIf(!existsSync(shared))('converts the partial real CIFAR-10 in ../shared/data/cifar10', () => {
    const dir = fresh();
    const r = data(['cifar10', '--from', shared, '--out', join(dir, 'out')]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('10,000 training and 10,000 test images in 2 shards');
    expect(r.out).toContain('using 10,000 of the 50,000 training images');
    const manifest = JSON.parse(readFileSync(join(dir, 'out', 'cifar10', 'manifest.json'), 'utf8'));
    // The shards are the files themselves: same SHA-256 as SOURCE.md lists.
    expect(manifest.splits.train[0].sha256).toBe('a6f48cd4d8745d5b80b6a0f7665654d54e1aacda199a3a966cb7958b11d38f22');
    expect(manifest.splits.test[0].sha256).toBe('2696e48ae3fe74d50ecaacc0b8092b89bf95cd3f6471d079f4cbd39a956c18c3');
  });
});
