/**
 * Importing CIFAR in the page: the user's official tarball (.tar.gz / .tar) or its extracted .bin files are
 * streamed, validated and cut into shards in the worker, then saved whole. Nothing is saved unless every file
 * passes; the error says which file and why.
 */
import { buildDataset, detectDataset, OFFICIAL, splitRecords, type BuiltDataset } from './cifar';
import { DataError } from './errors';
import { readTar, tarStream } from './tar';

export interface ImportProgress {
  phase: 'reading' | 'checking' | 'saving';
  /** 0–1 of the bytes read (reading), else 0 or 1. */
  fraction: number;
}

export interface ImportResult {
  dataset: BuiltDataset['manifest']['dataset'];
  trainImages: number;
  testImages: number;
  missing: string[];
}

const isArchive = (name: string) => /\.(tar\.gz|tgz|tar)$/i.test(name);

export async function importFiles(
  files: File[],
  save: (built: BuiltDataset) => Promise<void>,
  onProgress: (p: ImportProgress) => void = () => {},
): Promise<ImportResult> {
  if (files.length === 0) throw new DataError('missing', 'no file was given');
  const total = files.reduce((a, f) => a + f.size, 0);
  let read = 0;
  const found = new Map<string, Uint8Array>();
  for (const file of files) {
    if (isArchive(file.name)) {
      const counted = file.stream().pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, ctl) {
            read += chunk.length;
            onProgress({ phase: 'reading', fraction: read / total });
            ctl.enqueue(chunk);
          },
        }),
      );
      for await (const m of readTar(await tarStream(counted))) if (m.name.endsWith('.bin')) found.set(m.name, m.data);
    } else if (file.name.endsWith('.bin')) {
      found.set(file.name, new Uint8Array(await file.arrayBuffer()));
      read += file.size;
      onProgress({ phase: 'reading', fraction: read / total });
    } else {
      throw new DataError(
        'unknown-files',
        `${file.name} is neither the official .tar.gz archive nor one of its .bin files`,
      );
    }
  }
  onProgress({ phase: 'checking', fraction: 0 });
  const names = [...found.keys()];
  const d = OFFICIAL[detectDataset(names)];
  const built = await buildDataset(d, found, `imported ${files.map((f) => f.name).join(', ')}`);
  onProgress({ phase: 'saving', fraction: 0 });
  await save(built);
  onProgress({ phase: 'saving', fraction: 1 });
  return {
    dataset: d.id,
    trainImages: splitRecords(built.manifest, 'train'),
    testImages: splitRecords(built.manifest, 'test'),
    missing: built.manifest.missing,
  };
}
