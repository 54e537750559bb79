/** Short names for experiments, as the chart legend and the run list show them. */
import { applies, type Config } from './schema';
import { UNITS, type UnitParam } from './units';

const PARAM_TEXT: Record<UnitParam, (c: Config) => string> = {
  shortcutScale: (c) => `λ=${c.shortcutScale}`,
  residualScale: (c) => `s=${c.residualScale}`,
  gateBias: (c) => `b_g=${c.gateBias}`,
  dropRate: (c) => `p=${c.dropRate}`,
};

/** "scale (λ=0.5, s=0.5) · ResNet-110": the variant with its parameters, and the depth. */
export function runLabel(c: Config): string {
  const params = UNITS[c.unit].params.map((p) => PARAM_TEXT[p](c));
  const form =
    c.block === 'bottleneck' ? ' bottleneck' : applies('convsPerUnit', c) && c.convsPerUnit === 1 ? ' (1 layer)' : '';
  return `${c.unit}${params.length ? ` (${params.join(', ')})` : ''} · ResNet-${c.depth}${form}`;
}
