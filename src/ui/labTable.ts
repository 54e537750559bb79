/**
 * The paper lab's table as data: what the page shows and what "Copy as Markdown / CSV" copies are the same cells,
 * so a pasted table never disagrees with the page. Pure; the paper's reporting rules live here.
 */
import { toQuery } from '../experiment/codec';
import { experimentKey, FAIL_ABOVE, rowConfig, seedStats, type LabExperiment, type SeedStats } from '../experiment/lab';
import { ACTIVE, type RunRecord } from '../experiment/record';
import type { Config, DatasetId } from '../experiment/schema';
import { csvField } from '../persist/exchange';
import { fmt } from './format';

const pct = (v: number) => `${fmt(v, 2)}%`;

/**
 * The paper's way of reporting: a number, or "fail" above 20% (its rule for CIFAR-10, Table 1; CIFAR-100's
 * errors are all above 20% and are reported as numbers).
 */
export function errorText(v: number | null, dataset: DatasetId = 'cifar10'): string {
  if (v === null) return 'fail';
  return dataset !== 'cifar100' && v > FAIL_ABOVE ? `fail (${pct(v)})` : pct(v);
}

/** A run's result: its last evaluation's test error (the paper reports the error at the end of training). */
export function finalError(r: RunRecord): number | undefined {
  return r.status === 'finished' ? r.evals.at(-1)?.testError : undefined;
}

/** "6.41% (6.50 ± 0.48, n = 5)": median, then mean ± std over seeds, as the paper's Table 4. */
export function statsText(s: SeedStats, dataset: DatasetId): string {
  const median = errorText(s.median, dataset);
  return s.n === 1 ? median : `${median} (${fmt(s.mean, 2)} ± ${fmt(s.std, 2)}, n = ${s.n})`;
}

/** Each row's config and the key its runs are found by: they depend only on the lab view. */
export function labRowConfigs(experiment: LabExperiment, quick: boolean) {
  return experiment.rows.map((row) => {
    const config = rowConfig(row, { quick, seed: 1 });
    return { row, config, key: experimentKey(config) };
  });
}

export interface LabTableRow {
  label: string;
  /** The row's experiment as a query string. */
  query: string;
  paper: string;
  ours: string;
  runs: string;
}

export const LAB_HEADER = (quick: boolean) => ['Row', 'Paper', `Ours${quick ? ' (quick)' : ''}`, 'Runs'];

/** The table's cells: the paper's number, ours (median over seeds) and how many runs are done, running, queued. */
export function labTableRows(
  rows: readonly { row: LabExperiment['rows'][number]; config: Config; key: string }[],
  runs: readonly RunRecord[],
  queued: readonly { config: Config }[],
): LabTableRow[] {
  return rows.map(({ row, config, key }) => {
    const mine = runs.filter((r) => experimentKey(r.config) === key);
    const stats = seedStats(mine.map(finalError).filter((v): v is number => v !== undefined));
    const active = mine.filter((r) => ACTIVE.includes(r.status)).length;
    const diverged = mine.filter((r) => r.status === 'diverged').length;
    const waiting = queued.filter((q) => experimentKey(q.config) === key).length;
    return {
      label: row.label,
      query: toQuery(config),
      paper: errorText(row.paper, config.dataset),
      ours: `${stats ? statsText(stats, config.dataset) : '—'}${diverged > 0 ? ` · ${diverged} diverged (fail)` : ''}`,
      runs: `${stats?.n ?? 0} done${active ? `, ${active} running` : ''}${waiting ? `, ${waiting} queued` : ''}`,
    };
  });
}

/** A Markdown table (GitHub's pipe syntax); each row's label links to its experiment. */
export function labMarkdown(header: string[], rows: readonly LabTableRow[], linkOf: (query: string) => string): string {
  const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(header.map(cell)),
    line(header.map((_, i) => (i === 0 ? '---' : '---:'))),
    ...rows.map((r) => line([`[${cell(r.label)}](${linkOf(r.query)})`, cell(r.paper), cell(r.ours), cell(r.runs)])),
  ].join('\n');
}

/** CSV (RFC 4180) with the link in a column of its own. */
export function labCsv(header: string[], rows: readonly LabTableRow[], linkOf: (query: string) => string): string {
  const line = (cells: string[]) => cells.map(csvField).join(',');
  return `${[line([...header, 'Link']), ...rows.map((r) => line([r.label, r.paper, r.ours, r.runs, linkOf(r.query)]))].join('\n')}\n`;
}
