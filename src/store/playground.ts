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
import type { Config, ConfigKey } from '../experiment/schema';
import type { EngineClient } from '../worker/client';
import { chooseEntry } from '../data/catalog';
import type {
  BackendAttempt,
  BackendReport,
  CheckpointInfo,
  DatasetLoad,
  EvalPoint,
  RunInfo,
  RunStatus,
  TrainPoint,
} from '../worker/protocol';

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

/** One training run as the page knows it: its config, what the worker reported, and its whole history. */
export interface RunRecord {
  id: string;
  config: Config;
  /** interrupted: it was active when the page closed; it resumes from its last checkpoint, if any. */
  status: RunStatus | 'interrupted';
  info?: RunInfo;
  message?: string;
  /** Something that went wrong without ending the run (a checkpoint that did not fit). */
  warning?: string;
  train: TrainPoint[];
  evals: EvalPoint[];
  lrChanges: { iter: number; lr: number }[];
  startedAt: number;
  /** Drawn on the chart (the run list's checkbox). */
  visible: boolean;
  /** Index into the chart palette, fixed for the run's life so its colour never changes. */
  color: number;
}

/** How the chart draws curves; the histories themselves are never changed. */
export interface ChartOptions {
  logLoss: boolean;
  /** TensorBoard-style smoothing weight of the training loss, 0 (off) to 0.99. */
  smoothing: number;
}

export const ACTIVE: readonly RunRecord['status'][] = ['starting', 'running', 'paused'];

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
  runs: RunRecord[];
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
  /** Continues an ended or interrupted run from its last checkpoint; returns why not when it cannot. */
  resumeFromCheckpoint(id: string): string | null;
  /** Adds runs read from an export (history only: they cannot resume). */
  importRuns(runs: RunRecord[]): void;
  setChart(change: Partial<ChartOptions>): void;
}

export function createPlaygroundStore(initial: Config) {
  return create<PlaygroundState>()((set, get) => ({
    config: initial,
    linkProblems: [],
    adjustments: [],
    backend: { status: 'starting', requested: initial.backend },
    datasets: null,
    importState: { status: 'idle' },
    engineDataset: null,
    engine: null,
    runs: [],
    nextColor: 0,
    chart: { logLoss: false, smoothing: 0 },
    startProblem: null,
    autostartPending: false,
    checkpoints: {},
    storageProblem: null,

    loadLink: (config, problems, actions) =>
      set({ config, linkProblems: problems, adjustments: [], autostartPending: actions?.autostart ?? false }),
    edit: (key, raw) => {
      const r = editConfig(get().config, key, raw);
      if (!r.ok) return r.reason;
      set({ config: r.config, adjustments: r.adjusted });
      return null;
    },
    dismissLinkProblems: () => set({ linkProblems: [] }),
    applyPreset: (preset) => set({ config: applyPreset(get().config, preset), adjustments: [] }),
    setBackend: (backend) => set({ backend }),
    setDatasets: (datasets) => set({ datasets }),
    startRun: () => {
      const { engine, config, datasets, runs, nextColor } = get();
      const refuse = (why: string) => {
        set({ startProblem: why });
        return why;
      };
      if (!engine) return refuse('the engine worker is not running');
      if (runs.some((r) => ACTIVE.includes(r.status))) return refuse('a run is already in progress');
      const entry = chooseEntry(datasets, config.dataset);
      if (!entry) return refuse(`${config.dataset} is not available`);
      const id = `run-${runs.length + 1}-${Date.now().toString(36)}`;
      const run: RunRecord = {
        id,
        config,
        status: 'starting',
        train: [],
        evals: [],
        lrChanges: [],
        startedAt: Date.now(),
        visible: true,
        color: nextColor,
      };
      set({ runs: [...runs, run], nextColor: nextColor + 1, startProblem: null, autostartPending: false });
      engine.send({ type: 'start-run', runId: id, config, where: entry.where });
      return null;
    },
    pauseRun: () => get().engine?.send({ type: 'pause-run' }),
    resumeRun: () => get().engine?.send({ type: 'resume-run' }),
    stopRun: () => get().engine?.send({ type: 'stop-run' }),
    setRunLr: (lr) => get().engine?.send({ type: 'set-lr', lr }),
    updateRun: (id, change) => set({ runs: get().runs.map((r) => (r.id === id ? { ...r, ...change(r) } : r)) }),
    setRunVisible: (id, visible) => get().updateRun(id, () => ({ visible })),
    deleteRun: (id) => set({ runs: get().runs.filter((r) => r.id !== id || ACTIVE.includes(r.status)) }),
    loadRunConfig: (id) => {
      const run = get().runs.find((r) => r.id === id);
      if (run) set({ config: run.config, adjustments: [] });
    },
    rerun: (id) => {
      get().loadRunConfig(id);
      return get().startRun();
    },
    setChart: (change) => set({ chart: { ...get().chart, ...change } }),
    resumeFromCheckpoint: (id) => {
      const { engine, datasets, runs, checkpoints } = get();
      const run = runs.find((r) => r.id === id);
      const refuse = (why: string) => {
        set({ startProblem: why });
        return why;
      };
      if (!run) return refuse('no such run');
      if (!engine) return refuse('the engine worker is not running');
      if (runs.some((r) => ACTIVE.includes(r.status))) return refuse('a run is already in progress');
      if (!checkpoints[id]) return refuse('this run has no checkpoint in this browser');
      const entry = chooseEntry(datasets, run.config.dataset);
      if (!entry) return refuse(`${run.config.dataset} is not available`);
      get().updateRun(id, () => ({ status: 'starting', message: undefined, warning: undefined }));
      set({ startProblem: null });
      engine.send({ type: 'start-run', runId: id, config: run.config, where: entry.where, resume: true });
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
    },
    importDatasetFiles: (files) => {
      const engine = get().engine;
      if (!engine || files.length === 0) return;
      set({ importState: { status: 'running', progress: { phase: 'reading', fraction: 0 } } });
      engine.send({ type: 'import-dataset', files });
    },
  }));
}

export type PlaygroundStore = ReturnType<typeof createPlaygroundStore>;
