import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDataset, channelStats, detectDataset, OFFICIAL, validateFile } from './cifar';
import { DataError } from './errors';
import { cifarFile, gzip } from './fixtures';
import { labelOf, pixelOf, recordSet, CIFAR10_LAYOUT } from './format';
import { readTar, tarStream, writeTar } from './tar';

const streamOf = (bytes: Uint8Array) => new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
async function members(bytes: Uint8Array) {
  const out: { name: string; size: number }[] = [];
  for await (const m of readTar(await tarStream(streamOf(bytes)))) out.push({ name: m.name, size: m.data.length });
  return out;
}
const code = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e instanceof DataError ? e.code : `not a DataError: ${(e as Error).message}`;
  }
  return 'no error';
};

describe('CIFAR records', () => {
  it('reads CIFAR-10 labels, plane order (R, G, B) and orientation (row-major)', () => {
    const set = validateFile(OFFICIAL.cifar10, 'data_batch_1.bin', cifarFile('cifar10', 12));
    expect(set.count).toBe(12);
    expect(labelOf(set, 7)).toBe(7);
    expect(pixelOf(set, 5, 0, 3, 30)).toBe(24); // R encodes the row
    expect(pixelOf(set, 5, 1, 3, 30)).toBe(240); // G encodes the column
    expect(pixelOf(set, 5, 2, 3, 30)).toBe(5); // B encodes the record
  });

  it('reads CIFAR-100 fine labels after the coarse label', () => {
    const set = validateFile(
      OFFICIAL.cifar100,
      'train.bin',
      cifarFile('cifar100', 4, (i) => 90 + i),
    );
    expect(set.layout.recordBytes).toBe(3074);
    expect([0, 1, 2, 3].map((i) => labelOf(set, i))).toEqual([90, 91, 92, 93]);
    expect(pixelOf(set, 2, 1, 0, 31)).toBe(248);
  });

  it('refuses a truncated file, too many records, and labels out of range, each with its own error', async () => {
    const good = cifarFile('cifar10', 3);
    expect(
      await code(() => validateFile(OFFICIAL.cifar10, 'test_batch.bin', good.subarray(0, good.length - 100))),
    ).toBe('truncated');
    expect(await code(() => validateFile(OFFICIAL.cifar100, 'test.bin', cifarFile('cifar10', 2)))).toBe('truncated');
    expect(await code(() => validateFile(OFFICIAL.cifar10, 'test_batch.bin', new Uint8Array(0)))).toBe('record-count');
    expect(await code(() => validateFile(OFFICIAL.cifar10, 'test_batch.bin', cifarFile('cifar10', 10_001)))).toBe(
      'record-count',
    );
    expect(
      await code(() =>
        validateFile(
          OFFICIAL.cifar10,
          'test_batch.bin',
          cifarFile('cifar10', 3, () => 10),
        ),
      ),
    ).toBe('label-range');
    expect(() => validateFile(OFFICIAL.cifar10, 'test_batch.bin', good.subarray(0, 3072))).toThrow(
      /3,072 bytes is not a whole number of 3073-byte CIFAR-10 records/,
    );
  });

  it('tells the datasets apart by their official file names', async () => {
    expect(detectDataset(['cifar-10-batches-bin/data_batch_3.bin'])).toBe('cifar10');
    expect(detectDataset(['cifar-100-binary/test.bin'])).toBe('cifar100');
    expect(await code(() => detectDataset(['readme.html', 'photo.jpg']))).toBe('unknown-files');
  });
});

describe('shards and manifest', () => {
  it('cuts a partial CIFAR-10 set into shards, names what is missing and hashes every shard', async () => {
    const files = new Map([
      ['x/data_batch_1.bin', cifarFile('cifar10', 30)],
      ['x/test_batch.bin', cifarFile('cifar10', 20)],
    ]);
    const { manifest, shards } = await buildDataset(OFFICIAL.cifar10, files, 'test');
    expect(shards.map((s) => s.file)).toEqual(['train-0.bin', 'test-0.bin']);
    expect(manifest.splits.train).toEqual([
      { file: 'train-0.bin', records: 30, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    expect(manifest.missing).toEqual(['data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin']);
    expect(manifest.normalization.mean).toEqual([125.3, 123.0, 113.9]);
    expect(manifest.classNames[9]).toBe('truck');
  });

  it('needs the test file and one training file', async () => {
    const onlyTrain = new Map([['data_batch_1.bin', cifarFile('cifar10', 2)]]);
    expect(await code(buildDataset(OFFICIAL.cifar10, onlyTrain, 'test'))).toBe('missing');
  });

  it('computes per-channel statistics on the 0–255 scale', () => {
    const set = recordSet(CIFAR10_LAYOUT, cifarFile('cifar10', 2));
    const s = channelStats([set]);
    expect(s.mean[0]).toBeCloseTo(124, 6); // rows 0..31 × 8
    expect(s.mean[2]).toBeCloseTo(0.5, 6); // records 0 and 1
    expect(s.std[2]).toBeCloseTo(0.5, 6);
  });
});

describe('tar and gzip', () => {
  const tar = writeTar([
    { name: 'cifar-10-batches-bin/batches.meta.txt', data: new TextEncoder().encode('airplane\n') },
    { name: 'cifar-10-batches-bin/test_batch.bin', data: cifarFile('cifar10', 5) },
  ]);

  it('reads the members of a .tar and of a .tar.gz', async () => {
    const expected = [
      { name: 'cifar-10-batches-bin/batches.meta.txt', size: 9 },
      { name: 'cifar-10-batches-bin/test_batch.bin', size: 5 * 3073 },
    ];
    expect(await members(tar)).toEqual(expected);
    expect(await members(await gzip(tar))).toEqual(expected);
  });

  it('refuses a corrupt gzip, a truncated archive and a file that is no archive', async () => {
    const gz = await gzip(tar);
    const corrupt = gz.slice();
    corrupt.fill(0x55, 40, 200);
    expect(await code(members(corrupt))).toBe('bad-archive');
    expect(await code(members(tar.subarray(0, 3000)))).toBe('bad-archive');
    expect(await code(members(new TextEncoder().encode('hello, this is not a tarball'.repeat(40))))).toBe(
      'bad-archive',
    );
    expect(await code(members(new Uint8Array(0)))).toBe('bad-archive');
  });
});

const SHARED = new URL('../../../shared/data/cifar10/', import.meta.url);
const hasShared = existsSync(new URL('test_batch.bin', SHARED));

describe.skipIf(!hasShared)('real CIFAR-10 in ../shared/data/cifar10', () => {
  it('has the per-channel statistics its SOURCE.md states (test set, /255)', () => {
    const set = validateFile(
      OFFICIAL.cifar10,
      'test_batch.bin',
      new Uint8Array(readFileSync(new URL('test_batch.bin', SHARED))),
    );
    const s = channelStats([set]);
    // SOURCE.md: test mean 0.4941/0.4851/0.4504, std 0.2448/0.2422/0.2606.
    [0.4941, 0.4851, 0.4504].forEach((m, c) => expect(s.mean[c]! / 255).toBeCloseTo(m, 3));
    [0.2448, 0.2422, 0.2606].forEach((d, c) => expect(s.std[c]! / 255).toBeCloseTo(d, 3));
    expect(new Set(Array.from({ length: set.count }, (_, i) => labelOf(set, i))).size).toBe(10);
  });
});
if (!hasShared) console.warn('skipping the real-CIFAR-10 checks: ../shared/data/cifar10 is absent');
