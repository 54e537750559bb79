/**
 * The embedded offline demo set: 32×32 colour images of ten simple shapes, generated from a seed. It is NOT
 * CIFAR and says nothing about the paper's numbers; it exists so the playground can train something real with
 * no download, and so tests and the first visit have data.
 *
 * Why it looks as it does: the class is carried by the shape alone. Position, size, a slight rotation, the
 * foreground and background colours, per-pixel noise and an occasional distractor blob are drawn independently
 * of the class, and each shape is scaled to the same expected area, so neither colour nor overall brightness
 * gives the class away: a network has to learn edges and layouts, as on real images, though far fewer of them, so
 * a small ResNet gets well above chance within a few hundred steps. The shape is always the clearly brighter of
 * its two colours (a lit object on a darker ground): that gives every class the same polarity, which keeps the
 * task easy enough for a short demo run, and it is still the same for every class.
 *
 * Records are written in CIFAR-10's layout, so the rest of the pipeline cannot tell this set from a real one.
 * Each image is drawn from its own seeded stream, so any prefix of a split equals that prefix of the full split.
 */
import { CIFAR10_LAYOUT, IMAGE_SIZE, recordSet, type RecordSet } from './format';

export const SYNTHETIC_CLASS_NAMES: string[] = [
  'disc',
  'square',
  'ring',
  'cross',
  'h-stripes',
  'v-stripes',
  'triangle',
  'diagonal',
  'checker',
  'two-dots',
];

export const SYNTHETIC_SIZES = { train: 10000, test: 2000 };

const CLASSES = 10;
// Local copies: some module loaders turn imported bindings into getter calls, costly in the pixel loop.
const SIZE = IMAGE_SIZE;
const PLANE = SIZE * SIZE;
const RECORD = CIFAR10_LAYOUT.recordBytes;
const PIXEL_OFFSET = CIFAR10_LAYOUT.pixelOffset;

/** Mixes 32 bits thoroughly (the murmur3 finaliser), to derive unrelated streams from nearby integers. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: small, fast and good enough for pictures; the state is one integer, so nothing is allocated. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
}

/**
 * Whether shape `cls` covers the point (u, v), in the shape's own frame: its box is roughly [-1, 1]², v grows
 * downwards as image rows do.
 */
function inside(cls: number, u: number, v: number): boolean {
  const au = Math.abs(u);
  const av = Math.abs(v);
  switch (cls) {
    case 0: // disc
      return u * u + v * v <= 1;
    case 1: // square
      return au <= 0.85 && av <= 0.85;
    case 2: {
      // ring: the hole is what tells it from the disc
      const r2 = u * u + v * v;
      return r2 <= 1 && r2 >= 0.3;
    }
    case 3: // cross (plus sign)
      return (au <= 0.3 && av <= 1) || (av <= 0.3 && au <= 1);
    case 4: // three horizontal stripes
      return au <= 1 && av <= 1 && (v + 1) * 1.5 - Math.floor((v + 1) * 1.5) < 0.5;
    case 5: // three vertical stripes
      return au <= 1 && av <= 1 && (u + 1) * 1.5 - Math.floor((u + 1) * 1.5) < 0.5;
    case 6: // triangle, apex up
      return v >= -1 && v <= 0.8 && au <= (v + 1) / 1.8;
    case 7: // diagonal bar, top-left to bottom-right
      return au <= 1 && av <= 1 && Math.abs(u - v) <= 0.5;
    case 8: // 4×4 checkerboard
      return au <= 1 && av <= 1 && ((Math.floor((u + 1) * 2) + Math.floor((v + 1) * 2)) & 1) === 0;
    default: {
      // two dots side by side
      const du = au - 0.55;
      return du * du + v * v <= 0.16;
    }
  }
}

/** Texels across a shape template, which spans [-1, 1]² of the shape's frame. */
const TEMPLATE = 128;
const TEXELS = TEMPLATE * TEMPLATE;
const HALF = TEMPLATE / 2;

/**
 * Each shape rasterised once into a fine 0/1 template, so the pixel loop samples a table instead of branching
 * on the class; this roughly halves the time to generate a set.
 */
const TEMPLATES: Uint8Array = (() => {
  const t = new Uint8Array(CLASSES * TEXELS);
  for (let c = 0; c < CLASSES; c++) {
    for (let j = 0; j < TEMPLATE; j++) {
      for (let i = 0; i < TEMPLATE; i++) {
        const u = -1 + (2 * (i + 0.5)) / TEMPLATE;
        const v = -1 + (2 * (j + 0.5)) / TEMPLATE;
        t[c * TEXELS + j * TEMPLATE + i] = inside(c, u, v) ? 1 : 0;
      }
    }
  }
  return t;
})();

/**
 * Per-class size factors that give every shape the same area, so the fraction of bright pixels (and with it
 * the mean colour) carries no class information.
 */
const AREA_SCALE: Float64Array = (() => {
  const target = 2; // in units of the frame, where [-1, 1]² has area 4
  const scale = new Float64Array(CLASSES);
  for (let c = 0; c < CLASSES; c++) {
    let hits = 0;
    for (let k = 0; k < TEXELS; k++) hits += TEMPLATES[c * TEXELS + k]!;
    scale[c] = Math.sqrt(target / ((4 * hits) / TEXELS));
  }
  return scale;
})();

function luminance(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/** Fills one image's 3072 pixel bytes at `out[base..]`, drawing everything but the label from `rng`. */
function drawImage(out: Uint8Array, base: number, cls: number, rng: Rng, colours: Float64Array): void {
  // Colours: both random; redrawn until they contrast enough to see, then ordered so the shape is the brighter.
  let lumBg = 0;
  let lumFg = 0;
  do {
    for (let k = 0; k < 6; k++) colours[k] = rng.range(0, 256);
    lumBg = luminance(colours[0]!, colours[1]!, colours[2]!);
    lumFg = luminance(colours[3]!, colours[4]!, colours[5]!);
  } while (Math.abs(lumFg - lumBg) < 100);
  if (lumFg < lumBg) {
    for (let k = 0; k < 3; k++) {
      const t = colours[k]!;
      colours[k] = colours[k + 3]!;
      colours[k + 3] = t;
    }
  }
  const bgR = colours[0]!;
  const bgG = colours[1]!;
  const bgB = colours[2]!;
  const dR = colours[3]! - bgR;
  const dG = colours[4]! - bgG;
  const dB = colours[5]! - bgB;

  // Placement: centre, size and a slight tilt (enough to vary, too little to turn h-stripes into v-stripes).
  const cx = 16 + rng.range(-3, 3);
  const cy = 16 + rng.range(-3, 3);
  const radius = rng.range(6.5, 10) * AREA_SCALE[cls]!;
  const angle = rng.range(-0.2, 0.2);
  const cos = Math.cos(angle) / radius;
  const sin = Math.sin(angle) / radius;
  // The template covers [-1, 1]² of the frame, so pixels beyond this reach need no sampling (most of them).
  const tpl = cls * TEXELS;
  const reach = radius * (Math.cos(angle) + Math.abs(Math.sin(angle))) + 1;
  const x0 = cx - reach;
  const x1 = cx + reach;
  const y0 = cy - reach;
  const y1 = cy + reach;

  // Distractor: a small blob of a third colour, in a quarter of the images, anywhere.
  const hasBlob = rng.float() < 0.25;
  const blobX = rng.range(0, 32);
  const blobY = rng.range(0, 32);
  const blobR2 = rng.range(1.5, 3) ** 2;
  const blobR = rng.range(0, 256);
  const blobG = rng.range(0, 256);
  const blobB = rng.range(0, 256);

  // Noise: uniform in [-30, 30] per channel, from three bytes of one draw per pixel. The generator is inlined
  // with its state in a local, which keeps this loop free of calls and allocations.
  let noise = rng.u32() | 0;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      // 2×2 supersampling softens the edges, so the shapes are not all jagged staircases at this size.
      let cover = 0;
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) {
        for (let s = 0; s < 4; s++) {
          const dx = x + 0.25 + 0.5 * (s & 1) - cx;
          const dy = y + 0.25 + 0.5 * (s >> 1) - cy;
          const u = cos * dx + sin * dy;
          const v = cos * dy - sin * dx;
          if (u >= -1 && u < 1 && v >= -1 && v < 1) {
            cover += TEMPLATES[tpl + (((v + 1) * HALF) | 0) * TEMPLATE + (((u + 1) * HALF) | 0)]!;
          }
        }
        cover *= 0.25;
      }
      let r = bgR + cover * dR;
      let g = bgG + cover * dG;
      let b = bgB + cover * dB;
      if (hasBlob) {
        const bx = x + 0.5 - blobX;
        const by = y + 0.5 - blobY;
        if (bx * bx + by * by <= blobR2) {
          r = blobR;
          g = blobG;
          b = blobB;
        }
      }
      noise = (noise + 0x6d2b79f5) | 0;
      let n = Math.imul(noise ^ (noise >>> 15), noise | 1);
      n ^= n + Math.imul(n ^ (n >>> 7), n | 61);
      n ^= n >>> 14;
      // Each byte maps to 0..60; the -29.5 (not -30) makes the truncation to an integer below round.
      r += (((n & 0xff) * 61) >> 8) - 29.5;
      g += ((((n >>> 8) & 0xff) * 61) >> 8) - 29.5;
      b += ((((n >>> 16) & 0xff) * 61) >> 8) - 29.5;
      // Clamp as integers: typed-array stores wrap rather than clamp, and integer stores are faster than doubles.
      const ri = r | 0;
      const gi = g | 0;
      const bi = b | 0;
      const p = base + y * SIZE + x;
      out[p] = ri < 0 ? 0 : ri > 255 ? 255 : ri;
      out[p + PLANE] = gi < 0 ? 0 : gi > 255 ? 255 : gi;
      out[p + 2 * PLANE] = bi < 0 ? 0 : bi > 255 ? 255 : bi;
    }
  }
}

/**
 * `count` images (default: the split's full size) of the demo set for `seed`. Labels come in shuffled blocks of
 * ten, so every prefix of a multiple of ten images is exactly balanced.
 */
export function generateSynthetic(seed: number, split: 'train' | 'test', count?: number): RecordSet {
  const n = count ?? SYNTHETIC_SIZES[split];
  if (!Number.isInteger(n) || n < 0) throw new Error(`image count must be a whole number ≥ 0, got ${n}`);
  // Separate streams per split, so train and test share no images.
  const stream = mix32(mix32(seed >>> 0) ^ (split === 'train' ? 0x5eed7a1e : 0x7e57da7a));
  const bytes = new Uint8Array(n * RECORD);
  const colours = new Float64Array(6);
  const order = new Uint8Array(CLASSES);
  for (let i = 0; i < n; i++) {
    if (i % CLASSES === 0) {
      // Fisher–Yates over a block of ten, from the block's own stream.
      const blockRng = new Rng(mix32(stream ^ mix32((i / CLASSES) | 0) ^ 0xb10c));
      for (let k = 0; k < CLASSES; k++) order[k] = k;
      for (let k = CLASSES - 1; k > 0; k--) {
        const j = blockRng.int(k + 1);
        const t = order[k]!;
        order[k] = order[j]!;
        order[j] = t;
      }
    }
    const label = order[i % CLASSES]!;
    const base = i * RECORD;
    bytes[base] = label;
    drawImage(bytes, base + PIXEL_OFFSET, label, new Rng(mix32(stream + Math.imul(i + 1, 0x9e3779b9))), colours);
  }
  return recordSet(CIFAR10_LAYOUT, bytes);
}
