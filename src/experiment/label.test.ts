import { describe, expect, it } from 'vitest';
import { parseQuery } from './codec';
import { runLabel } from './label';

const label = (q: string) => runLabel(parseQuery(q).config);

describe('runLabel', () => {
  it('names the variant, its parameters and the depth', () => {
    expect(label('unit=full-preact&depth=110')).toBe('full-preact · ResNet-110');
    expect(label('unit=scale&shortcutScale=0.5&residualScale=0.5&depth=110')).toBe('scale (λ=0.5, s=0.5) · ResNet-110');
    expect(label('unit=exclusive-gate&gateBias=-7')).toBe('exclusive-gate (b_g=-7) · ResNet-20');
    expect(label('unit=original&depth=164&block=bottleneck')).toBe('original · ResNet-164 bottleneck');
    expect(label('convsPerUnit=1&depth=110')).toBe('full-preact · ResNet-110 (1 layer)');
  });
});
