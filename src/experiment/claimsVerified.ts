/**
 * What the check over seeds found (`npm run claims -- --check`, PyTorch): the shape of claims.verified.json,
 * written by that script only (claimsVerifiedData.ts reads it for the page's "verified" line), and how the script
 * turns run JSONs into it. A claim is matched to its entry by its rows' experiments:
 * if a claim's settings change, its old figures no longer apply and the page says the claim is unchecked.
 */
import { z } from 'zod';
import { claimRowConfig, claimRowKeys, CLAIMS, overSeeds, runMetric, seedVerdict, type Claim } from './claims';
import { CLAIM_IDS } from './labIds';
import type { SignalProfile, TrainPoint } from './record';
import type { Config } from './schema';

const seedSchema = z.object({
  seed: z.number().int(),
  /** Each row's metric in row order; null for a run that diverged (a loss worse than any finite one). */
  values: z.array(z.number().nullable()),
  /** Each row's final test error (%), for reference; null when the run did not evaluate. */
  testErrors: z.array(z.number().nullable()),
  holds: z.boolean(),
});

const claimSchema = z.object({
  id: z.enum(CLAIM_IDS),
  /** Each row's experiment (seed aside) as the check ran it. */
  rows: z.array(z.string()),
  seeds: z.array(seedSchema),
  held: z.number().int(),
  of: z.number().int(),
  /** Seeds asked for; fewer in `seeds` means the check has not finished. */
  asked: z.number().int(),
  verdict: z.enum(['reproduced', 'not reproduced', 'incomplete']),
});

export const verifiedFileSchema = z.object({
  command: z.string(),
  executor: z.string(),
  machine: z.string(),
  data: z.string(),
  date: z.string(),
  claims: z.array(claimSchema),
});

export type VerifiedFile = z.infer<typeof verifiedFileSchema>;
export type VerifiedClaim = z.infer<typeof claimSchema>;
export type VerifiedSeed = z.infer<typeof seedSchema>;

/** The check's result for a claim at its own settings, or undefined if the check has not run them. */
export function verifiedFor(claim: Claim, verified: VerifiedFile): VerifiedClaim | undefined {
  const keys = claimRowKeys(claim);
  return verified.claims.find(
    (v) => v.id === claim.id && v.rows.length === keys.length && v.rows.every((r, i) => r === keys[i]),
  );
}

/** What the check reads of a run JSON (`npm run experiment` and the PyTorch executor write the same shape). */
export interface CheckedRun {
  config: Config;
  status: string;
  history: { train: readonly TrainPoint[]; evals: readonly { testError: number }[] };
  signal?: readonly { iter: number; profile: SignalProfile }[];
}

/** A run's result is final when it finished or diverged; anything else (running, stopped, failed) is run again. */
export const isFinal = (r: Pick<CheckedRun, 'status'>) => r.status === 'finished' || r.status === 'diverged';

/**
 * The check's result per claim: for each seed 1…`asked` in which every row has a final run, the rows' metrics
 * (as the page computes them: runMetric), their test errors and whether the ordering held; then the verdict.
 */
export function summariseCheck(
  runOf: (config: Config) => CheckedRun | undefined,
  asked: number,
  claims: readonly Claim[] = CLAIMS,
): VerifiedClaim[] {
  return claims.map((claim) => {
    const seeds: VerifiedSeed[] = [];
    for (let seed = 1; seed <= asked; seed++) {
      const got = claim.rows.map((row) => runOf(claimRowConfig(claim, row, { seed })));
      if (!got.every((r): r is CheckedRun => r !== undefined && isFinal(r))) continue;
      const values = got.map((r) =>
        runMetric(claim, { ...r, train: r.history.train, signals: r.signal, startedAt: 0 }),
      );
      if (values.some((v) => v === undefined)) continue;
      const finite = values as number[];
      seeds.push({
        seed,
        values: finite.map((v) => (Number.isFinite(v) ? v : null)),
        testErrors: got.map((r) => r.history.evals.at(-1)?.testError ?? null),
        holds: seedVerdict(claim, finite).holds,
      });
    }
    const held = seeds.filter((s) => s.holds).length;
    return {
      id: claim.id,
      rows: claimRowKeys(claim),
      seeds,
      held,
      of: seeds.length,
      asked,
      verdict: seeds.length < asked ? 'incomplete' : overSeeds(held, seeds.length),
    };
  });
}
