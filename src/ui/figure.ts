/**
 * Charts as figures to take away: the chart's own SVG (axes, ticks, axis labels, curves) composed with a title
 * and a legend drawn in SVG, so the file stands alone as the paper's figures do; and the same figure as a PNG at
 * print resolution (300 dpi for the figure's on-screen size, written into the PNG).
 */
import { withDpi } from './png';

export interface LegendItem {
  label: string;
  color: string;
  /** 'line' (solid), 'dashed', or a filled 'box' (a colour scale's end). */
  mark?: 'line' | 'dashed' | 'box';
}

export interface FigureSpec {
  title: string;
  /** Charts side by side, each with an optional caption above it. */
  panels: { svg: SVGSVGElement; caption?: string }[];
  legend: LegendItem[];
  /** A line under the legend (e.g. which line style is which quantity). */
  note?: string;
}

/** Print resolution: CSS pixels are 96 to the inch. */
export const PRINT_DPI = 300;
export const PRINT_SCALE = PRINT_DPI / 96;

const FONT = 'Helvetica, Arial, sans-serif';
const PAD = 12;
const TITLE_H = 22;
const CAPTION_H = 16;
const LEGEND_ROW = 16;
const SWATCH = 24;
const GAP = 16;

const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

let measureCtx: CanvasRenderingContext2D | null = null;
/** Text width at the figure's font, as the browser lays it out. */
function textWidth(text: string, size: number): number {
  measureCtx ??= document.createElement('canvas').getContext('2d');
  if (!measureCtx) return text.length * size * 0.6;
  measureCtx.font = `${size}px ${FONT}`;
  return measureCtx.measureText(text).width;
}

/** The chart's SVG without what only the pointer shows (tooltip cursor, active dots), at its drawn size. */
function panelMarkup(svg: SVGSVGElement, x: number, y: number): { markup: string; width: number; height: number } {
  const box = svg.getBoundingClientRect();
  const width = Math.round(box.width) || Number(svg.getAttribute('width')) || 400;
  const height = Math.round(box.height) || Number(svg.getAttribute('height')) || 300;
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone
    .querySelectorAll('.recharts-tooltip-cursor, .recharts-active-dot, [data-figure-skip]')
    .forEach((n) => n.remove());
  clone.removeAttribute('style');
  clone.removeAttribute('class');
  clone.setAttribute('x', String(x));
  clone.setAttribute('y', String(y));
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  if (!clone.getAttribute('viewBox')) clone.setAttribute('viewBox', `0 0 ${width} ${height}`);
  clone.setAttribute('overflow', 'visible');
  return { markup: new XMLSerializer().serializeToString(clone), width, height };
}

function legendMark(item: LegendItem, x: number, y: number): string {
  const c = escapeXml(item.color);
  if (item.mark === 'box')
    return `<rect x="${x + 6}" y="${y - 6}" width="12" height="10" fill="${c}" stroke="#888" stroke-width="0.5"/>`;
  const dash = item.mark === 'dashed' ? ' stroke-dasharray="5 3"' : '';
  return `<line x1="${x}" y1="${y - 1}" x2="${x + SWATCH}" y2="${y - 1}" stroke="${c}" stroke-width="2"${dash}/>`;
}

/** The figure as a standalone SVG document. */
export function figureSvg(spec: FigureSpec): { svg: string; width: number; height: number } {
  const hasCaptions = spec.panels.some((p) => p.caption);
  const top = PAD + TITLE_H + (hasCaptions ? CAPTION_H : 0);
  let x = PAD;
  let panelsH = 0;
  const parts: string[] = [];
  for (const p of spec.panels) {
    const panel = panelMarkup(p.svg, x, top);
    if (p.caption)
      parts.push(`<text x="${x + 4}" y="${top - 5}" font-size="12" font-weight="bold">${escapeXml(p.caption)}</text>`);
    parts.push(panel.markup);
    x += panel.width + GAP;
    panelsH = Math.max(panelsH, panel.height);
  }
  const width = Math.max(x - GAP + PAD, 320);
  // The legend wraps to the figure's width, one entry after another.
  let ly = top + panelsH + PAD + LEGEND_ROW - 4;
  let lx = PAD;
  for (const item of spec.legend) {
    const w = SWATCH + 6 + textWidth(item.label, 11) + GAP;
    if (lx > PAD && lx + w > width - PAD) {
      lx = PAD;
      ly += LEGEND_ROW;
    }
    parts.push(legendMark(item, lx, ly));
    parts.push(`<text x="${lx + SWATCH + 6}" y="${ly + 3}" font-size="11">${escapeXml(item.label)}</text>`);
    lx += w;
  }
  if (spec.note) {
    ly += LEGEND_ROW;
    parts.push(`<text x="${PAD}" y="${ly + 3}" font-size="10" fill="#555">${escapeXml(spec.note)}</text>`);
  }
  const height = Math.ceil(ly + PAD);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="11" fill="#222">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${PAD}" y="${PAD + 14}" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
    ...parts,
    '</svg>',
  ].join('\n');
  return { svg, width, height };
}

/** The SVG rasterised at `scale` (white background), as PNG bytes that say their resolution. */
export async function svgToPng(
  svg: string,
  width: number,
  height: number,
  scale = PRINT_SCALE,
): Promise<Uint8Array<ArrayBuffer>> {
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser cannot draw the figure (no 2D canvas)');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('the figure could not be encoded as PNG');
  return withDpi(new Uint8Array(await blob.arrayBuffer()), PRINT_DPI);
}
