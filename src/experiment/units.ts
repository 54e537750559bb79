/**
 * The residual-unit variants of the paper, as data.
 *
 * Each entry says where the unit comes from (Fig. 2: what sits on the shortcut; Fig. 4: where BN and ReLU
 * sit), its formula, which experiment keys parameterise it, and the paper's reported CIFAR-10 test error.
 * The model issue adds one builder per id; nothing else in the code branches on a unit's name.
 */

export const UNIT_IDS = [
  'original',
  'scale',
  'exclusive-gate',
  'shortcut-gate',
  'conv-shortcut',
  'dropout-shortcut',
  'bn-after-add',
  'relu-before-add',
  'relu-preact',
  'full-preact',
] as const;

export type UnitId = (typeof UNIT_IDS)[number];

/** One step of a residual unit as the paper draws it: a weight layer (conv), batch norm, or ReLU. */
export type LayerOp = 'W' | 'BN' | 'ReLU';

/** What sits on the shortcut (Fig. 2); its builder lives in src/model/shortcuts.ts. */
export type ShortcutKind = 'identity' | 'scale' | 'exclusive-gate' | 'shortcut-gate' | 'conv' | 'dropout';

/**
 * The unit's structure as data. The residual branch F is `each` once per weight layer but the last, then `last`
 * (2 weight layers for basic units, 3 for bottleneck, 1 for the "1layer skip" nets). `afterAdd` is f, applied to
 * the sum. `stem` follows conv1 and `head` follows the last unit, so the network around the units matches them.
 */
export interface UnitStructure {
  each: readonly LayerOp[];
  last: readonly LayerOp[];
  afterAdd: readonly LayerOp[];
  shortcut: ShortcutKind;
  stem: readonly LayerOp[];
  head: readonly LayerOp[];
}

const POST: Omit<UnitStructure, 'shortcut'> = {
  each: ['W', 'BN', 'ReLU'],
  last: ['W', 'BN'],
  afterAdd: ['ReLU'],
  stem: ['BN', 'ReLU'],
  head: [],
};

/** Experiment keys that only some units read. */
export type UnitParam = 'shortcutScale' | 'residualScale' | 'gateBias' | 'dropRate';

/** A result the paper reports for this unit (CIFAR-10 test error, %, median of 5 runs; null = "fail", > 20%). */
export interface PaperResult {
  depth: number;
  error: number | null;
  /** The setting the number was measured at, when the unit has parameters (Table 1). */
  setting?: string;
}

export interface UnitInfo {
  id: UnitId;
  figure: '2' | '4';
  /** Panel letter in its figure, e.g. "(c)". */
  panel: string;
  title: string;
  /** x_{l+1} as a function of x_l, in plain text. */
  formula: string;
  params: readonly UnitParam[];
  structure: UnitStructure;
  /**
   * What the diagram draws besides the branch ops: boxes on the shortcut (the paper's grey arrow) and factors
   * applied to F(x) just before the addition. Plain text; the diagram labels its boxes with them.
   */
  diagram: { onShortcut: readonly string[]; onBranch: readonly string[] };
  paper: readonly PaperResult[];
}

const PLAIN = { onShortcut: [], onBranch: [] } as const;

export const UNITS: Readonly<Record<UnitId, UnitInfo>> = {
  original: {
    id: 'original',
    figure: '2',
    panel: '(a)',
    title: 'Original (identity shortcut)',
    formula: 'x_{l+1} = ReLU(x_l + F(x_l))',
    params: [],
    structure: { ...POST, shortcut: 'identity' },
    diagram: PLAIN,
    paper: [
      { depth: 110, error: 6.61 },
      { depth: 164, error: 5.93 },
    ],
  },
  scale: {
    id: 'scale',
    figure: '2',
    panel: '(b)',
    title: 'Constant scaling',
    formula: 'x_{l+1} = ReLU(λ·x_l + s·F(x_l))',
    params: ['shortcutScale', 'residualScale'],
    structure: { ...POST, shortcut: 'scale' },
    diagram: { onShortcut: ['× λ'], onBranch: ['× s'] },
    paper: [
      { depth: 110, error: null, setting: 'λ = 0, s = 1' },
      { depth: 110, error: null, setting: 'λ = 0.5, s = 1' },
      { depth: 110, error: 12.35, setting: 'λ = 0.5, s = 0.5' },
    ],
  },
  'exclusive-gate': {
    id: 'exclusive-gate',
    figure: '2',
    panel: '(c)',
    title: 'Exclusive gating',
    formula: 'x_{l+1} = ReLU((1−g(x_l))·x_l + g(x_l)·F(x_l)),  g = σ(1×1 conv + b_g)',
    params: ['gateBias'],
    structure: { ...POST, shortcut: 'exclusive-gate' },
    diagram: { onShortcut: ['× (1−g)'], onBranch: ['× g'] },
    paper: [
      { depth: 110, error: null, setting: 'b_g = 0 … −5' },
      { depth: 110, error: 8.7, setting: 'b_g = −6' },
      { depth: 110, error: 9.81, setting: 'b_g = −7' },
    ],
  },
  'shortcut-gate': {
    id: 'shortcut-gate',
    figure: '2',
    panel: '(d)',
    title: 'Shortcut-only gating',
    formula: 'x_{l+1} = ReLU((1−g(x_l))·x_l + F(x_l)),  g = σ(1×1 conv + b_g)',
    params: ['gateBias'],
    structure: { ...POST, shortcut: 'shortcut-gate' },
    diagram: { onShortcut: ['× (1−g)'], onBranch: [] },
    paper: [
      { depth: 110, error: 12.86, setting: 'b_g = 0' },
      { depth: 110, error: 6.91, setting: 'b_g = −6' },
    ],
  },
  'conv-shortcut': {
    id: 'conv-shortcut',
    figure: '2',
    panel: '(e)',
    title: '1×1 conv shortcut',
    formula: 'x_{l+1} = ReLU(BN(W_s x_l) + F(x_l))',
    params: [],
    structure: { ...POST, shortcut: 'conv' },
    diagram: { onShortcut: ['1×1 conv', 'BN'], onBranch: [] },
    paper: [{ depth: 110, error: 12.22 }],
  },
  'dropout-shortcut': {
    id: 'dropout-shortcut',
    figure: '2',
    panel: '(f)',
    title: 'Dropout shortcut',
    formula: 'x_{l+1} = ReLU(dropout(x_l) + F(x_l))',
    params: ['dropRate'],
    structure: { ...POST, shortcut: 'dropout' },
    diagram: { onShortcut: ['dropout'], onBranch: [] },
    paper: [{ depth: 110, error: null, setting: 'dropout 0.5' }],
  },
  'bn-after-add': {
    id: 'bn-after-add',
    figure: '4',
    panel: '(b)',
    title: 'BN after addition',
    formula: 'x_{l+1} = ReLU(BN(x_l + F(x_l))),  F = conv-BN-ReLU-conv',
    params: [],
    structure: { ...POST, last: ['W'], afterAdd: ['BN', 'ReLU'], shortcut: 'identity' },
    diagram: PLAIN,
    paper: [
      { depth: 110, error: 8.17 },
      { depth: 164, error: 6.5 },
    ],
  },
  'relu-before-add': {
    id: 'relu-before-add',
    figure: '4',
    panel: '(c)',
    title: 'ReLU before addition',
    formula: 'x_{l+1} = x_l + ReLU(F(x_l)),  F = conv-BN-ReLU-conv-BN',
    params: [],
    structure: { ...POST, last: ['W', 'BN', 'ReLU'], afterAdd: [], shortcut: 'identity' },
    diagram: PLAIN,
    paper: [
      { depth: 110, error: 7.84 },
      { depth: 164, error: 6.14 },
    ],
  },
  'relu-preact': {
    id: 'relu-preact',
    figure: '4',
    panel: '(d)',
    title: 'ReLU-only pre-activation',
    formula: 'x_{l+1} = x_l + F(x_l),  F = ReLU-conv-BN-ReLU-conv-BN',
    params: [],
    structure: {
      each: ['ReLU', 'W', 'BN'],
      last: ['ReLU', 'W', 'BN'],
      afterAdd: [],
      shortcut: 'identity',
      stem: ['BN'],
      head: ['BN', 'ReLU'],
    },
    diagram: PLAIN,
    paper: [
      { depth: 110, error: 6.71 },
      { depth: 164, error: 5.91 },
    ],
  },
  'full-preact': {
    id: 'full-preact',
    figure: '4',
    panel: '(e)',
    title: 'Full pre-activation',
    formula: 'x_{l+1} = x_l + F(x_l),  F = BN-ReLU-conv-BN-ReLU-conv',
    params: [],
    structure: {
      each: ['BN', 'ReLU', 'W'],
      last: ['BN', 'ReLU', 'W'],
      afterAdd: [],
      shortcut: 'identity',
      stem: [],
      head: ['BN', 'ReLU'],
    },
    diagram: PLAIN,
    paper: [
      { depth: 110, error: 6.37 },
      { depth: 164, error: 5.46 },
    ],
  },
};

/** Pre-activation units (Fig. 4d, 4e) start their branch with activations rather than a weight layer. */
export function isPreActivation(id: UnitId): boolean {
  return UNITS[id].structure.each[0] !== 'W';
}

/** The units that read a given parameter: a parameter key is valid in a link only next to one of these. */
export function unitsUsing(param: UnitParam): UnitId[] {
  return UNIT_IDS.filter((id) => UNITS[id].params.includes(param));
}
