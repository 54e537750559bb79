import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listDatasets } from '../../scripts/datasetServer';
import { chooseEntry, mergeCatalog, serverEntries, type DatasetEntry } from './catalog';

describe('dataset catalog', () => {
  it('always offers the embedded set, then what the server and this browser have', () => {
    expect(mergeCatalog([], []).map((e) => e.dataset)).toEqual(['synthetic']);
    const server = serverEntries({
      datasets: [{ name: 'cifar10', trainImages: 10000, testImages: 10000 }, { name: 'bogus' }, 7],
    });
    expect(server).toEqual([
      { dataset: 'cifar10', trainImages: 10000, testImages: 10000, where: 'server', missing: [] },
    ]);
    expect(serverEntries('garbage')).toEqual([]);
    const browser = [
      { dataset: 'cifar100' as const, trainImages: 5, testImages: 5, where: 'browser' as const, missing: [] },
    ];
    expect(mergeCatalog(server, browser).map((e) => `${e.dataset}@${e.where}`)).toEqual([
      'cifar10@server',
      'cifar100@browser',
      'synthetic@embedded',
    ]);
  });

  it('loads the copy with most training images, the server one on a tie', () => {
    const e = (where: DatasetEntry['where'], trainImages: number): DatasetEntry => ({
      dataset: 'cifar10',
      trainImages,
      testImages: 1,
      where,
      missing: [],
    });
    expect(chooseEntry([e('browser', 50), e('server', 10)], 'cifar10')?.where).toBe('browser');
    expect(chooseEntry([e('browser', 10), e('server', 10)], 'cifar10')?.where).toBe('server');
    expect(chooseEntry([e('server', 10)], 'cifar100')).toBeNull();
    expect(chooseEntry(null, 'cifar10')).toBeNull();
  });

  it('indexes only dataset folders that hold a manifest, with their image counts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'data-'));
    mkdirSync(join(dir, 'cifar10'));
    const manifest = {
      splits: { train: [{ records: 30 }, { records: 30 }], test: [{ records: 20 }] },
      missing: ['data_batch_5.bin'],
    };
    writeFileSync(join(dir, 'cifar10', 'manifest.json'), JSON.stringify(manifest));
    mkdirSync(join(dir, 'cifar100')); // an interrupted import: no manifest
    expect(listDatasets(dir)).toEqual({
      datasets: [{ name: 'cifar10', trainImages: 60, testImages: 20, missing: ['data_batch_5.bin'] }],
    });
    expect(listDatasets(join(dir, 'absent'))).toEqual({ datasets: [] });
  });
});
