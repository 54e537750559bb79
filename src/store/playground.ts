/**
 * The page's state (zustand): the experiment config, what the link said about it, what the engine worker
 * reports, and which datasets are here. UI components read it; only actions below change it.
 */
import { create } from 'zustand';
import type { DatasetEntry } from '../data/catalog';
import type { ImportProgress, ImportResult } from '../data/importer';
import type { Problem } from '../experiment/codec';
import { editConfig, type Adjustment } from '../experiment/edit';
import type { Config, ConfigKey } from '../experiment/schema';
import type { EngineClient } from '../worker/client';
import { chooseEntry } from '../data/catalog';
import type {
  BackendAttempt,
  BackendReport,
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
  status: RunStatus;
  info?: RunInfo;
  message?: string;
  train: TrainPoint[];
  evals: EvalPoint[];
  lrChanges: { iter: number; lr: number }[];
  startedAt: number;
}

export const ACTIVE: readonly RunStatus[] = ['starting', 'running', 'paused'];

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

  loadLink(config: Config, problems: Problem[]): void;
  /** Returns the reason when the value is refused (the config is then unchanged). */
  edit(key: ConfigKey, raw: string | boolean): string | null;
  dismissLinkProblems(): void;
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

    loadLink: (config, problems) => set({ config, linkProblems: problems, adjustments: [] }),
    edit: (key, raw) => {
      const r = editConfig(get().config, key, raw);
      if (!r.ok) return r.reason;
      set({ config: r.config, adjustments: r.adjusted });
      return null;
    },
    dismissLinkProblems: () => set({ linkProblems: [] }),
    setBackend: (backend) => set({ backend }),
    setDatasets: (datasets) => set({ datasets }),
    startRun: () => {
      const { engine, config, datasets, runs } = get();
      if (!engine) return 'the engine worker is not running';
      if (runs.some((r) => ACTIVE.includes(r.status))) return 'a run is already in progress';
      const entry = chooseEntry(datasets, config.dataset);
      if (!entry) return `${config.dataset} is not available`;
      const id = `run-${runs.length + 1}-${Date.now().toString(36)}`;
      const run: RunRecord = {
        id,
        config,
        status: 'starting',
        train: [],
        evals: [],
        lrChanges: [],
        startedAt: Date.now(),
      };
      set({ runs: [...runs, run] });
      engine.send({ type: 'start-run', runId: id, config, where: entry.where });
      return null;
    },
    pauseRun: () => get().engine?.send({ type: 'pause-run' }),
    resumeRun: () => get().engine?.send({ type: 'resume-run' }),
    stopRun: () => get().engine?.send({ type: 'stop-run' }),
    setRunLr: (lr) => get().engine?.send({ type: 'set-lr', lr }),
    updateRun: (id, change) => set({ runs: get().runs.map((r) => (r.id === id ? { ...r, ...change(r) } : r)) }),
    importDatasetFiles: (files) => {
      const engine = get().engine;
      if (!engine || files.length === 0) return;
      set({ importState: { status: 'running', progress: { phase: 'reading', fraction: 0 } } });
      engine.send({ type: 'import-dataset', files });
    },
  }));
}

export type PlaygroundStore = ReturnType<typeof createPlaygroundStore>;
