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
import type { BackendAttempt, BackendReport, DatasetLoad } from '../worker/protocol';

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

  loadLink(config: Config, problems: Problem[]): void;
  /** Returns the reason when the value is refused (the config is then unchanged). */
  edit(key: ConfigKey, raw: string | boolean): string | null;
  dismissLinkProblems(): void;
  setBackend(state: BackendState): void;
  setDatasets(list: DatasetEntry[]): void;
  /** Hands the user's files to the worker for import. */
  importDatasetFiles(files: File[]): void;
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
    importDatasetFiles: (files) => {
      const engine = get().engine;
      if (!engine || files.length === 0) return;
      set({ importState: { status: 'running', progress: { phase: 'reading', fraction: 0 } } });
      engine.send({ type: 'import-dataset', files });
    },
  }));
}

export type PlaygroundStore = ReturnType<typeof createPlaygroundStore>;
