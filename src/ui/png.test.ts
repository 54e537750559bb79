import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, readDpi, withDpi } from './png';

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(new Uint8Array([...head.subarray(4), ...data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A 1×1 white PNG, built by the book. */
function tinyPng(): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const idat = deflateSync(Buffer.from([0, 255, 255, 255]));
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
      chunk('IHDR', ihdr),
      chunk('IDAT', idat),
      chunk('IEND', new Uint8Array()),
    ]),
  );
}

describe('PNG print resolution', () => {
  it('crc32 matches the known check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('adds a pHYs chunk with a valid CRC after IHDR; the image data is untouched', () => {
    const png = tinyPng();
    expect(readDpi(png)).toBeNull();
    const out = withDpi(png, 300);
    expect(out.length).toBe(png.length + 21);
    expect(readDpi(out)).toBe(300);
    expect(String.fromCharCode(...out.subarray(37, 41))).toBe('pHYs');
    const view = new DataView(out.buffer);
    expect(view.getUint32(41)).toBe(11811); // 300 dpi in pixels per metre
    expect(view.getUint32(50)).toBe(crc32(out.subarray(37, 50)));
    expect(out.subarray(54)).toEqual(png.subarray(33));
  });

  it('refuses what is not a PNG', () => {
    expect(() => withDpi(new Uint8Array(40), 300)).toThrow('not a PNG');
  });
});
