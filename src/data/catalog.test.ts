import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listDatasets } from '../../scripts/datasetIndexPlugin';
import { availableFrom } from './catalog';

describe('dataset catalog', () => {
  it('always offers the embedded set, and the server sets its index lists', () => {
    expect(availableFrom(null)).toEqual(['synthetic']);
    expect(availableFrom({ datasets: [{ name: 'cifar10' }, { name: 'bogus' }, { nope: 1 }] })).toEqual([
      'cifar10',
      'synthetic',
    ]);
    expect(availableFrom('garbage')).toEqual(['synthetic']);
  });

  it('indexes only dataset folders that hold a manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'data-'));
    mkdirSync(join(dir, 'cifar10'));
    writeFileSync(join(dir, 'cifar10', 'manifest.json'), '{}');
    mkdirSync(join(dir, 'cifar100')); // an interrupted import: no manifest
    expect(listDatasets(dir)).toEqual({ datasets: [{ name: 'cifar10' }] });
    expect(listDatasets(join(dir, 'absent'))).toEqual({ datasets: [] });
  });
});
