import { describe, expect, it } from 'vitest';
import type { BuiltDataset } from './cifar';
import { DataError } from './errors';
import { cifarFile, gzip } from './fixtures';
import { importFiles } from './importer';
import { writeTar } from './tar';

const file = (bytes: Uint8Array, name: string) => new File([bytes as Uint8Array<ArrayBuffer>], name);

describe('importing in the page', () => {
  it('imports the official .tar.gz layout and saves it once, with progress', async () => {
    const tar = writeTar([
      { name: 'cifar-100-binary/train.bin', data: cifarFile('cifar100', 25, (i) => i % 100) },
      { name: 'cifar-100-binary/test.bin', data: cifarFile('cifar100', 10) },
      { name: 'cifar-100-binary/fine_label_names.txt', data: new TextEncoder().encode('apple\n') },
    ]);
    const saved: BuiltDataset[] = [];
    const phases = new Set<string>();
    const r = await importFiles(
      [file(await gzip(tar), 'cifar-100-binary.tar.gz')],
      async (b) => void saved.push(b),
      (p) => phases.add(p.phase),
    );
    expect(r).toEqual({ dataset: 'cifar100', trainImages: 25, testImages: 10, missing: [] });
    expect(saved).toHaveLength(1);
    expect(saved[0]!.manifest.classNames).toHaveLength(100);
    expect([...phases]).toEqual(['reading', 'checking', 'saving']);
  });

  it('imports extracted .bin files', async () => {
    const r = await importFiles(
      [file(cifarFile('cifar10', 8), 'data_batch_1.bin'), file(cifarFile('cifar10', 4), 'test_batch.bin')],
      async () => {},
    );
    expect(r).toMatchObject({ dataset: 'cifar10', trainImages: 8, testImages: 4 });
    expect(r.missing).toHaveLength(4);
  });

  it('saves nothing when a file is bad, and names the problem', async () => {
    let saves = 0;
    const save = async () => void saves++;
    const cases: [File[], string][] = [
      [
        [
          file(cifarFile('cifar10', 8).subarray(0, 100), 'data_batch_1.bin'),
          file(cifarFile('cifar10', 4), 'test_batch.bin'),
        ],
        'truncated',
      ],
      [[file(new TextEncoder().encode('not gzip at all'), 'cifar-10-binary.tar.gz')], 'bad-archive'],
      [[file(new Uint8Array(10), 'photo.jpg')], 'unknown-files'],
      [[file(cifarFile('cifar10', 8), 'data_batch_1.bin')], 'missing'],
    ];
    for (const [files, code] of cases) {
      const err = await importFiles(files, save).catch((e: unknown) => e);
      expect(err, code).toBeInstanceOf(DataError);
      expect((err as DataError).code).toBe(code);
    }
    expect(saves).toBe(0);
  });
});
