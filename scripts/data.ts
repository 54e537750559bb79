/**
 * npm run data -- cifar10|cifar100 [--from <tarball or folder>] [--url <mirror>] [--no-verify] [--out <dir>]
 *
 * Gets the official CIFAR binary archive (downloads it, or takes a local tarball or a folder of its .bin files),
 * checks it (the published MD5 for an archive; whole records, counts and labels for every file), and writes
 * shards plus manifest.json to data/<name>/ (or $PLAYGROUND_DATA_DIR/<name>/), which the server publishes at once. A partial set (say only
 * data_batch_1.bin and test_batch.bin) is converted with the missing files named. On any error nothing is left
 * behind: shards are written to a temporary folder and moved into place only when complete.
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  buildDataset,
  detectDataset,
  OFFICIAL,
  splitRecords,
  type CifarId,
  type OfficialDataset,
} from '../src/data/cifar';
import { DataError } from '../src/data/errors';
import { readTar, tarStream } from '../src/data/tar';
import { dataDir } from './datasetServer';

const USAGE =
  'usage: npm run data -- cifar10|cifar100 [--from <tarball or folder>] [--url <mirror>] [--no-verify] [--out <dir>]';

interface Options {
  dataset: CifarId;
  from?: string;
  url?: string;
  verify: boolean;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const rest = [...argv];
  const opts: Partial<Options> = { verify: true, out: dataDir() };
  while (rest.length) {
    const a = rest.shift()!;
    if (a === '--from') opts.from = rest.shift();
    else if (a === '--url') opts.url = rest.shift();
    else if (a === '--out') opts.out = rest.shift();
    else if (a === '--no-verify') opts.verify = false;
    else if (a === 'cifar10' || a === 'cifar100') opts.dataset = a;
    else if (a === 'synthetic') throw new Error('the synthetic demo set is embedded in the app: nothing to fetch');
    else throw new Error(`unknown argument "${a}"\n${USAGE}`);
  }
  if (!opts.dataset) throw new Error(USAGE);
  if (opts.from === undefined && argv.includes('--from')) throw new Error(`--from needs a path\n${USAGE}`);
  return opts as Options;
}

/** A progress bar on stderr: redrawn in place on a terminal, a line every 10% otherwise. */
function progress(label: string, total: number) {
  let lastTenth = -1;
  return (done: number) => {
    const f = total > 0 ? Math.min(done / total, 1) : 0;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const line = `${label} [${'#'.repeat(Math.round(f * 30)).padEnd(30)}] ${(f * 100).toFixed(0).padStart(3)}% ${mb(done)}/${mb(total)} MB`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}${f >= 1 ? '\n' : ''}`);
    else if (Math.floor(f * 10) > lastTenth) {
      lastTenth = Math.floor(f * 10);
      process.stderr.write(`${line}\n`);
    }
  };
}

async function md5(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function download(d: OfficialDataset, url: string, to: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    const cause = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
    throw new DataError(
      'network',
      `could not download ${url} (${cause}). Offline? Get ${url.split('/').pop()} on another machine and run: npm run data -- ${d.id} --from <file>`,
    );
  }
  if (!res.ok || !res.body) throw new DataError('network', `could not download ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || d.archiveBytes;
  const bar = progress(`downloading ${d.label}`, total);
  let done = 0;
  const counted = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  counted.on('data', (chunk: Buffer) => bar((done += chunk.length)));
  await pipeline(counted, createWriteStream(to));
}

/** The official files found in a tarball, keyed by their path in it. */
async function filesFromArchive(path: string): Promise<Map<string, Uint8Array>> {
  const size = statSync(path).size;
  const bar = progress('reading archive', size);
  let read = 0;
  const raw = Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
  const counted = raw.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        bar((read += chunk.length));
        ctl.enqueue(chunk);
      },
    }),
  );
  const files = new Map<string, Uint8Array>();
  for await (const m of readTar(await tarStream(counted))) if (m.name.endsWith('.bin')) files.set(m.name, m.data);
  return files;
}

function filesFromFolder(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const visit = (d: string, depth: number) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isFile() && e.name.endsWith('.bin'))
        files.set(join(d, e.name), new Uint8Array(readFileSync(join(d, e.name))));
      else if (e.isDirectory() && depth < 1) visit(join(d, e.name), depth + 1); // the archive's own sub-folder
    }
  };
  visit(dir, 0);
  return files;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const d = OFFICIAL[opts.dataset];
  const work = join(tmpdir(), `cifar-${process.pid}-${Date.now()}`);
  mkdirSync(work, { recursive: true });
  const outDir = resolve(opts.out, d.id);
  const staging = resolve(opts.out, `.${d.id}.partial-${process.pid}`);
  try {
    let files: Map<string, Uint8Array>;
    let source: string;
    if (opts.from && existsSync(opts.from) && statSync(opts.from).isDirectory()) {
      files = filesFromFolder(opts.from);
      source = `folder ${resolve(opts.from)}`;
    } else {
      let archive = opts.from;
      if (archive === undefined) {
        archive = join(work, d.url.split('/').pop()!);
        await download(d, opts.url ?? d.url, archive);
      } else if (!existsSync(archive)) throw new DataError('missing', `${archive} does not exist`);
      if (opts.verify || opts.from === undefined) {
        const sum = await md5(archive);
        if (sum !== d.md5) {
          throw new DataError(
            'checksum',
            `checksum mismatch for ${archive}: MD5 ${sum}, the official ${d.label} archive has ${d.md5}. The file is corrupt or not the official archive${opts.from ? ' (--no-verify converts it anyway, after checking every record)' : ''}.`,
          );
        }
        process.stderr.write(`MD5 ${sum} matches the official ${d.label} archive\n`);
      }
      files = await filesFromArchive(archive);
      source = opts.from ? `archive ${resolve(opts.from)}` : (opts.url ?? d.url);
    }
    if (detectDataset([...files.keys()]) !== d.id) {
      throw new DataError('unknown-files', `these are not ${d.label} files: ${[...files.keys()].join(', ')}`);
    }
    const { manifest, shards } = await buildDataset(d, files, source);

    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    for (const s of shards) writeFileSync(join(staging, s.file), s.bytes);
    writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    rmSync(outDir, { recursive: true, force: true });
    renameSync(staging, outDir);

    const fmt = (n: number) => n.toLocaleString('en-US');
    const train = splitRecords(manifest, 'train');
    const full = d.train.reduce((a, f) => a + f.records, 0);
    console.log(
      `${d.label}: ${fmt(train)} training and ${fmt(splitRecords(manifest, 'test'))} test images in ${shards.length} shards → ${outDir}`,
    );
    if (manifest.missing.length) {
      console.log(
        `partial set: missing ${manifest.missing.join(', ')}; using ${fmt(train)} of the ${fmt(full)} training images`,
      );
    }
    const st = manifest.trainStats;
    console.log(
      `training pixels, per channel (0-255): mean ${st.mean.map((m) => m.toFixed(2)).join(' / ')}, std ${st.std.map((s) => s.toFixed(2)).join(' / ')}`,
    );
    console.log(
      'npm start (or a server already running) serves it now: reload the page and pick it in the Dataset field.',
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
