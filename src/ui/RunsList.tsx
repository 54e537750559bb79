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

/** Imported weights as measured in this page, beside the run's own evaluation at that iteration. */
function WeightsCheckLine({ run }: { run: RunRecord }) {
  const c = run.weightsCheck!;
  const own = run.evals.find((e) => e.iter === c.iter);
  const ownRatio = run.signals?.find((s) => s.iter === c.iter)?.profile.backwardRatio;
  return (
    <small className="muted" data-testid="weights-check">
      Weights at iteration {fmt(c.iter)} ({c.file}) measured in this page on {c.backend}: test error {pct(c.testError)},
      loss {fmt(c.testLoss, 4)} on {fmt(c.testImages)} test images
      {own && ` (the run's own: ${pct(own.testError)}, loss ${fmt(own.testLoss, 4)})`}; ‖∂E/∂x₁‖ / ‖∂E/∂x_L‖ ={' '}
      {fmt(c.signal.backwardRatio, 3)}
      {ownRatio !== undefined && ` (the run's own: ${fmt(ownRatio, 3)})`}.{' '}
      {c.optimizerState
        ? 'Momentum and data position came with them: Resume continues the run exactly.'
        : 'No momentum or data position came with them: Resume would restart both.'}
    </small>
  );
}

/** A file input for a run's weights: its model.json and .bin together. */
function ImportWeights({ run, label }: { run: RunRecord; label: string }) {
  const checking = usePlayground((s) => s.checkingWeights[run.id] === true);
  const [why, setWhy] = useState<string | null>(null);
  return (
    <>
      <label
        className="button"
        title="A model.json and its .bin (a PyTorch run's export, or this page's Weights): checked against this run's network, measured here and kept as its checkpoint"
      >
        {checking ? 'Checking weights…' : 'Import weights…'}
        <input
          type="file"
          multiple
          disabled={checking}
          accept=".json,.bin,application/json,application/octet-stream"
          className="visually-hidden"
          aria-label={`Import weights for ${label}`}
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = '';
            if (files.length) setWhy(usePlayground.getState().importWeights(run.id, files));
          }}
        />
      </label>
      {why && (
        <small className="error" role="alert">
          {why}
        </small>
      )}
    </>
  );
}

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
          {!active && !elsewhere && <ImportWeights run={run} label={label} />}
        </span>
        {run.weightsCheck && <WeightsCheckLine run={run} />}
        {run.warning && (
          <small className="error" role="alert" data-testid="run-row-warning">
            {run.warning}
          </small>
        )}
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
  /**
   * Every chosen file is read (a sweep's folder at once: its run JSONs, and its weights files, which are skipped:
   * they belong to Import weights… on each run); the runs of those that parse are added, the others named.
   */
  const importFiles = async (files: File[]) => {
    const runs: RunRecord[] = [];
    const refused: string[] = [];
    let read = 0;
    let weights = 0;
    for (const file of files) {
      const parsed = parseRunsJson(await file.text());
      if (parsed.ok) {
        runs.push(...parsed.runs);
        read++;
      } else if (parsed.weights && files.length > 1) weights++;
      else refused.push(`${file.name} was not imported: ${parsed.reason}.`);
    }
    if (runs.length) importRuns(runs);
    const source = files.length === 1 ? files[0]!.name : `${read} file${read === 1 ? '' : 's'}`;
    const text = [
      runs.length ? `Imported ${runs.length} run${runs.length === 1 ? '' : 's'} from ${source}.` : '',
      weights
        ? `${weights} weights file${weights === 1 ? '' : 's'} skipped (Import weights… on a run takes them).`
        : '',
      ...refused,
    ];
    setMessage({ ok: refused.length === 0, text: text.filter(Boolean).join(' ') });
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
          multiple
          accept=".json,application/json"
          className="visually-hidden"
          data-testid="import-runs"
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = '';
            if (files.length) void importFiles(files);
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
