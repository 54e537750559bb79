/**
 * The page's state (zustand): the experiment config, what the link said about it, what the engine worker
 * reports, and which datasets are here. UI components read it; only actions below change it.
 */
import { create } from 'zustand';
import type { DatasetEntry } from '../data/catalog';
import type { ImportProgress, ImportResult } from '../data/importer';
import type { LinkActions, Problem } from '../experiment/codec';
import { editConfig, type Adjustment } from '../experiment/edit';
import { applyPreset, type Preset } from '../experiment/presets';
import { claimOverrides, claimRunDone, pendingClaimRuns } from '../experiment/claims';
import { labExperiment, rowConfig } from '../experiment/lab';
import { CLAIM_IDS, CLAIMS_LAB, type ClaimId, type LabId } from '../experiment/labIds';
import { defaults, type Config, type ConfigKey } from '../experiment/schema';
import type { EngineClient } from '../worker/client';
import type { RunLocks } from '../persist/runLocks';
import { chooseEntry } from '../data/catalog';
import type { BackendReport, DatasetLoad } from '../worker/protocol';
import {
  ACTIVE,
  type BackendAttempt,
  type CheckpointInfo,
  type RunLab,
  type RunRecord,
  type SignalProfile,
} from '../experiment/record';

export type BackendState =
  | { status: 'starting'; requested: Config['backend'] }
  | { status: 'ready'; report: BackendReport }
  | { status: 'failed'; requested: Config['backend']; attempts: BackendAttempt[]; message?: string };

export type ImportState =
  | { status: 'idle' }
  | { status: 'running'; progress: ImportProgress }
  | { status: 'done'; result: ImportResult }
  | { status: 'failed'; message: string };

export type EngineDataset =
  (DatasetLoad & { status: 'loading' | 'ready' }) | { dataset: Config['dataset']; status: 'failed'; message: string };

/** A run waiting its turn: the worker trains one run at a time. */
export interface QueuedRun {
  config: Config;
  lab?: RunLab;
}

/** A network measured at initialisation for the signal-propagation view (no run needed). */
export interface InitSignal {
  id: string;
  config: Config;
  /** When it was asked for (Date.now()). */
  at: number;
  profile?: SignalProfile;
  error?: string;
}

/** The lab experiment the page shows, as its link says. */
export interface LabView {
  id: LabId;
  quick: boolean;
  seeds: number;
}

/** How the chart draws curves; the histories themselves are never changed. */
export interface ChartOptions {
  logLoss: boolean;
  /** TensorBoard-style smoothing weight of the training loss, 0 (off) to 0.99. */
  smoothing: number;
}

export interface PlaygroundState {
  config: Config;
  /** Problems of the link the page was opened with; cleared by dismissing. */
  linkProblems: Problem[];
  /** Keys the last edit moved to stay valid (e.g. depth after a change of block). */
  adjustments: Adjustment[];
  backend: BackendState;
  /** Datasets from every source; null until the list has been read. */
  datasets: DatasetEntry[] | null;
  importState: ImportState;
  /** What the engine worker holds of the chosen dataset. */
  engineDataset: EngineDataset | null;
  engine: EngineClient | null;
  /** This browser's run locks: a run is trained, and written, by the one tab that holds its lock. */
  locks: RunLocks | null;
  runs: RunRecord[];
  /** Runs this tab trains: it holds their locks until their final record is saved. */
  owned: Record<string, true>;
  /** Runs another tab holds the lock of (it trains them): shown live here, never resumed, deleted or written. */
  elsewhere: Record<string, true>;
  /** Colour of the next run; counts every run ever started so a deleted run's colour is not reused at once. */
  nextColor: number;
  chart: ChartOptions;
  /** Why the last attempt to start a run did not start one. */
  startProblem: string | null;
  /** The link asked for autostart and no run has been started for it yet. */
  autostartPending: boolean;
  /** The last checkpoint of each run that has one, by run id (the weights stay in IndexedDB). */
  checkpoints: Record<string, CheckpointInfo>;
  /** Why runs could not be saved or read (storage full, no IndexedDB); null when all is well. */
  storageProblem: string | null;
  /** Runs waiting to start, in order; they start one after another while queueRunning. */
  queue: QueuedRun[];
  queueRunning: boolean;
  lab: LabView | null;
  initSignals: InitSignal[];
  /** WASM threads the link asks for (0: one per core); a setting of this machine, kept in the link. */
  threads: number;
  /** Runs whose imported weights the worker is checking. */
  checkingWeights: Record<string, true>;

  loadLink(config: Config, problems: Problem[], actions?: LinkActions): void;
  /** Returns the reason when the value is refused (the config is then unchanged). */
  edit(key: ConfigKey, raw: string | boolean): string | null;
  dismissLinkProblems(): void;
  applyPreset(preset: Preset): void;
  setBackend(state: BackendState): void;
  setDatasets(list: DatasetEntry[]): void;
  /** Hands the user's files to the worker for import. */
  importDatasetFiles(files: File[]): void;
  /** Starts a run of the current config; returns why not when it cannot start. */
  startRun(): string | null;
  pauseRun(): void;
  resumeRun(): void;
  stopRun(): void;
  setRunLr(lr: number): void;
  updateRun(id: string, change: (r: RunRecord) => Partial<RunRecord>): void;
  setRunVisible(id: string, visible: boolean): void;
  /** Removes a run that has ended (an active run must be stopped first). */
  deleteRun(id: string): void;
  /** Makes a run's config the current one (and the link's). */
  loadRunConfig(id: string): void;
  /** Loads a run's config and starts it again; returns why not when it cannot start. */
  rerun(id: string): string | null;
  /**
   * Continues an ended or interrupted run from its last checkpoint, once this tab holds its lock; resolves to why
   * not when it cannot (another tab got there first, say).
   */
  resumeFromCheckpoint(id: string): Promise<string | null>;
  /** Adds runs read from an export (history only: they cannot resume). */
  importRuns(runs: RunRecord[]): void;
  /**
   * Hands weights (a model.json and its .bin) to the worker, to be checked against the run's network, measured and
   * stored as the run's checkpoint; returns why not when they cannot be sent.
   */
  importWeights(id: string, files: File[]): string | null;
  /**
   * Shows a lab experiment (or none) and queues its rows × seeds, replacing what was queued. The claims lab
   * queues every claim's runs, with the keys the current experiment changed from the defaults applied over them.
   */
  openLab(view: LabView | null): void;
  /** Opens the claims lab at its own settings, as the link `?lab=claims` does (the backend choice is kept). */
  openClaims(): void;
  /** Replaces the queue by one claim's runs (seeds 1…N of the lab view) and starts it; returns why not. */
  runClaim(id: ClaimId): string | null;
  /** Queues seeds 1…n of the current config (the paper reports the median of 5). */
  queueSeeds(n: number): void;
  /** Starts the queue: its runs train one after another. */
  runQueue(): string | null;
  stopQueue(): void;
  clearQueue(): void;
  /** Starts the next queued run when none is active (called whenever a run ends). */
  startNextQueued(): void;
  /** Measures a network (the current config's by default) at initialisation, queued behind a training run. */
  measureInitSignal(config?: Config): string | null;
  removeInitSignal(id: string): void;
  setChart(change: Partial<ChartOptions>): void;
}

/** Whether a run trains in this tab (runs of other tabs do not stop this one from starting another). */
export function trainingHere(s: Pick<PlaygroundState, 'runs' | 'elsewhere'>): boolean {
  return s.runs.some((r) => ACTIVE.includes(r.status) && !s.elsewhere[r.id]);
}

export function createPlaygroundStore(initial: Config) {
  return create<PlaygroundState>()((set, get) => {
    const refuse = (why: string) => {
      set({ startProblem: why });
      return why;
    };
    /** What training `config` needs now (the worker, no other run active, its dataset), or why it cannot. */
    const startable = (config: Config): { engine: EngineClient; where: DatasetEntry['where'] } | { why: string } => {
      const { engine, datasets } = get();
      if (!engine) return { why: 'the engine worker is not running' };
      if (trainingHere(get())) return { why: 'a run is already in progress' };
      const entry = chooseEntry(datasets, config.dataset);
      if (!entry) return { why: `${config.dataset} is not available` };
      return { engine, where: entry.where };
    };
    /** Starts a run of `queued.config` now; returns why not when it cannot start. */
    const startConfig = (queued: QueuedRun): string | null => {
      const { runs, nextColor } = get();
      const { config } = queued;
      const ready = startable(config);
      if ('why' in ready) return refuse(ready.why);
      const id = `run-${nextColor + 1}-${Date.now().toString(36)}`;
      const run: RunRecord = {
        id,
        config,
        ...(queued.lab && { lab: queued.lab }),
        status: 'starting',
        train: [],
        evals: [],
        lrChanges: [],
        startedAt: Date.now(),
        visible: true,
        color: nextColor,
      };
      set({ runs: [...runs, run], nextColor: nextColor + 1, startProblem: null, autostartPending: false });
      ready.engine.send({ type: 'start-run', runId: id, config, where: ready.where });
      // A new id: no other tab can hold its lock, so the claim is granted as soon as the browser answers.
      void get()
        .locks?.claim(id)
        .then((lease) => lease && own(id));
      return null;
    };
    const own = (id: string) => set({ owned: { ...get().owned, [id]: true } });

    /**
     * The claims lab's runs for these claims at the lab's seeds, with the current experiment's changes applied,
     * less those this page has already completed.
     */
    const claimsQueue = (ids: readonly ClaimId[], seeds: number): QueuedRun[] =>
      pendingClaimRuns(ids, { seeds, over: claimOverrides(get().config) }, get().runs).map((r) => ({
        config: r.config,
        lab: { id: CLAIMS_LAB, row: r.row, quick: false, claim: r.claim },
      }));
    /**
     * Rebuilds the claims lab's waiting queue (when it is open and not running): after an edit, since the settings
     * form applies over every claim, and after an import, which may bring runs it no longer needs.
     */
    const requeueClaims = () => {
      const { lab, queueRunning } = get();
      if (lab?.id === CLAIMS_LAB && !queueRunning) get().openLab(lab);
    };

    return {
      config: initial,
      linkProblems: [],
      adjustments: [],
      backend: { status: 'starting', requested: initial.backend },
      datasets: null,
      importState: { status: 'idle' },
      engineDataset: null,
      engine: null,
      locks: null,
      runs: [],
      owned: {},
      elsewhere: {},
      nextColor: 0,
      chart: { logLoss: false, smoothing: 0 },
      startProblem: null,
      autostartPending: false,
      checkpoints: {},
      storageProblem: null,
      queue: [],
      queueRunning: false,
      lab: null,
      initSignals: [],
      threads: 0,
      checkingWeights: {},
      measureInitSignal: (config = get().config) => {
        const { engine, datasets, initSignals } = get();
        if (!engine) return 'the engine worker is not running';
        const entry = chooseEntry(datasets, config.dataset);
        if (!entry) return `${config.dataset} is not available`;
        const id = `init-${Date.now().toString(36)}-${initSignals.length}`;
        set({ initSignals: [...initSignals, { id, config, at: Date.now() }] });
        engine.send({ type: 'signal-at-init', requestId: id, config, where: entry.where });
        return null;
      },
      removeInitSignal: (id) => set({ initSignals: get().initSignals.filter((s) => s.id !== id) }),

      loadLink: (config, problems, actions) => {
        set({
          config,
          linkProblems: problems,
          adjustments: [],
          autostartPending: actions?.autostart ?? false,
          threads: actions?.threads ?? 0,
        });
        if (actions?.lab) get().openLab({ id: actions.lab, quick: actions.quick, seeds: actions.seeds });
      },
      edit: (key, raw) => {
        const r = editConfig(get().config, key, raw);
        if (!r.ok) return r.reason;
        set({ config: r.config, adjustments: r.adjusted });
        requeueClaims();
        return null;
      },
      dismissLinkProblems: () => set({ linkProblems: [] }),
      applyPreset: (preset) => {
        set({ config: applyPreset(get().config, preset), adjustments: [] });
        requeueClaims();
      },
      setBackend: (backend) => set({ backend }),
      setDatasets: (datasets) => set({ datasets }),
      startRun: () => startConfig({ config: get().config }),
      openLab: (view) => {
        if (!view) return set({ lab: null });
        if (view.id === CLAIMS_LAB) {
          const claims = { ...view, quick: false };
          return set({ lab: claims, queue: claimsQueue(CLAIM_IDS, claims.seeds), queueRunning: false });
        }
        const e = labExperiment(view.id);
        if (!e) return;
        const queue: QueuedRun[] = e.rows.flatMap((row, i) =>
          Array.from({ length: view.seeds }, (_, s) => ({
            config: rowConfig(row, { quick: view.quick, seed: s + 1 }),
            lab: { id: view.id, row: i, quick: view.quick },
          })),
        );
        set({ lab: view, queue, queueRunning: false });
      },
      openClaims: () => {
        set({ config: { ...defaults(), backend: get().config.backend }, adjustments: [] });
        get().openLab({ id: CLAIMS_LAB, quick: false, seeds: get().lab?.seeds ?? 1 });
      },
      runClaim: (id) => {
        const seeds = get().lab?.id === CLAIMS_LAB ? get().lab!.seeds : 1;
        const queue = claimsQueue([id], seeds);
        if (queue.length === 0)
          return refuse('every run of this claim has finished here; re-run one from the run list');
        set({ queue });
        return get().runQueue();
      },
      queueSeeds: (n) => {
        const { config, queue } = get();
        const seeds = Array.from({ length: n }, (_, s) => ({ config: { ...config, seed: s + 1 } }));
        set({ queue: [...queue, ...seeds] });
      },
      runQueue: () => {
        if (get().queue.length === 0) return 'the queue is empty';
        set({ queueRunning: true });
        get().startNextQueued();
        return null;
      },
      stopQueue: () => set({ queueRunning: false }),
      clearQueue: () => set({ queue: [], queueRunning: false }),
      startNextQueued: () => {
        const { queueRunning, runs } = get();
        if (!queueRunning || trainingHere(get())) return;
        // A claim's run that has a result by now (another claim shares it, or it was imported) is not trained again.
        const queue = get().queue.filter((q) => q.lab?.id !== CLAIMS_LAB || !claimRunDone(q.config, runs));
        const [next, ...rest] = queue;
        if (!next) return set({ queueRunning: false });
        set({ queue: rest });
        // A queued run that cannot start stops the queue (its reason is shown); the rest stays queued.
        if (startConfig(next) !== null) set({ queue: [next, ...rest], queueRunning: false });
      },
      pauseRun: () => get().engine?.send({ type: 'pause-run' }),
      resumeRun: () => get().engine?.send({ type: 'resume-run' }),
      stopRun: () => get().engine?.send({ type: 'stop-run' }),
      setRunLr: (lr) => get().engine?.send({ type: 'set-lr', lr }),
      updateRun: (id, change) => set({ runs: get().runs.map((r) => (r.id === id ? { ...r, ...change(r) } : r)) }),
      setRunVisible: (id, visible) => get().updateRun(id, () => ({ visible })),
      deleteRun: (id) => {
        const { runs, elsewhere } = get();
        set({ runs: runs.filter((r) => r.id !== id || ACTIVE.includes(r.status) || elsewhere[r.id]) });
      },
      loadRunConfig: (id) => {
        const run = get().runs.find((r) => r.id === id);
        if (run) set({ config: run.config, adjustments: [] });
      },
      rerun: (id) => {
        get().loadRunConfig(id);
        return get().startRun();
      },
      setChart: (change) => set({ chart: { ...get().chart, ...change } }),
      resumeFromCheckpoint: async (id) => {
        const check = () => {
          const run = get().runs.find((r) => r.id === id);
          if (!run) return { why: 'no such run' };
          if (get().elsewhere[id]) return { why: 'this run is training in another tab' };
          if (!get().checkpoints[id]) return { why: 'this run has no checkpoint in this browser' };
          return startable(run.config);
        };
        const first = check();
        if ('why' in first) return refuse(first.why);
        // Two tabs may press Resume on the same interrupted run: the lock decides which one trains it.
        const locks = get().locks;
        const lease = locks ? await locks.claim(id) : null;
        if (locks && !lease) return refuse('this run is training in another tab');
        const ready = check();
        if ('why' in ready) {
          lease?.release();
          return refuse(ready.why);
        }
        const run = get().runs.find((r) => r.id === id)!;
        get().updateRun(id, () => ({ status: 'starting', message: undefined, warning: undefined }));
        set({ startProblem: null });
        if (lease) own(id);
        ready.engine.send({ type: 'start-run', runId: id, config: run.config, where: ready.where, resume: true });
        return null;
      },
      importRuns: (imported) => {
        const { runs, nextColor } = get();
        const taken = new Set(runs.map((r) => r.id));
        const fresh = imported.map((r, i) => ({
          ...r,
          id: taken.has(r.id) ? `${r.id}-imported-${Date.now().toString(36)}-${i}` : r.id,
          color: nextColor + i,
          visible: true,
        }));
        set({ runs: [...runs, ...fresh], nextColor: nextColor + fresh.length });
        requeueClaims(); // the claims lab's queue drops what the imported runs already did
      },
      importWeights: (id, files) => {
        const { engine, datasets, runs, elsewhere, checkingWeights } = get();
        const run = runs.find((r) => r.id === id);
        if (!run) return 'no such run';
        if (!engine) return 'the engine worker is not running';
        if (ACTIVE.includes(run.status) || elsewhere[id])
          return 'this run is training: import weights once it has ended';
        const entry = chooseEntry(datasets, run.config.dataset);
        if (!entry)
          return `${run.config.dataset} is not available in this page: import it (Datasets) to check the weights on it`;
        set({ checkingWeights: { ...checkingWeights, [id]: true } });
        const history = {
          train: run.train,
          evals: run.evals,
          lrChanges: run.lrChanges,
          signals: run.signals ?? [],
          errors: run.errors ?? [],
        };
        const elapsedMs = run.train.at(-1)?.elapsedMs ?? 0;
        engine.send({
          type: 'import-weights',
          runId: id,
          config: run.config,
          where: entry.where,
          files,
          history,
          elapsedMs,
        });
        return null;
      },
      importDatasetFiles: (files) => {
        const engine = get().engine;
        if (!engine || files.length === 0) return;
        set({ importState: { status: 'running', progress: { phase: 'reading', fraction: 0 } } });
        engine.send({ type: 'import-dataset', files });
      },
    };
  });
}

export type PlaygroundStore = ReturnType<typeof createPlaygroundStore>;
