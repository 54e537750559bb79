/**
 * The labs a link can open (`lab=table1`, `lab=claims`): the paper lab's experiments (their data is in lab.ts)
 * and the claims lab (claims.ts), whose claims are named here too so a run record can say which one it serves.
 */
export const PAPER_LAB_IDS = ['table1', 'table2', 'table3', 'fig1', 'fig3', 'fig6'] as const;
export type PaperLabId = (typeof PAPER_LAB_IDS)[number];
export const CLAIMS_LAB = 'claims';
export const LAB_IDS = [...PAPER_LAB_IDS, CLAIMS_LAB] as const;
export type LabId = (typeof LAB_IDS)[number];
export const MAX_SEEDS = 10;

export const CLAIM_IDS = ['shortcuts', 'signal', 'bn-after-add', 'activation', 'depth'] as const;
export type ClaimId = (typeof CLAIM_IDS)[number];
