/** Small CIFAR files in the official layout, made by the tests (never real data). */
import { CIFAR10_LAYOUT, CIFAR100_LAYOUT } from './format';

/**
 * `count` records whose pixels encode where they are: R = y·8 mod 256, G = x·8 mod 256, B = record index, so a
 * test can check plane order and orientation. Labels cycle through the classes.
 */
export function cifarFile(dataset: 'cifar10' | 'cifar100', count: number, labelOf = (i: number) => i % 10): Uint8Array {
  const layout = dataset === 'cifar10' ? CIFAR10_LAYOUT : CIFAR100_LAYOUT;
  const out = new Uint8Array(count * layout.recordBytes);
  for (let i = 0; i < count; i++) {
    const r = i * layout.recordBytes;
    if (dataset === 'cifar100') out[r] = labelOf(i) % 20; // coarse label
    out[r + layout.labelOffset] = labelOf(i);
    const px = r + layout.pixelOffset;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        out[px + y * 32 + x] = (y * 8) % 256;
        out[px + 1024 + y * 32 + x] = (x * 8) % 256;
        out[px + 2048 + y * 32 + x] = i % 256;
      }
    }
  }
  return out;
}

export function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).arrayBuffer().then((b) => new Uint8Array(b));
}
