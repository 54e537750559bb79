import { useMemo, useState } from 'react';
import { experimentKey, LAB, labExperiment } from '../experiment/lab';
import { PAPER_LAB_IDS, type LabId } from '../experiment/labIds';
import { usePlayground } from '../store';
import { linkFor } from '../store/sync';
import { LAB_HEADER, labCsv, labMarkdown, labRowConfigs, labTableRows } from './labTable';
import { LabSeeds } from './LabSeeds';

/**
 * Copies the table as Markdown or CSV (the cells the page shows). Where the clipboard is refused, the text is
 * shown selected instead, to copy by hand.
 */
function CopyTable({ markdown, csv }: { markdown: () => string; csv: () => string }) {
  const [state, setState] = useState<{ status: 'idle' } | { status: 'copied' | 'manual'; what: string; text: string }>({
    status: 'idle',
  });
  const copy = async (what: string, text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setState({ status: 'copied', what, text });
    } catch {
      setState({ status: 'manual', what, text });
    }
  };
  return (
    <div className="copy-table" data-testid="lab-copy">
      <button type="button" onClick={() => void copy('Markdown', markdown())}>
        Copy as Markdown
      </button>
      <button type="button" onClick={() => void copy('CSV', csv())}>
        Copy as CSV
      </button>
      <span role="status" className="share-status">
        {state.status === 'copied' && `Table copied as ${state.what}.`}
      </span>
      {state.status === 'manual' && (
        <label className="share-manual">
          The clipboard is not available here; copy the {state.what} by hand:
          <textarea readOnly rows={6} value={state.text} onFocus={(e) => e.target.select()} autoFocus />
        </label>
      )}
    </div>
  );
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
  const rows = useMemo(() => (experiment && lab ? labRowConfigs(experiment, lab.quick) : []), [experiment, lab]);
  const cells = labTableRows(rows, runs, queue);
  const header = LAB_HEADER(lab?.quick ?? false);
  const absolute = (query: string) => `${location.origin}${linkFor(query)}`;
  const view = (change: Partial<NonNullable<typeof lab>>) =>
    openLab({ id: experiment?.id ?? 'table1', quick: lab?.quick ?? false, seeds: lab?.seeds ?? 1, ...change });

  return (
    <section className="card lab" aria-labelledby="lab-title" data-testid="paper-lab">
      <div className="card-head">
        <h2 id="lab-title">Paper lab</h2>
        <div className="lab-controls">
          {/* A label of its own: wrapped round the select, its name would take in every option's text. */}
          <label htmlFor="lab-experiment">Experiment</label>
          <select
            id="lab-experiment"
            value={experiment?.id ?? ''}
            onChange={(e) => (e.target.value ? view({ id: e.target.value as LabId }) : openLab(null))}
          >
            <option value="">—</option>
            {PAPER_LAB_IDS.map((id) => (
              <option key={id} value={id}>
                {labExperiment(id)!.title}
              </option>
            ))}
          </select>
          {experiment && lab && (
            <>
              <label>
                <input type="checkbox" checked={lab.quick} onChange={(e) => view({ quick: e.target.checked })} /> quick
                version
              </label>
              <LabSeeds value={lab.seeds} onChange={(seeds) => view({ seeds })} />
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
                  {header.map((h) => (
                    <th key={h} scope="col">
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {cells.map((c, i) => (
                  <tr key={i} data-testid="lab-row">
                    <td>
                      <a href={linkFor(c.query)}>{c.label}</a>
                    </td>
                    <td className="num">{c.paper}</td>
                    <td className="num">{c.ours}</td>
                    <td className="muted">{c.runs}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <CopyTable
            markdown={() => labMarkdown(header, cells, absolute)}
            csv={() => labCsv(header, cells, absolute)}
          />
        </>
      )}
    </section>
  );
}
