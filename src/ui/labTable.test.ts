import { describe, expect, it } from 'vitest';
import { labExperiment } from '../experiment/lab';
import type { RunRecord } from '../experiment/record';
import { LAB_HEADER, labCsv, labMarkdown, labRowConfigs, labTableRows } from './labTable';

const table2 = labExperiment('table2')!;
const rows = labRowConfigs(table2, true);

function finished(config: RunRecord['config'], testError: number, status: RunRecord['status'] = 'finished'): RunRecord {
  return {
    id: `r${config.seed}-${testError}`,
    config,
    status,
    train: [],
    evals: [{ iter: config.iters, epoch: 1, testError, testLoss: 1, tensors: 1, elapsedMs: 1 }],
    lrChanges: [],
    startedAt: 0,
    visible: true,
    color: 0,
  };
}

describe('the paper lab table', () => {
  const runs = [
    finished({ ...rows[0]!.config, seed: 1 }, 7.5),
    finished({ ...rows[0]!.config, seed: 2 }, 8.5),
    finished({ ...rows[0]!.config, seed: 3 }, 6.5),
    finished({ ...rows[1]!.config, seed: 1 }, 90, 'diverged'),
  ];
  const cells = labTableRows(rows, runs, [{ config: rows[1]!.config }]);
  const link = (q: string) => `https://example.org/?${q}`;

  it('has the paper, our median over seeds and the runs of each row', () => {
    expect(cells[0]).toMatchObject({ paper: '6.61%', ours: '7.50% (7.50 ± 1.00, n = 3)', runs: '3 done' });
    expect(cells[1]).toMatchObject({ ours: '— · 1 diverged (fail)', runs: '0 done, 1 queued' });
    expect(cells).toHaveLength(table2.rows.length);
  });

  it('copies as a Markdown table whose labels link to their experiments', () => {
    const md = labMarkdown(LAB_HEADER(true), cells, link).split('\n');
    expect(md[0]).toBe('| Row | Paper | Ours (quick) | Runs |');
    expect(md[1]).toBe('| --- | ---: | ---: | ---: |');
    expect(md[2]).toBe(
      `| [${table2.rows[0]!.label}](${link(cells[0]!.query)}) | 6.61% | 7.50% (7.50 ± 1.00, n = 3) | 3 done |`,
    );
    expect(md).toHaveLength(2 + table2.rows.length);
    const piped = labMarkdown(['a|b'], [{ ...cells[0]!, label: 'x|y' }], link);
    expect(piped).toContain('| a\\|b |');
    expect(piped).toContain('[x\\|y]');
  });

  it('copies as CSV, quoted where needed, with the link in its own column', () => {
    const csv = labCsv(LAB_HEADER(false), cells, link).trimEnd().split('\n');
    expect(csv[0]).toBe('Row,Paper,Ours,Runs,Link');
    expect(csv[1]).toBe(
      // The link holds commas (milestones=3200,4800): quoted.
      `${table2.rows[0]!.label},6.61%,"7.50% (7.50 ± 1.00, n = 3)",3 done,"${link(cells[0]!.query)}"`,
    );
    expect(csv[2]).toContain('"0 done, 1 queued"');
  });
});
