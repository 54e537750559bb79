/**
 * Depth arithmetic of the paper's CIFAR networks (He et al. 2016, Sec. 4 and the Appendix): three stages of
 * n units each, plus conv1 and the final fully connected layer.
 *   basic units, 2 convs each:      depth = 6n + 2  (ResNet-20/32/44/56/110)
 *   basic units, 1 conv each:       depth = 3n + 2  ("ResNet-110 (1layer skip)", Table 3)
 *   bottleneck units, 3 convs each: depth = 9n + 2  (ResNet-164, ResNet-1001)
 */

export type Block = 'basic' | 'bottleneck';

export interface NetworkShape {
  block: Block;
  depth: number;
  convsPerUnit: number;
}

/** Weight layers in one residual unit (shortcut and gate layers are not counted in the paper's depth). */
export function convsInUnit(s: Pick<NetworkShape, 'block' | 'convsPerUnit'>): number {
  return s.block === 'bottleneck' ? 3 : s.convsPerUnit;
}

/** The form depth must take, e.g. "6n+2". */
export function depthForm(s: Pick<NetworkShape, 'block' | 'convsPerUnit'>): string {
  return `${3 * convsInUnit(s)}n+2`;
}

/** Units per stage, or null when depth does not have the block's form. */
export function unitsPerStage(s: NetworkShape): number | null {
  const step = 3 * convsInUnit(s);
  const n = (s.depth - 2) / step;
  return Number.isInteger(n) && n >= 1 ? n : null;
}

/** The valid depth closest to s.depth for the block (ties go to the shallower network). */
export function nearestDepth(s: NetworkShape): number {
  const step = 3 * convsInUnit(s);
  const n = Math.max(1, Math.round((s.depth - 2) / step - 1e-9));
  return step * n + 2;
}

/** Why a depth is not valid for the block, or null if it is. */
export function depthProblem(s: NetworkShape): string | null {
  if (unitsPerStage(s) !== null) return null;
  const step = 3 * convsInUnit(s);
  const n = Math.max(1, Math.round((s.depth - 2) / step));
  const near = [...new Set([n - 1, n, n + 1].filter((k) => k >= 1).map((k) => step * k + 2))];
  const kind = s.block === 'bottleneck' ? 'bottleneck' : `basic ${s.convsPerUnit}-conv`;
  return `must be of the form ${depthForm(s)} for ${kind} units (n ≥ 1), e.g. ${near.join(', ')}`;
}

/** The figures a reader checks first: units and weight layers (conv and fc, as the paper counts depth). */
export function shapeSummary(s: NetworkShape): { unitsPerStage: number; units: number; weightLayers: number } | null {
  const n = unitsPerStage(s);
  if (n === null) return null;
  return { unitsPerStage: n, units: 3 * n, weightLayers: 3 * n * convsInUnit(s) + 2 };
}
