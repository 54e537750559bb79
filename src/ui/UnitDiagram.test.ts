import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { UNIT_IDS, UNITS, type UnitId } from '../experiment/units';
import { UnitDiagram } from './UnitDiagram';

const render = (unit: UnitId) => renderToStaticMarkup(createElement(UnitDiagram, { unit }));

/** The `<g ...>` opening tags carrying a given data-where, in document order. */
function groups(markup: string, where: string): string[] {
  return [...markup.matchAll(/<g\b[^>]*>/g)].map((m) => m[0]).filter((tag) => tag.includes(`data-where="${where}"`));
}

/** The label of each box with a given data-where, in document order. */
function boxLabels(markup: string, where: string): string[] {
  const re = new RegExp(
    `<g\\b[^>]*data-where="${where}"[^>]*>\\s*<rect\\b[^>]*/?>(?:</rect>)?\\s*<text\\b[^>]*>([^<]*)</text>`,
    'g',
  );
  return [...markup.matchAll(re)].map((m) => m[1]!);
}

const opOf = (tag: string) => /data-op="([^"]*)"/.exec(tag)?.[1];

function ariaLabel(markup: string): string {
  const m = /<svg\b[^>]*aria-label="([^"]*)"/.exec(markup);
  expect(m).not.toBeNull();
  return m![1]!;
}

describe('UnitDiagram', () => {
  for (const id of UNIT_IDS) {
    describe(id, () => {
      const { structure, diagram } = UNITS[id];
      const markup = render(id);

      it('renders an accessible svg with a title and a fixed viewBox', () => {
        expect(markup.startsWith('<svg')).toBe(true);
        expect(markup).toContain('data-testid="unit-diagram"');
        expect(markup).toContain('role="img"');
        expect(markup).toContain('width="100%"');
        expect(markup).toMatch(/viewBox="0 0 160 \d+(\.\d+)?"/);
        expect(markup).toMatch(/<title>Residual unit: [^<]+<\/title>/);
      });

      it('draws each then last on the branch, in order', () => {
        const tags = groups(markup, 'branch');
        expect(tags).toHaveLength(structure.each.length + structure.last.length);
        expect(tags.map(opOf)).toEqual([...structure.each, ...structure.last]);
      });

      it('draws the factors on F(x) before the addition', () => {
        expect(boxLabels(markup, 'branch-factor')).toEqual([...diagram.onBranch]);
      });

      it('draws afterAdd after the addition', () => {
        const tags = groups(markup, 'after-add');
        expect(tags).toHaveLength(structure.afterAdd.length);
        expect(tags.map(opOf)).toEqual([...structure.afterAdd]);
      });

      it('draws the shortcut boxes with their labels', () => {
        expect(groups(markup, 'shortcut')).toHaveLength(diagram.onShortcut.length);
        expect(boxLabels(markup, 'shortcut')).toEqual([...diagram.onShortcut]);
      });

      it('describes the shortcut in its aria-label', () => {
        const label = ariaLabel(markup);
        expect(label).toMatch(/shortcut /);
        if (diagram.onShortcut.length === 0) expect(label).toContain('shortcut identity');
        else for (const s of diagram.onShortcut) expect(label).toContain(s);
      });

      it('draws one addition and labels input and output', () => {
        expect(groups(markup, 'add')).toHaveLength(1);
        expect(markup).toMatch(/>x<\/tspan><tspan[^>]*baseline-shift="sub"[^>]*>l<\/tspan>/);
        expect(markup).toMatch(/>x<\/tspan><tspan[^>]*baseline-shift="sub"[^>]*>l\+1<\/tspan>/);
      });
    });
  }

  it('original: one ReLU after the addition', () => {
    const markup = render('original');
    expect(groups(markup, 'after-add').map(opOf)).toEqual(['ReLU']);
    expect(boxLabels(markup, 'after-add')).toEqual(['ReLU']);
    expect(ariaLabel(markup)).toBe(
      'Residual unit: branch weight, BN, ReLU, weight, BN; shortcut identity; after addition ReLU',
    );
  });

  it('full-preact: nothing after the addition, branch starts with BN', () => {
    const markup = render('full-preact');
    expect(groups(markup, 'after-add')).toHaveLength(0);
    expect(opOf(groups(markup, 'branch')[0]!)).toBe('BN');
    expect(boxLabels(markup, 'branch')[0]).toBe('BN');
    expect(ariaLabel(markup)).toContain('nothing after addition');
  });

  it('conv-shortcut: 1×1 conv on the shortcut', () => {
    const markup = render('conv-shortcut');
    expect(boxLabels(markup, 'shortcut')).toContain('1×1 conv');
  });

  it('weight layers are labelled "weight"', () => {
    const markup = render('original');
    expect(boxLabels(markup, 'branch')).toEqual(['weight', 'BN', 'ReLU', 'weight', 'BN']);
  });

  it('grows taller with more boxes', () => {
    const height = (unit: UnitId) => Number(/viewBox="0 0 160 ([\d.]+)"/.exec(render(unit))![1]);
    // bn-after-add moves one row from the branch (4 ops) to after the addition (BN, ReLU): same height.
    expect(height('bn-after-add')).toBe(height('original'));
    expect(height('scale')).toBeGreaterThan(height('original'));
  });
});
