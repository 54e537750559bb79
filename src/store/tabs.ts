/**
 * Live runs across this browser's tabs, over a BroadcastChannel. The tab that trains a run (it holds the run's lock,
 * see persistence.ts) sends the run whole when it takes it on and whenever another tab opens, then every message
 * its worker sends about it. Every other tab shows the run live from these (its iteration, its curves), marks it
 * `elsewhere`, and neither trains, resumes, deletes nor writes it; when its lock comes free, persistence.ts settles
 * it. A run deleted in one tab is dropped by the others, so it does not come back from their copies.
 */
import type { CheckpointInfo, RunRecord } from '../experiment/record';
import type { EngineClient } from '../worker/client';
import type { PlaygroundStore } from './playground';
import { applyRunMessage, type RunMessage } from './sync';

export const RUNS_CHANNEL = 'identity-mappings-runs';

export type TabMessage =
  /** A tab opened: the tabs that train runs answer with each run, whole. */
  | { type: 'hello' }
  /** A run, whole, from the tab that trains it. */
  | { type: 'run'; run: RunRecord; checkpoint?: CheckpointInfo }
  /** What the worker of the tab that trains a run said about it. */
  | { type: 'worker'; message: RunMessage }
  | { type: 'deleted'; runId: string };

/** The part of BroadcastChannel used here. */
export interface TabChannel {
  postMessage(message: TabMessage): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<TabMessage>) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent<TabMessage>) => void): void;
}

export function syncWithTabs(store: PlaygroundStore, engine: EngineClient, channel: TabChannel): () => void {
  /** Runs received whole from their tab: messages about them apply from then on, in the order they were sent. */
  const whole = new Set<string>();
  const asked = new Set<string>();
  let dropping = false;
  const post = (m: TabMessage) => channel.postMessage(m);
  const sendWhole = (id: string) => {
    const s = store.getState();
    const run = s.runs.find((r) => r.id === id);
    if (run) post({ type: 'run', run, ...(s.checkpoints[id] && { checkpoint: s.checkpoints[id] }) });
  };
  const markElsewhere = (id: string) => {
    const { elsewhere } = store.getState();
    if (!elsewhere[id]) store.setState({ elsewhere: { ...elsewhere, [id]: true } });
  };

  const onMessage = ({ data: m }: MessageEvent<TabMessage>) => {
    const s = store.getState();
    switch (m.type) {
      case 'hello':
        for (const id of Object.keys(s.owned)) sendWhole(id);
        break;
      case 'run': {
        const { run } = m;
        if (s.owned[run.id]) break; // only the lock holder sends a run, and that is this tab
        whole.add(run.id);
        const here = s.runs.find((r) => r.id === run.id);
        const shown = here ? { ...run, visible: here.visible } : run;
        store.setState({
          runs: here ? s.runs.map((r) => (r.id === run.id ? shown : r)) : [...s.runs, shown],
          nextColor: Math.max(s.nextColor, run.color + 1),
          ...(m.checkpoint && { checkpoints: { ...s.checkpoints, [run.id]: m.checkpoint } }),
        });
        markElsewhere(run.id);
        break;
      }
      case 'worker': {
        const id = m.message.runId;
        if (s.owned[id]) break;
        if (!whole.has(id)) {
          // Points on top of a copy this tab did not get whole would leave a hole: ask for the run first.
          if (!asked.has(id)) post({ type: 'hello' });
          asked.add(id);
          break;
        }
        applyRunMessage(store, m.message);
        markElsewhere(id);
        break;
      }
      case 'deleted': {
        if (s.owned[m.runId]) break; // a stale copy's deletion: this tab trains the run
        whole.delete(m.runId);
        const { [m.runId]: _, ...elsewhere } = s.elsewhere;
        dropping = true;
        store.setState({ runs: s.runs.filter((r) => r.id !== m.runId), elsewhere });
        dropping = false;
        break;
      }
    }
  };
  channel.addEventListener('message', onMessage);

  // What this tab's worker says about the runs this tab trains goes to the other tabs as it comes.
  const offEngine = engine.onMessage((m) => {
    if ('runId' in m && store.getState().owned[m.runId]) post({ type: 'worker', message: m });
  });
  const offStore = store.subscribe((s, prev) => {
    if (s.owned !== prev.owned) for (const id of Object.keys(s.owned)) if (!prev.owned[id]) sendWhole(id);
    if (s.runs !== prev.runs && !dropping) {
      const present = new Set(s.runs.map((r) => r.id));
      for (const r of prev.runs) if (!present.has(r.id)) post({ type: 'deleted', runId: r.id });
    }
  });
  post({ type: 'hello' });
  return () => {
    channel.removeEventListener('message', onMessage);
    offEngine();
    offStore();
  };
}
