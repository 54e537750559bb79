/**
 * The page's state (zustand): the experiment config, what the link said about it, what the engine worker
 * reports, and which datasets are here. UI components read it; only actions below change it.
 */
import { create } from 'zustand';
import type { Problem } from '../experiment/codec';
import { editConfig, type Adjustment } from '../experiment/edit';
import type { Config, ConfigKey, DatasetId } from '../experiment/schema';
import type { BackendAttempt, BackendReport } from '../worker/protocol';

export type BackendState =
  | { status: 'starting'; requested: Config['backend'] }
  | { status: 'ready'; report: BackendReport }
  | { status: 'failed'; requested: Config['backend']; attempts: BackendAttempt[]; message?: string };

export interface PlaygroundState {
  config: Config;
  /** Problems of the link the page was opened with; cleared by dismissing. */
  linkProblems: Problem[];
  /** Keys the last edit moved to stay valid (e.g. depth after a change of block). */
  adjustments: Adjustment[];
  backend: BackendState;
  /** null until the server's list has been read. */
  availableDatasets: DatasetId[] | null;

  loadLink(config: Config, problems: Problem[]): void;
  /** Returns the reason when the value is refused (the config is then unchanged). */
  edit(key: ConfigKey, raw: string | boolean): string | null;
  dismissLinkProblems(): void;
  setBackend(state: BackendState): void;
  setAvailableDatasets(list: DatasetId[]): void;
}

export function createPlaygroundStore(initial: Config) {
  return create<PlaygroundState>()((set, get) => ({
    config: initial,
    linkProblems: [],
    adjustments: [],
    backend: { status: 'starting', requested: initial.backend },
    availableDatasets: null,

    loadLink: (config, problems) => set({ config, linkProblems: problems, adjustments: [] }),
    edit: (key, raw) => {
      const r = editConfig(get().config, key, raw);
      if (!r.ok) return r.reason;
      set({ config: r.config, adjustments: r.adjusted });
      return null;
    },
    dismissLinkProblems: () => set({ linkProblems: [] }),
    setBackend: (backend) => set({ backend }),
    setAvailableDatasets: (availableDatasets) => set({ availableDatasets }),
  }));
}

export type PlaygroundStore = ReturnType<typeof createPlaygroundStore>;
