/** The paper lab's experiments, by the name a link gives them (`lab=table1`); their data is in lab.ts. */
export const LAB_IDS = ['table1', 'table2', 'table3', 'fig1', 'fig3', 'fig6'] as const;
export type LabId = (typeof LAB_IDS)[number];
export const MAX_SEEDS = 10;
