import { useEffect, useState } from 'react';
import { DATASET_LABELS } from '../data/catalog';
import { deleteCheckpoint, loadCheckpoint, storageEstimate } from '../persist/db';
import { parseRunsJson, runsToCsv, runsToJson } from '../persist/exchange';
import { toTfjsWeights } from '../persist/weights';
import { toQuery } from '../experiment/codec';
import { runLabel } from '../experiment/label';
import { ACTIVE, type RunRecord } from '../experiment/record';
import { usePlayground } from '../store';
import { trainingHere } from '../store/playground';
import { linkFor } from '../store/sync';
import { download } from './download';
import { duration, fmt } from './format';
import { canResume } from './RunPanel';
import { runColor } from './RunsChart';

const mb = (bytes: number) => `${(bytes / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })} MB`;
const stamp = () => new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
const fileName = (r: RunRecord) => `${runLabel(r.config).replace(/[^\w.-]+/g, '_')}-${r.id}`;

async function exportWeights(run: RunRecord): Promise<void> {
  const saved = await loadCheckpoint(run.id);
  if (!saved) throw new Error('this run has no checkpoint in this browser');
  const { modelJson, weightsBin } = toTfjsWeights(run.config, saved as unknown as Parameters<typeof toTfjsWeights>[1]);
  download(`${fileName(run)}-model.json`, modelJson, 'application/json');
  download('weights.bin', weightsBin, 'application/octet-stream');
}

const pct = (v: number | undefined) => (v === undefined ? '—' : `${fmt(v, 2)}%`);

function RunRow({ run }: { run: RunRecord }) {
  const { setRunVisible, deleteRun, loadRunConfig, rerun, resumeFromCheckpoint } = usePlayground.getState();
  const checkpoint = usePlayground((s) => s.checkpoints[run.id]);
  const [problem, setProblem] = useState<string | null>(null);
  const anyActive = usePlayground(trainingHere);
  // Another tab trains it: shown live here, but only that tab may resume, stop or delete it.
  const elsewhere = usePlayground((s) => s.elsewhere[run.id] === true);
  const active = ACTIVE.includes(run.status);
  const label = runLabel(run.config);
  const best = run.evals.length ? Math.min(...run.evals.map((e) => e.testError)) : undefined;
  const last = run.train.at(-1);
  const href = linkFor(toQuery(run.config));
  return (
    <tr data-testid="run-row" data-status={run.status} data-elsewhere={elsewhere || undefined}>
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
          {checkpoint && ` · checkpoint at ${fmt(checkpoint.iter)} (${mb(checkpoint.bytes)})`}
        </small>
        <span className="run-exports">
          <button
            type="button"
            aria-label={`Export ${label} as CSV`}
            onClick={() => download(`${fileName(run)}.csv`, runsToCsv([run]), 'text/csv')}
          >
            CSV
          </button>
          <button
            type="button"
            aria-label={`Export ${label} as JSON`}
            onClick={() => download(`${fileName(run)}.json`, runsToJson([run]), 'application/json')}
          >
            JSON
          </button>
          {checkpoint && (
            <>
              <button
                type="button"
                aria-label={`Export the weights of ${label}`}
                title="tfjs weights format: model.json (manifest, config) + weights.bin"
                onClick={() => exportWeights(run).catch((e: Error) => setProblem(e.message))}
              >
                Weights
              </button>
              <button
                type="button"
                disabled={active || elsewhere}
                aria-label={`Delete the checkpoint of ${label}`}
                onClick={() =>
                  deleteCheckpoint(run.id)
                    .then(() => {
                      const { [run.id]: _, ...rest } = usePlayground.getState().checkpoints;
                      usePlayground.setState({ checkpoints: rest });
                    })
                    .catch((e: Error) => setProblem(e.message))
                }
              >
                Delete checkpoint
              </button>
            </>
          )}
        </span>
        {problem && (
          <small className="error" role="alert">
            {problem}
          </small>
        )}
      </td>
      <td
        className={`status-${run.status}`}
        title={elsewhere ? 'This run trains in another tab of this browser; it updates here live.' : run.message}
      >
        {elsewhere && active ? `${run.status === 'paused' ? 'paused' : 'training'} in another tab` : run.status}
      </td>
      <td>{run.info?.backend ?? '—'}</td>
      <td className="num">{pct(best)}</td>
      <td className="num">{pct(run.evals.at(-1)?.testError)}</td>
      <td className="num">{last ? duration(last.elapsedMs) : '—'}</td>
      <td className="row-actions">
        {canResume(run, checkpoint) && !elsewhere && (
          <button
            type="button"
            disabled={anyActive}
            onClick={() => resumeFromCheckpoint(run.id)}
            aria-label={`Resume ${label} from its checkpoint`}
            title={`Continue from the checkpoint at iteration ${fmt(checkpoint!.iter)}`}
          >
            Resume
          </button>
        )}
        <button
          type="button"
          disabled={anyActive}
          onClick={() => rerun(run.id)}
          aria-label={`Re-run ${label}`}
          title="Load this run's settings and train them again"
        >
          Re-run
        </button>
        {!elsewhere && (
          <button
            type="button"
            disabled={active}
            onClick={() => deleteRun(run.id)}
            aria-label={`Delete ${label}`}
            title={active ? 'Stop the run first' : 'Remove this run and its curves'}
          >
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}

/** Every run of this page, newest first: its experiment (as a link), how it ended, and its numbers. */
/** Space used in this browser, and what the checkpoints take of it. */
function StorageInfo() {
  const runs = usePlayground((s) => s.runs.length);
  const checkpoints = usePlayground((s) => s.checkpoints);
  const [estimate, setEstimate] = useState<{ usage: number; quota: number } | null>(null);
  useEffect(() => {
    let live = true;
    void storageEstimate().then((e) => live && setEstimate(e));
    return () => {
      live = false;
    };
  }, [runs, checkpoints]);
  const inCheckpoints = Object.values(checkpoints).reduce((n, c) => n + c.bytes, 0);
  return (
    <span className="muted" data-testid="storage">
      {estimate ? `Storage: ${mb(estimate.usage)} used of ${mb(estimate.quota)}` : 'Storage: size unknown'}
      {inCheckpoints > 0 && ` · checkpoints ${mb(inCheckpoints)}`}
    </span>
  );
}

/** Export of every run, import of an export. */
function RunsTools() {
  const runs = usePlayground((s) => s.runs);
  const importRuns = usePlayground((s) => s.importRuns);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const importFile = async (file: File) => {
    const parsed = parseRunsJson(await file.text());
    if (!parsed.ok) return setMessage({ ok: false, text: `${file.name} was not imported: ${parsed.reason}` });
    importRuns(parsed.runs);
    setMessage({
      ok: true,
      text: `Imported ${parsed.runs.length} run${parsed.runs.length === 1 ? '' : 's'} from ${file.name}.`,
    });
  };
  return (
    <div className="runs-tools">
      {runs.length > 0 && (
        <span>
          All runs:{' '}
          <button type="button" onClick={() => download(`runs-${stamp()}.csv`, runsToCsv(runs), 'text/csv')}>
            CSV
          </button>{' '}
          <button type="button" onClick={() => download(`runs-${stamp()}.json`, runsToJson(runs), 'application/json')}>
            JSON
          </button>
        </span>
      )}
      <label className="button">
        Import JSON…
        <input
          type="file"
          accept=".json,application/json"
          className="visually-hidden"
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file) void importFile(file);
          }}
        />
      </label>
      <StorageInfo />
      {message && (
        <span className={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </span>
      )}
    </div>
  );
}

export function RunsList() {
  const runs = usePlayground((s) => s.runs);
  const storageProblem = usePlayground((s) => s.storageProblem);
  return (
    <section className="card runs" aria-labelledby="runs-title">
      <h2 id="runs-title">Runs</h2>
      <RunsTools />
      {storageProblem && (
        <p className="run-warning" role="alert" data-testid="storage-problem">
          {storageProblem}
        </p>
      )}
      {runs.length === 0 ? (
        <p className="muted">No runs yet. Runs are kept in this browser and come back after a reload.</p>
      ) : (
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
      )}
    </section>
  );
}
