import { useState, type DragEvent } from 'react';
import { DATASET_LABELS, type DatasetEntry } from '../data/catalog';
import { usePlayground } from '../store';

const fmt = (n: number) => n.toLocaleString('en-US');
const WHERE: Record<DatasetEntry['where'], string> = {
  embedded: 'generated in the page, not CIFAR',
  server: 'on this server',
  browser: 'imported in this browser',
};

/** A file picker for the official CIFAR tarball or its .bin files; the worker validates and stores them. */
export function ImportButton({ label = 'Import CIFAR…' }: { label?: string }) {
  const importFiles = usePlayground((s) => s.importDatasetFiles);
  const running = usePlayground((s) => s.importState.status === 'running');
  return (
    <label className={`button${running ? ' disabled' : ''}`}>
      <input
        type="file"
        className="visually-hidden"
        data-testid="import-input"
        multiple
        disabled={running}
        accept=".gz,.tgz,.tar,.bin"
        onChange={(e) => {
          importFiles(Array.from(e.target.files ?? []));
          e.target.value = '';
        }}
      />
      {label}
    </label>
  );
}

function ImportStatus() {
  const state = usePlayground((s) => s.importState);
  if (state.status === 'idle') return null;
  if (state.status === 'running') {
    const { phase, fraction } = state.progress;
    return (
      <div className="import-status" role="status">
        <progress value={phase === 'reading' ? fraction : undefined} max={1} aria-label="Import progress" />{' '}
        {phase === 'reading'
          ? `reading ${Math.round(fraction * 100)}%`
          : phase === 'checking'
            ? 'checking records…'
            : 'saving…'}
      </div>
    );
  }
  if (state.status === 'failed') {
    return (
      <p className="import-status error" role="alert" data-testid="import-error">
        Import failed, nothing was stored: {state.message}
      </p>
    );
  }
  const r = state.result;
  return (
    <p className="import-status ok" role="status">
      Imported {DATASET_LABELS[r.dataset]}: {fmt(r.trainImages)} training and {fmt(r.testImages)} test images
      {r.missing.length > 0 && ` (partial set: ${r.missing.join(', ')} missing)`}.
    </p>
  );
}

function EngineLoad() {
  const load = usePlayground((s) => s.engineDataset);
  if (!load) return null;
  if (load.status === 'failed') {
    return (
      <p className="error" role="alert" data-testid="engine-dataset">
        Could not load {DATASET_LABELS[load.dataset]}: {load.message}
      </p>
    );
  }
  return (
    <p className="muted" data-testid="engine-dataset">
      Engine: {DATASET_LABELS[load.dataset]} {load.status === 'ready' ? 'loaded' : 'loading'}, {fmt(load.trainLoaded)}
      {load.trainLoaded < load.trainTotal && ` of ${fmt(load.trainTotal)}`} training and {fmt(load.testImages)} test
      images ({(load.ms / 1000).toFixed(2)} s in the worker)
    </p>
  );
}

/** Every dataset the playground can train on, where it comes from, and the import of CIFAR in the page. */
export function Datasets() {
  const entries = usePlayground((s) => s.datasets);
  const current = usePlayground((s) => s.config.dataset);
  const edit = usePlayground((s) => s.edit);
  const importFiles = usePlayground((s) => s.importDatasetFiles);
  const [dragging, setDragging] = useState(false);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    importFiles(Array.from(e.dataTransfer.files));
  };
  return (
    <section
      className={`card datasets${dragging ? ' dragging' : ''}`}
      data-testid="datasets"
      aria-labelledby="datasets-title"
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      <h2 id="datasets-title">Datasets</h2>
      <ul className="dataset-list">
        {(entries ?? []).map((e) => (
          <li key={`${e.dataset}-${e.where}`} data-testid={`dataset-${e.dataset}-${e.where}`}>
            <strong>{DATASET_LABELS[e.dataset]}</strong>{' '}
            <span className="muted">
              {fmt(e.trainImages)} train / {fmt(e.testImages)} test · {WHERE[e.where]}
              {e.missing.length > 0 && ` · partial (${e.missing.length} official files missing)`}
            </span>{' '}
            {e.dataset === current ? (
              <span className="tag">in use</span>
            ) : (
              <button type="button" className="link" onClick={() => edit('dataset', e.dataset)}>
                use
              </button>
            )}
          </li>
        ))}
      </ul>
      <div className="import-row">
        <ImportButton />
        <span className="muted">the official cifar-10/100-binary.tar.gz, or its .bin files; or drop them here</span>
      </div>
      <ImportStatus />
      <EngineLoad />
    </section>
  );
}
