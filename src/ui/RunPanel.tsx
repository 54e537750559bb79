import { useState } from 'react';
import { DATASET_LABELS } from '../data/catalog';
import { ACTIVE, type RunRecord } from '../experiment/record';
import type { CheckpointInfo } from '../experiment/record';
import { MAX_SEEDS } from '../experiment/labIds';
import { formatBytes } from '../model/memory';
import { usePlayground } from '../store';
import { duration, fmt } from './format';

/** A clear sentence for every state a run can be in. */
export function runMessage(r: RunRecord, checkpoint?: CheckpointInfo): string {
  const resumable = checkpoint
    ? ` Resume continues from its checkpoint at iteration ${fmt(checkpoint.iter)}.`
    : ' It has no checkpoint to resume from.';
  const last = r.train.at(-1);
  switch (r.status) {
    case 'starting':
      return 'Starting: backend, dataset and network…';
    case 'running':
      return `Running on ${r.info?.backend ?? '…'}${r.info?.adapter ? ` (${r.info.adapter})` : ''}.${r.info?.memory ? ` ${r.info.memory.note}.` : ''}`;
    case 'paused':
      return `Paused at iteration ${fmt(last?.iter ?? 0)}.`;
    case 'finished':
      return `Finished ${fmt(r.config.iters)} iterations on ${r.info?.backend ?? '?'}.`;
    case 'stopped':
      return `Stopped at iteration ${fmt(last?.iter ?? 0)}.${checkpoint ? resumable : ''}`;
    case 'diverged':
      return `Diverged: ${r.message ?? 'the training loss is no longer finite'}. The paper counts such runs as “fail”.`;
    case 'failed':
      return `Failed: ${r.message ?? 'unknown error'}. The page is still usable; start another run.${checkpoint ? resumable : ''}`;
    case 'interrupted':
      return `Interrupted at iteration ${fmt(last?.iter ?? 0)}: the page was closed or reloaded while it trained.${resumable}`;
  }
}

/** An ended run that did not finish can continue from its last checkpoint. */
export function canResume(r: RunRecord, checkpoint: CheckpointInfo | undefined): boolean {
  return (
    checkpoint !== undefined &&
    ['interrupted', 'stopped', 'failed'].includes(r.status) &&
    checkpoint.iter < r.config.iters
  );
}

/** Start, pause, resume, stop; the learning rate of a running run; progress and what the run says. */
export function RunPanel() {
  const config = usePlayground((s) => s.config);
  const runs = usePlayground((s) => s.runs);
  const datasets = usePlayground((s) => s.datasets);
  const error = usePlayground((s) => s.startProblem);
  const checkpoints = usePlayground((s) => s.checkpoints);
  const queueRunning = usePlayground((s) => s.queueRunning);
  const [seeds, setSeeds] = useState('5');
  const { startRun, pauseRun, resumeRun, stopRun, setRunLr, resumeFromCheckpoint, queueSeeds, runQueue } =
    usePlayground.getState();
  const seedCount = Number(seeds);
  const seedsOk = Number.isInteger(seedCount) && seedCount >= 2 && seedCount <= MAX_SEEDS;
  const [lr, setLr] = useState('');
  // This tab's latest run: a run training in another tab is controlled there (the run list shows it live).
  const elsewhere = usePlayground((s) => s.elsewhere);
  const run = runs.findLast((r) => !elsewhere[r.id]);
  const active = run !== undefined && ACTIVE.includes(run.status);
  const available = datasets?.some((d) => d.dataset === config.dataset) ?? false;
  const last = run?.train.at(-1);
  const lastEval = run?.evals.at(-1);
  const best = run?.evals.length ? Math.min(...run.evals.map((e) => e.testError)) : null;
  const remaining =
    last && last.imagesPerSec > 0
      ? ((run!.config.iters - last.iter) * run!.config.batch * 1000) / last.imagesPerSec
      : null;

  return (
    <section className="card run" data-testid="run-panel" aria-labelledby="run-title">
      <h2 id="run-title" className="visually-hidden">
        Train
      </h2>
      <div className="run-controls">
        <button type="button" className="primary" disabled={active || !available} onClick={() => startRun()}>
          Start
        </button>
        {run?.status === 'paused' ? (
          <button type="button" onClick={resumeRun}>
            Resume
          </button>
        ) : (
          <button type="button" disabled={run?.status !== 'running'} onClick={pauseRun}>
            Pause
          </button>
        )}
        <button type="button" disabled={!active} onClick={stopRun}>
          Stop
        </button>
        {run && canResume(run, checkpoints[run.id]) && (
          <button type="button" onClick={() => resumeFromCheckpoint(run.id)}>
            Resume from iteration {fmt(checkpoints[run.id]!.iter)}
          </button>
        )}
      </div>
      {!available && (
        <p className="muted">Choose an available dataset to train ({DATASET_LABELS[config.dataset]} is not).</p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {/* The progress line is there before a run too, so the first screen never shifts when one starts. */}
      <div className="run-progress-line" data-testid="run-progress">
        <p className={`run-status status-${run?.status ?? 'idle'}`} data-testid="run-status" role="status">
          {run ? (
            <>
              <strong>{run.status}</strong> · {runMessage(run, checkpoints[run.id])}
            </>
          ) : (
            <>
              <strong>ready</strong> · Start trains this experiment in a worker; its curves appear on the chart.
            </>
          )}
        </p>
        <progress
          className="run-progress"
          value={last?.iter ?? 0}
          max={run?.config.iters ?? config.iters}
          aria-label="Iterations done"
        />
      </div>
      {run?.warning && (
        <p className="run-warning" role="alert">
          {run.warning}
        </p>
      )}
      <dl className="run-facts" data-testid="run-facts">
        <div>
          <dt>Iteration</dt>
          <dd>
            {fmt(last?.iter ?? 0)} / {fmt(run?.config.iters ?? config.iters)}
            <small> · epoch {fmt(last?.epoch ?? 0, 2)}</small>
          </dd>
        </div>
        {run?.info?.memory && (
          <div className="wide">
            <dt>Micro-batch</dt>
            <dd data-testid="run-micro-batch">
              {run.info.memory.microBatch} of {run.config.batch} images per pass
              <small> · {formatBytes(run.info.memory.peakBytes)} per step</small>
            </dd>
          </div>
        )}
        <div>
          <dt>Training loss</dt>
          <dd>{last ? fmt(last.loss, 4) : '—'}</dd>
        </div>
        <div>
          <dt>Test error</dt>
          <dd data-testid="latest-test-error">
            {lastEval ? `${fmt(lastEval.testError, 2)}%` : '—'}
            {best !== null && <small> · best {fmt(best, 2)}%</small>}
          </dd>
        </div>
        <div>
          <dt>Speed</dt>
          <dd>
            {last ? `${fmt(last.imagesPerSec, 1)} img/s` : '—'}
            {last && <small> · {duration(last.elapsedMs)}</small>}
            {remaining !== null && active && <small> · ETA {duration(remaining)}</small>}
          </dd>
        </div>
      </dl>
      <div className="lr-row">
        <span className="seeds-control">
          <button
            type="button"
            disabled={active || queueRunning || !available || !seedsOk}
            onClick={() => {
              queueSeeds(seedCount);
              runQueue();
            }}
            title="Train this experiment with seeds 1…N, one after another; the median is shown under the run list"
          >
            Run seeds 1…
          </button>
          <input
            type="number"
            min={2}
            max={MAX_SEEDS}
            value={seeds}
            aria-label="Number of seeds"
            onChange={(e) => setSeeds(e.target.value)}
          />
        </span>

        <span className="muted">
          Learning rate {last ? last.lr : '—'}
          {run &&
            run.lrChanges.length > 0 &&
            ` (set by hand at ${run.lrChanges.map((c) => `iteration ${c.iter} → ${c.lr}`).join(', ')})`}
        </span>
        <label className="lr-change">
          New learning rate{' '}
          <input
            type="text"
            inputMode="decimal"
            value={lr}
            placeholder={last ? String(last.lr) : ''}
            size={7}
            onChange={(e) => setLr(e.target.value)}
          />
        </label>
        <button
          type="button"
          disabled={!active || !(Number(lr) > 0)}
          onClick={() => {
            setRunLr(Number(lr));
            setLr('');
          }}
        >
          Set
        </button>
      </div>
    </section>
  );
}
