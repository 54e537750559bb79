import { useMemo } from 'react';
import { toQuery } from '../experiment/codec';
import { experimentKey, FAIL_ABOVE, LAB, labExperiment, rowConfig, seedStats, type SeedStats } from '../experiment/lab';
import { LAB_IDS, MAX_SEEDS, type LabId } from '../experiment/labIds';
import type { DatasetId } from '../experiment/schema';
import { ACTIVE, type RunRecord } from '../experiment/record';
import { usePlayground } from '../store';
import { linkFor } from '../store/sync';
import { fmt } from './format';

const pct = (v: number) => `${fmt(v, 2)}%`;

/**
 * The paper's way of reporting: a number, or "fail" above 20% (its rule for CIFAR-10, Table 1; CIFAR-100's
 * errors are all above 20% and are reported as numbers).
 */
function errorText(v: number | null, dataset: DatasetId = 'cifar10'): string {
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

function rowRuns(runs: RunRecord[], key: string) {
  return runs.filter((r) => experimentKey(r.config) === key);
}

/**
 * One of the paper's experiments as a queue of runs and a table: each row's link, the paper's number, and ours
 * (median over the seeds run, with mean ± std), filled in as runs finish.
 */
export function PaperLab() {
  const lab = usePlayground((s) => s.lab);
  const runs = usePlayground((s) => s.runs);
  const queue = usePlayground((s) => s.queue);
  const queueRunning = usePlayground((s) => s.queueRunning);
  const { openLab, runQueue, stopQueue, clearQueue, setRunVisible } = usePlayground.getState();
  const experiment = lab ? labExperiment(lab.id) : undefined;
  // Each row's config and key depend only on the lab view, not on the runs streaming in.
  const rows = useMemo(
    () =>
      experiment && lab
        ? experiment.rows.map((row) => {
            const config = rowConfig(row, { quick: lab.quick, seed: 1 });
            return { row, config, key: experimentKey(config) };
          })
        : [],
    [experiment, lab],
  );
  const view = (change: Partial<NonNullable<typeof lab>>) =>
    openLab({ id: lab?.id ?? 'table1', quick: lab?.quick ?? false, seeds: lab?.seeds ?? 1, ...change });

  return (
    <section className="card lab" aria-labelledby="lab-title" data-testid="paper-lab">
      <div className="card-head">
        <h2 id="lab-title">Paper lab</h2>
        <div className="lab-controls">
          {/* A label of its own: wrapped round the select, its name would take in every option's text. */}
          <label htmlFor="lab-experiment">Experiment</label>
          <select
            id="lab-experiment"
            value={lab?.id ?? ''}
            onChange={(e) => (e.target.value ? view({ id: e.target.value as LabId }) : openLab(null))}
          >
            <option value="">—</option>
            {LAB_IDS.map((id) => (
              <option key={id} value={id}>
                {labExperiment(id)!.title}
              </option>
            ))}
          </select>
          {lab && (
            <>
              <label>
                <input type="checkbox" checked={lab.quick} onChange={(e) => view({ quick: e.target.checked })} /> quick
                version
              </label>
              <label>
                Seeds{' '}
                <input
                  type="number"
                  min={1}
                  max={MAX_SEEDS}
                  value={lab.seeds}
                  onChange={(e) => {
                    const n = Math.round(Number(e.target.value));
                    if (n >= 1 && n <= MAX_SEEDS) view({ seeds: n });
                  }}
                />
              </label>
            </>
          )}
        </div>
      </div>
      {!experiment || !lab ? (
        <p className="muted">
          Pick one of the paper's experiments ({LAB.map((e) => e.id).join(', ')}): its runs are queued, drawn on one
          chart like the figure, and listed beside the paper's numbers.
        </p>
      ) : (
        <>
          <p className="lab-point">
            {experiment.point}
            {lab.quick && (
              <strong className="tag">
                {' '}
                quick version: a tenth of the schedule, ResNet-56 for the 110-layer basic rows; not the paper's setting
              </strong>
            )}
          </p>
          <div className="lab-actions">
            {queueRunning ? (
              <button type="button" onClick={stopQueue}>
                Stop queue after this run
              </button>
            ) : (
              <button type="button" disabled={queue.length === 0} onClick={() => runQueue()}>
                Run queue ({queue.length} run{queue.length === 1 ? '' : 's'})
              </button>
            )}
            <button type="button" disabled={queue.length === 0} onClick={clearQueue}>
              Clear queue
            </button>
            <button
              type="button"
              onClick={() => {
                const keys = new Set(rows.map((r) => r.key));
                for (const r of runs) setRunVisible(r.id, keys.has(experimentKey(r.config)));
              }}
            >
              Show only these runs on the chart
            </button>
            <span className="muted" data-testid="queue-count">
              {queue.length} queued{queueRunning ? ', running' : ''}
            </span>
          </div>
          <div className="table-scroll">
            <table className="runs-table" data-testid="lab-table">
              <thead>
                <tr>
                  <th scope="col">Row</th>
                  <th scope="col">Paper</th>
                  <th scope="col">Ours{lab.quick ? ' (quick)' : ''}</th>
                  <th scope="col">Runs</th>
                </tr>
              </thead>
              <tbody>
                {rows.map(({ row, config, key }, i) => {
                  const mine = rowRuns(runs, key);
                  const stats = seedStats(mine.map(finalError).filter((v): v is number => v !== undefined));
                  const active = mine.filter((r) => ACTIVE.includes(r.status)).length;
                  const diverged = mine.filter((r) => r.status === 'diverged').length;
                  const waiting = queue.filter((q) => experimentKey(q.config) === key).length;
                  return (
                    <tr key={i} data-testid="lab-row">
                      <td>
                        <a href={linkFor(toQuery(config))}>{row.label}</a>
                      </td>
                      <td className="num">{errorText(row.paper, config.dataset)}</td>
                      <td className="num">
                        {stats ? statsText(stats, config.dataset) : '—'}
                        {diverged > 0 && ` · ${diverged} diverged (fail)`}
                      </td>
                      <td className="muted">
                        {stats?.n ?? 0} done{active ? `, ${active} running` : ''}
                        {waiting ? `, ${waiting} queued` : ''}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
