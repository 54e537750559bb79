/**
 * A streaming reader for the official CIFAR tarballs (.tar.gz or .tar), in the browser and in Node alike:
 * gzip through the platform's DecompressionStream, tar headers parsed here (POSIX ustar and GNU long names).
 * Members are yielded one at a time, so only one file (at most CIFAR-100's 153 MB train.bin) is held at once.
 */
import { DataError } from './errors';

export interface TarMember {
  /** Path inside the archive, e.g. "cifar-10-batches-bin/data_batch_1.bin". */
  name: string;
  data: Uint8Array;
}

const BLOCK = 512;

/** Pulls exact byte counts out of a stream of arbitrary chunks. */
class ByteReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private done = false;
  consumed = 0;

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** Exactly n bytes, or null at a clean end of stream; throws if the stream ends mid-way. */
  async read(n: number): Promise<Uint8Array | null> {
    while (this.buffered < n && !this.done) {
      const { value, done } = await this.reader.read();
      if (done) this.done = true;
      else if (value.length > 0) {
        this.chunks.push(value);
        this.buffered += value.length;
      }
    }
    if (this.buffered === 0 && this.done) return null;
    if (this.buffered < n) throw new DataError('bad-archive', 'the archive ends in the middle of a file (truncated?)');
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0]!;
      const take = Math.min(head.length, n - filled);
      out.set(head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(take);
    }
    this.buffered -= n;
    this.consumed += n;
    return out;
  }
}

function text(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? bytes.subarray(0, end) : bytes);
}

function octal(bytes: Uint8Array): number {
  const s = text(bytes).trim();
  if (!/^[0-7]*$/.test(s)) throw new DataError('bad-archive', 'not a tar archive (a header field is not octal)');
  return s === '' ? 0 : parseInt(s, 8);
}

function checksumOk(header: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  return sum === octal(header.subarray(148, 156));
}

/** Whether the first bytes are gzip's magic number. */
export function isGzip(head: Uint8Array): boolean {
  return head[0] === 0x1f && head[1] === 0x8b;
}

/** Decompresses when gzip, passes through when plain tar; the result is a stream of tar bytes. */
export async function tarStream(stream: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const [probe, data] = stream.tee();
  const first = await probe.getReader().read();
  void probe.cancel().catch(() => {});
  if (first.done) throw new DataError('bad-archive', 'the file is empty');
  return isGzip(first.value)
    ? data.pipeThrough(new DecompressionStream('gzip') as ReadableWritablePair<Uint8Array, Uint8Array>)
    : data;
}

/**
 * Yields each regular file of a tar stream. `onBytes` reports the archive bytes consumed so far (for a
 * progress bar of the uncompressed stream).
 */
export async function* readTar(
  stream: ReadableStream<Uint8Array>,
  onBytes?: (consumed: number) => void,
): AsyncGenerator<TarMember> {
  const reader = stream.getReader();
  const bytes = new ByteReader(reader);
  let longName: string | null = null;
  try {
    for (;;) {
      let header: Uint8Array | null;
      try {
        header = await bytes.read(BLOCK);
      } catch (e) {
        throw e instanceof DataError
          ? e
          : new DataError('bad-archive', `not a readable archive (${(e as Error).message})`);
      }
      if (header === null || header.every((b) => b === 0)) return; // end-of-archive blocks
      if (!checksumOk(header)) throw new DataError('bad-archive', 'not a tar archive (a header checksum is wrong)');
      const size = octal(header.subarray(124, 136));
      const type = String.fromCharCode(header[156]!);
      const prefix = text(header.subarray(345, 500));
      const name = longName ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
      const body = size > 0 ? await bytes.read(size) : new Uint8Array(0);
      if (body === null) throw new DataError('bad-archive', 'the archive ends in the middle of a file (truncated?)');
      const padding = (BLOCK - (size % BLOCK)) % BLOCK;
      if (padding > 0 && (await bytes.read(padding)) === null) return;
      onBytes?.(bytes.consumed);
      if (type === 'L') {
        longName = text(body); // GNU long name: applies to the next header
        continue;
      }
      longName = null;
      if (type === '0' || type === '\0') yield { name, data: body };
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError('bad-archive', `not a readable archive (${(e as Error).message})`);
  } finally {
    reader.releaseLock();
  }
}

/** Writes a tar archive (ustar) of the given files: for tests and fixtures. */
export function writeTar(files: { name: string; data: Uint8Array }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const f of files) {
    const h = new Uint8Array(BLOCK);
    h.set(enc.encode(f.name).subarray(0, 100), 0);
    h.set(enc.encode('0000644\0'), 100);
    h.set(enc.encode('0000000\0'), 108);
    h.set(enc.encode('0000000\0'), 116);
    h.set(enc.encode(`${f.data.length.toString(8).padStart(11, '0')}\0`), 124);
    h.set(enc.encode('00000000000\0'), 136);
    h[156] = '0'.charCodeAt(0);
    h.set(enc.encode('ustar\0' + '00'), 257);
    h.fill(32, 148, 156);
    const sum = h.reduce((a, b) => a + b, 0);
    h.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    parts.push(h, f.data, new Uint8Array((BLOCK - (f.data.length % BLOCK)) % BLOCK));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
