import { describe, expect, it } from 'vitest';
import {
  changesScience,
  claimById,
  claimOverrides,
  claimRowConfig,
  claimRowRun,
  claimSeeds,
  CLAIMS,
  claimsRuns,
  expectText,
  lastQuarterLoss,
  overSeeds,
  overridesText,
  pendingClaimRuns,
  seedVerdict,
  trainedKey,
  type ClaimRunView,
} from './claims';
import { summariseCheck, verifiedFor, type CheckedRun } from './claimsVerified';
import { VERIFIED } from './claimsVerifiedData';
import { parseQuery } from './codec';
import { CLAIM_IDS } from './labIds';
import type { SignalProfile, TrainPoint } from './record';
import { defaults, type Config } from './schema';

const point = (iter: number, loss: number): TrainPoint => ({
  iter,
  loss,
  epoch: 0,
  lr: 0.1,
  imagesPerSec: 1,
  elapsedMs: iter,
});
const profile = (backwardRatio: number): SignalProfile => ({ units: [], backwardRatio, images: 32 });

/** A finished run of a claim's row whose loss is `loss` at every iteration. */
function run(claimId: string, row: number, seed: number, loss: number, extra: Partial<ClaimRunView> = {}) {
  const claim = claimById(claimId)!;
  const config = claimRowConfig(claim, claim.rows[row]!, { seed });
  return {
    config,
    status: 'finished',
    train: [point(100, 9), point(config.iters, loss)],
    startedAt: seed * 10 + row,
    ...extra,
  } satisfies ClaimRunView;
}

describe('claims', () => {
  it('are listed in CLAIM_IDS order; every row is a valid link at its claim settings, rows of a claim differ', () => {
    expect(CLAIMS.map((c) => c.id)).toEqual([...CLAIM_IDS]);
    for (const claim of CLAIMS) {
      expect(parseQuery(claim.settings).problems, claim.id).toEqual([]);
      const keys = claim.rows.map((row) => {
        const { config, problems } = claimRowRun(claim, row, { seed: 1 });
        expect(problems, `${claim.id}: ${row.label}`).toEqual([]);
        return trainedKey(config);
      });
      expect(new Set(keys).size, claim.id).toBe(keys.length);
      for (const [a, b] of claim.expect) expect(a !== b && claim.rows[a] && claim.rows[b], claim.id).toBeTruthy();
    }
  });

  it('train the short protocol: ResNet-56, batch 64, 200 iterations, 50 at 0.01 then 0.1, no step', () => {
    const c = claimRowConfig(CLAIMS[0]!, CLAIMS[0]!.rows[1]!, { seed: 3 });
    expect(c).toMatchObject({ unit: 'scale', shortcutScale: 0.5, residualScale: 1, depth: 56, batch: 64 });
    expect(c).toMatchObject({ iters: 200, warmupIters: 50, warmupLr: 0.01, lr: 0.1, milestones: [], seed: 3 });
    expect(c.dataset).toBe('cifar10');
    const deep = claimById('depth')!;
    expect(claimRowConfig(deep, deep.rows[1]!, { seed: 1 })).toMatchObject({ unit: 'original', depth: 110, batch: 64 });
  });

  it("the page's changed keys apply over every claim, never the row's unit or the seed", () => {
    expect(claimOverrides(defaults())).toEqual({});
    const mine: Config = { ...defaults(), unit: 'scale', seed: 7, dataset: 'synthetic', iters: 6, backend: 'wasm' };
    const over = claimOverrides(mine);
    expect(over).toEqual({ dataset: 'synthetic', iters: 6, backend: 'wasm' });
    expect(changesScience(over)).toEqual(['dataset', 'iters']);
    expect(changesScience({ backend: 'wasm', evalEvery: 3 })).toEqual([]);
    expect(overridesText(over)).toBe('dataset=synthetic&iters=6&backend=wasm');
    const bn = claimById('bn-after-add')!;
    expect(claimRowConfig(bn, bn.rows[1]!, { seed: 2, over })).toMatchObject({
      unit: 'bn-after-add',
      dataset: 'synthetic',
      iters: 6,
      backend: 'wasm',
      depth: 56,
      seed: 2,
    });
  });

  it('match runs to rows whatever their backend or evaluation interval, never across seeds or settings', () => {
    const claim = claimById('bn-after-add')!;
    const c = claimRowConfig(claim, claim.rows[1]!, { seed: 2 });
    expect(trainedKey({ ...c, backend: 'wasm', evalEvery: 7, checkpointMinutes: 0 })).toBe(trainedKey(c));
    expect(trainedKey({ ...c, seed: 5 })).toBe(trainedKey(c));
    expect(trainedKey({ ...c, iters: 201 })).not.toBe(trainedKey(c));
    // The micro-batch a run resolved auto to counts as auto when it is auto's own choice (64 at batch 64), not below.
    expect(trainedKey({ ...c, microBatch: 64 })).toBe(trainedKey(c));
    expect(trainedKey({ ...c, microBatch: 32 })).not.toBe(trainedKey(c));
    const wasm = {
      ...run('bn-after-add', 0, 1, 1.9),
      config: { ...c, unit: 'original' as const, seed: 1, backend: 'wasm' as const },
    };
    expect(claimSeeds(claim, [wasm, run('bn-after-add', 1, 1, 2.3)], [])).toHaveLength(1);
  });

  it('list each run once: the original unit serves three claims, the signal claim reads the shortcut runs', () => {
    const runs = claimsRuns(CLAIM_IDS, { seeds: 2 });
    expect(runs).toHaveLength(2 * (5 + 1 + 2 + 2));
    expect(claimsRuns(['signal'], { seeds: 1 }).map((r) => r.config.unit)).toEqual(['original', 'scale']);
    expect(runs.filter((r) => r.claim === 'signal')).toEqual([]);
    const done = [{ config: runs[0]!.config, status: 'finished' }];
    expect(pendingClaimRuns(CLAIM_IDS, { seeds: 2 }, done)).toHaveLength(runs.length - 1);
    const stopped = [{ config: runs[0]!.config, status: 'stopped' }];
    expect(pendingClaimRuns(CLAIM_IDS, { seeds: 2 }, stopped)).toHaveLength(runs.length);
  });

  it('read the mean training loss of the last quarter, each point weighted by its iterations there', () => {
    // Points hold the mean loss since the previous point: (0,100] 4.0, (100,160] 3.0, (160,200] 2.0.
    const train = [point(100, 4), point(160, 3), point(200, 2)];
    expect(lastQuarterLoss(train, 200)).toBeCloseTo((10 * 3 + 40 * 2) / 50, 12);
    expect(lastQuarterLoss([point(200, 2.5)], 200)).toBe(2.5);
    expect(lastQuarterLoss(train.slice(0, 2), 200)).toBeUndefined(); // not finished
    expect(lastQuarterLoss([point(100, 4), point(150, NaN)], 200)).toBe(Infinity);
    expect(lastQuarterLoss([point(6, 2)], 6)).toBe(2);
  });

  it('a seed holds when every expected pair is ordered; a claim is reproduced in ≥ 4 of 5 seeds', () => {
    const claim = claimById('activation')!; // full-preact < original < relu-before-add
    expect(seedVerdict(claim, [1, 2, 3]).holds).toBe(true);
    const v = seedVerdict(claim, [1, 3, 2]);
    expect(v.holds).toBe(false);
    expect(v.pairs.map((p) => p.holds)).toEqual([true, false]);
    expect(seedVerdict(claim, [1, 2, Infinity]).holds).toBe(true); // a diverged impeded unit trained worse
    expect(overSeeds(4, 5)).toBe('reproduced');
    expect(overSeeds(3, 5)).toBe('not reproduced');
    expect(overSeeds(1, 1)).toBe('reproduced');
    expect(overSeeds(0, 0)).toBe('not reproduced');
    expect(expectText(claim)).toBe('full pre-activation < original (identity shortcut) < ReLU before addition');
    expect(expectText(claimById('shortcuts')!)).toMatch(/^original \(identity shortcut\) < each of constant scaling/);
    expect(
      expectText({
        ...claim,
        expect: [
          [0, 1],
          [0, 2],
          [1, 2],
        ],
      }),
    ).toBe(
      'full pre-activation < original (identity shortcut); full pre-activation < ReLU before addition; ' +
        'original (identity shortcut) < ReLU before addition',
    );
  });

  it("gather the page's runs per seed: the newest run of each row, only seeds where every row has a result", () => {
    const bn = claimById('bn-after-add')!;
    const runs = [
      run('bn-after-add', 0, 1, 1.9),
      run('bn-after-add', 1, 1, 2.3),
      run('bn-after-add', 0, 2, 2.0),
      run('bn-after-add', 1, 2, 1.8, { startedAt: 1 }),
      run('bn-after-add', 1, 2, 2.4, { startedAt: 100 }), // a re-run of the same seed: the newest counts
      run('bn-after-add', 0, 3, 2.0), // seed 3 has no second row yet
      run('bn-after-add', 1, 3, 2.0, { status: 'running', train: [point(50, 2)] }),
    ];
    const seeds = claimSeeds(bn, runs, []);
    expect(seeds.map((s) => [s.seed, s.values, s.verdict.holds])).toEqual([
      [1, [1.9, 2.3], true],
      [2, [2.0, 2.4], true],
    ]);
    const diverged = run('bn-after-add', 1, 3, NaN, { status: 'diverged', startedAt: 500 });
    expect(claimSeeds(bn, [...runs, diverged], []).at(-1)).toMatchObject({ seed: 3, values: [2.0, Infinity] });
  });

  it('the signal claim reads measurements at initialisation, from runs or from the signal view', () => {
    const claim = claimById('signal')!;
    const over = { dataset: 'synthetic' as const };
    const config = (row: number, seed: number) => claimRowConfig(claim, claim.rows[row]!, { seed, over });
    const init = [
      { config: config(0, 1), profile: profile(20), at: 1 },
      { config: config(1, 1), profile: profile(0.001), at: 2 },
      { config: config(1, 2), at: 3 }, // still measuring
    ];
    const fromRun = { ...run('signal', 0, 2, 2), config: config(0, 2), signals: [{ iter: 0, profile: profile(10) }] };
    const seeds = claimSeeds(claim, [fromRun], init, over);
    expect(seeds).toHaveLength(1);
    expect(seeds[0]!.values[0]).toBeCloseTo(Math.log10(20), 12);
    expect(seeds[0]!.values[1]).toBeCloseTo(3, 12);
    expect(seeds[0]!.verdict.holds).toBe(true);
    expect(claimSeeds(claim, [], init, {})).toEqual([]); // other settings: not these rows
  });
});

describe('the check over seeds', () => {
  const doc = (r: ReturnType<typeof run>, testError = 70): CheckedRun => ({
    config: r.config,
    status: r.status,
    history: { train: r.train, evals: [{ testError }] },
    signal: [{ iter: 0, profile: profile(r.config.unit === 'scale' ? 1000 : 20) }],
  });

  it('summarises run JSONs per claim and seed with the page metric, diverged runs as null', () => {
    const docs = new Map<string, CheckedRun>();
    const put = (r: ReturnType<typeof run>) => docs.set(`${trainedKey(r.config)}#${r.config.seed}`, doc(r));
    for (const seed of [1, 2]) {
      put(run('shortcuts', 0, seed, 1.9));
      for (const row of [1, 2, 3, 4]) put(run('shortcuts', row, seed, 2 + row / 10));
    }
    put(run('bn-after-add', 1, 1, NaN, { status: 'diverged' }));
    const out = summariseCheck((c) => docs.get(`${trainedKey(c)}#${c.seed}`), 2);
    const shortcuts = out.find((c) => c.id === 'shortcuts')!;
    expect(shortcuts).toMatchObject({ held: 2, of: 2, asked: 2, verdict: 'reproduced' });
    expect(shortcuts.seeds[0]).toMatchObject({ seed: 1, values: [1.9, 2.1, 2.2, 2.3, 2.4], holds: true });
    expect(shortcuts.seeds[0]!.testErrors).toEqual([70, 70, 70, 70, 70]);
    const signal = out.find((c) => c.id === 'signal')!;
    expect(signal).toMatchObject({ held: 2, of: 2, verdict: 'reproduced' });
    const bn = out.find((c) => c.id === 'bn-after-add')!;
    expect(bn).toMatchObject({ held: 1, of: 1, asked: 2, verdict: 'incomplete' });
    expect(bn.seeds[0]!.values).toEqual([1.9, null]);
    expect(out.find((c) => c.id === 'depth')).toMatchObject({ of: 0, verdict: 'incomplete' });
  });

  it('claims.verified.json was written for the claims as they are (rerun the check after changing one)', () => {
    for (const claim of CLAIMS) {
      expect(verifiedFor(claim, VERIFIED), `${claim.id}: run npm run claims -- --check`).toBeDefined();
    }
    const changed = { ...CLAIMS[0]!, settings: CLAIMS[0]!.settings.replace('iters=200', 'iters=300') };
    expect(verifiedFor(changed, VERIFIED)).toBeUndefined();
  });
});
