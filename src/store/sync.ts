/**
 * Wiring between the store and the outside world: the address bar (always the canonical link of the current
 * config), the engine worker (backend, dataset loading, imports) and the dataset catalog.
 */
import { chooseEntry, fetchCatalog } from '../data/catalog';
import { parseQuery, toQuery } from '../experiment/codec';
import type { EngineClient } from '../worker/client';
import type { WorkerToPage } from '../worker/protocol';
import { trainingHere, type PlaygroundStore } from './playground';

export function linkFor(query: string, loc: Pick<Location, 'pathname' | 'hash'> = location): string {
  return `${loc.pathname}${query ? `?${query}` : ''}${loc.hash}`;
}

/** Loads the page's own link into the store, then keeps the address bar in step with the config. */
export function syncWithAddressBar(store: PlaygroundStore): () => void {
  const { config, problems, actions } = parseQuery(location.search);
  store.getState().loadLink(config, problems, actions);
  // The address bar holds the experiment only: a reload must not start a second run (autostart is consumed).
  const write = () => {
    const { config, lab, threads } = store.getState();
    const url = linkFor(toQuery(config, { ...(lab && { lab: lab.id, quick: lab.quick, seeds: lab.seeds }), threads }));
    if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(history.state, '', url);
  };
  write();
  return store.subscribe((s, prev) => {
    if (s.config !== prev.config || s.lab !== prev.lab || s.threads !== prev.threads) write();
  });
}

/** Re-reads the catalog (server index, this browser's imports). */
export async function refreshCatalog(store: PlaygroundStore): Promise<void> {
  store.getState().setDatasets(await fetchCatalog());
}

/** What a worker says about one of its runs. */
export type RunMessage = Extract<WorkerToPage, { runId: string }>;

/** Applies what a worker said about a run (this tab's worker, or the worker of the tab that trains it) to the store. */
export function applyRunMessage(store: PlaygroundStore, m: RunMessage): void {
  const state = store.getState();
  switch (m.type) {
    case 'run-status':
      state.updateRun(m.runId, (r) => ({
        status: m.status,
        ...(m.info && { info: m.info }),
        // The run's config records the micro-batch it trains with (auto resolved by the worker's memory plan).
        ...(m.info?.memory && { config: { ...r.config, microBatch: m.info.memory.microBatch } }),
        ...(m.message && { message: m.message }),
      }));
      break;
    case 'run-train':
      state.updateRun(m.runId, (r) => ({ train: [...r.train, m.point] }));
      break;
    case 'run-eval':
      state.updateRun(m.runId, (r) => ({ evals: [...r.evals, m.point], errors: [...(r.errors ?? []), m.errors] }));
      break;
    case 'run-gallery':
      state.updateRun(m.runId, () => ({ gallery: m.gallery }));
      break;
    case 'run-lr':
      state.updateRun(m.runId, (r) => ({ lrChanges: [...r.lrChanges, { iter: m.iter, lr: m.lr }] }));
      break;
    case 'run-resumed':
      // The run continues from its checkpoint, whose history is the run's up to there: what the page recorded
      // after it is redone, and what it failed to save before closing comes back.
      state.updateRun(m.runId, () => ({ ...m.history }));
      break;
    case 'run-checkpoint':
      store.setState({ checkpoints: { ...state.checkpoints, [m.runId]: m.checkpoint } });
      break;
    case 'run-signal':
      state.updateRun(m.runId, (r) => ({ signals: [...(r.signals ?? []), m.point] }));
      break;
    case 'run-warning':
      state.updateRun(m.runId, () => ({ warning: m.message }));
      break;
    case 'run-weights':
    case 'run-weights-failed': {
      const { [m.runId]: _, ...checking } = state.checkingWeights;
      store.setState({
        checkingWeights: checking,
        ...(m.type === 'run-weights' && { checkpoints: { ...state.checkpoints, [m.runId]: m.checkpoint } }),
      });
      state.updateRun(m.runId, () =>
        m.type === 'run-weights'
          ? { weightsCheck: m.check, warning: undefined }
          : { warning: `Weights not imported: ${m.message}` },
      );
      break;
    }
  }
}

/**
 * Starts the backend the config asks for (again whenever the backend key changes), loads the chosen dataset
 * into the worker as soon as it is available, and routes import progress into the store.
 */
export function syncWithEngine(store: PlaygroundStore, engine: EngineClient): () => void {
  store.setState({ engine });
  const initBackend = (backend = store.getState().config.backend) => {
    store.getState().setBackend({ status: 'starting', requested: backend });
    engine.send({ type: 'init-backend', backend, threads: store.getState().threads });
  };
  let prepared = '';
  const prepareDataset = () => {
    const { config, datasets } = store.getState();
    const entry = chooseEntry(datasets, config.dataset);
    const key = `${config.dataset}@${entry?.where}:${config.dataset === 'synthetic' ? config.seed : ''}`;
    if (!entry || key === prepared) return;
    prepared = key;
    store.setState({ engineDataset: null });
    engine.send({ type: 'prepare-dataset', dataset: config.dataset, where: entry.where, seed: config.seed });
  };

  const offMessages = engine.onMessage((m) => {
    const state = store.getState();
    const requested = state.config.backend;
    switch (m.type) {
      // A backend report for an earlier request is stale: the answer to the latest one is on its way.
      case 'backend-ready':
        if (m.report.requested === requested) state.setBackend({ status: 'ready', report: m.report });
        break;
      case 'backend-failed':
        if (m.requested === requested) state.setBackend({ status: 'failed', requested, attempts: m.attempts });
        break;
      case 'worker-error':
        state.setBackend({ status: 'failed', requested, attempts: [], message: m.message });
        break;
      case 'dataset-progress':
        store.setState({ engineDataset: { ...m.load, status: m.load.done ? 'ready' : 'loading' } });
        break;
      case 'dataset-failed':
        store.setState({ engineDataset: { dataset: m.dataset, status: 'failed', message: m.message } });
        break;
      case 'import-progress':
        store.setState({ importState: { status: 'running', progress: m.progress } });
        break;
      case 'import-done':
        store.setState({ importState: { status: 'done', result: m.result } });
        if (m.result.dataset === state.config.dataset) prepared = ''; // load the new copy
        void refreshCatalog(store);
        break;
      case 'import-failed':
        store.setState({ importState: { status: 'failed', message: m.message } });
        break;
      case 'engine-aborted':
        // WASM ran out of memory and its module cannot recover: a fresh worker, backend and dataset.
        engine.restart();
        prepared = '';
        initBackend();
        prepareDataset();
        break;
      case 'signal-result':
      case 'signal-failed':
        store.setState({
          initSignals: state.initSignals.map((s) =>
            s.id !== m.requestId
              ? s
              : m.type === 'signal-result'
                ? { ...s, profile: m.profile }
                : { ...s, error: m.message },
          ),
        });
        break;
      default:
        if ('runId' in m) applyRunMessage(store, m);
    }
  });
  // autostart=1: start once the backend answered and the dataset list is known, exactly as the Start button would.
  const autostart = () => {
    const s = store.getState();
    if (!s.autostartPending || s.datasets === null || s.backend.status === 'starting') return;
    if (s.backend.status === 'failed') {
      store.setState({
        autostartPending: false,
        startProblem: 'the link asked to start the run, but no backend works',
      });
      return;
    }
    const why = s.queue.length > 0 ? s.runQueue() : s.startRun();
    if (why !== null || s.queue.length > 0) store.setState({ autostartPending: false });
  };
  initBackend();
  const offStore = store.subscribe((s, prev) => {
    if (s.autostartPending && (s.backend !== prev.backend || s.datasets !== prev.datasets)) autostart();
    // The queue moves on whenever the active run ends.
    if (s.queueRunning && s.runs !== prev.runs && !trainingHere(s)) s.startNextQueued();
    if (s.config.backend !== prev.config.backend) initBackend(s.config.backend);
    if (
      s.config.dataset !== prev.config.dataset ||
      s.config.seed !== prev.config.seed ||
      s.datasets !== prev.datasets
    ) {
      prepareDataset();
    }
  });
  prepareDataset();
  autostart();
  return () => {
    offMessages();
    offStore();
  };
}
