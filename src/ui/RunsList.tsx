import { DATASET_LABELS } from '../data/catalog';
import { toQuery } from '../experiment/codec';
import { runLabel } from '../experiment/label';
import { ACTIVE, type RunRecord } from '../store/playground';
import { usePlayground } from '../store';
import { linkFor } from '../store/sync';
import { duration, fmt } from './format';
import { runColor } from './RunsChart';

const pct = (v: number | undefined) => (v === undefined ? '—' : `${fmt(v, 2)}%`);

function RunRow({ run }: { run: RunRecord }) {
  const { setRunVisible, deleteRun, loadRunConfig, rerun } = usePlayground.getState();
  const anyActive = usePlayground((s) => s.runs.some((r) => ACTIVE.includes(r.status)));
  const active = ACTIVE.includes(run.status);
  const label = runLabel(run.config);
  const best = run.evals.length ? Math.min(...run.evals.map((e) => e.testError)) : undefined;
  const last = run.train.at(-1);
  const href = linkFor(toQuery(run.config));
  return (
    <tr data-testid="run-row" data-status={run.status}>
      <td>
        <input
          type="checkbox"
          checked={run.visible}
          aria-label={`Show ${label} on the chart`}
          onChange={(e) => setRunVisible(run.id, e.target.checked)}
        />
      </td>
      <td className="run-name">
        <span className="swatch" style={{ background: runColor(run) }} aria-hidden="true" />
        <a
          href={href}
          title="This run's experiment as a link. Click to load its settings; open in a new tab to share."
          onClick={(e) => {
            if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
            e.preventDefault();
            loadRunConfig(run.id);
          }}
        >
          {label}
        </a>
        <small className="muted">
          {DATASET_LABELS[run.config.dataset]} · batch {run.config.batch} · {fmt(last?.iter ?? 0)} /{' '}
          {fmt(run.config.iters)} it
        </small>
      </td>
      <td className={`status-${run.status}`} title={run.message}>
        {run.status}
      </td>
      <td>{run.info?.backend ?? '—'}</td>
      <td className="num">{pct(best)}</td>
      <td className="num">{pct(run.evals.at(-1)?.testError)}</td>
      <td className="num">{last ? duration(last.elapsedMs) : '—'}</td>
      <td className="row-actions">
        <button
          type="button"
          disabled={anyActive}
          onClick={() => rerun(run.id)}
          aria-label={`Re-run ${label}`}
          title="Load this run's settings and train them again"
        >
          Re-run
        </button>
        <button
          type="button"
          disabled={active}
          onClick={() => deleteRun(run.id)}
          aria-label={`Delete ${label}`}
          title={active ? 'Stop the run first' : 'Remove this run and its curves'}
        >
          Delete
        </button>
      </td>
    </tr>
  );
}

/** Every run of this page, newest first: its experiment (as a link), how it ended, and its numbers. */
export function RunsList() {
  const runs = usePlayground((s) => s.runs);
  if (runs.length === 0) return null;
  return (
    <section className="card runs" aria-labelledby="runs-title">
      <h2 id="runs-title">Runs</h2>
      <div className="table-scroll">
        <table className="runs-table" data-testid="runs-list">
          <thead>
            <tr>
              <th scope="col">Show</th>
              <th scope="col">Experiment</th>
              <th scope="col">Status</th>
              <th scope="col">Backend</th>
              <th scope="col">Best error</th>
              <th scope="col">Final error</th>
              <th scope="col">Time</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {[...runs].reverse().map((r) => (
              <RunRow key={r.id} run={r} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
