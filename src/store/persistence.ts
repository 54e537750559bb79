/**
 * Runs survive a reload: every run's record (config, status, whole history) is written to IndexedDB as it
 * changes, batched to about once a second per run and at once on a change of status; on load the runs come
 * back, and one that was active when the page died comes back `interrupted` at its last recorded point. Each
 * write is one record in one transaction, so a run is never half-written; when storage is full the previous
 * record stays and the page says so.
 */
import { checkpointInfo, deleteRun, loadRuns, saveRun } from '../persist/db';
import { ACTIVE, type CheckpointInfo, type RunRecord } from '../experiment/record';
import type { PlaygroundStore } from './playground';

const BATCH_MS = 1000;

/** Reads the saved runs into the store, then keeps the database in step with it. */
export async function syncWithDatabase(store: PlaygroundStore): Promise<() => void> {
  const written = new Map<string, RunRecord>();
  try {
    const [saved, info] = await Promise.all([loadRuns(), checkpointInfo()]);
    const restored: RunRecord[] = saved.map((r) => ({
      ...r,
      status: ACTIVE.includes(r.status) ? 'interrupted' : r.status,
    }));
    const checkpoints: Record<string, CheckpointInfo> = {};
    for (const c of info) checkpoints[c.runId] = { iter: c.iter, bytes: c.bytes, savedAt: c.savedAt };
    const s = store.getState();
    const colors = [...restored, ...s.runs].map((r) => r.color + 1);
    store.setState({
      runs: [...restored, ...s.runs],
      nextColor: Math.max(s.nextColor, 0, ...colors),
      checkpoints: { ...checkpoints, ...s.checkpoints },
    });
    // Unchanged records need no write; the ones turned `interrupted` do.
    restored.forEach((r, i) => r.status === saved[i]!.status && written.set(r.id, r));
  } catch (e) {
    store.setState({ storageProblem: `Saved runs could not be read: ${(e as Error).message}` });
  }

  let queue = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    queue = queue.then(async () => {
      const { runs } = store.getState();
      let problem: string | null = null;
      for (const r of runs) {
        if (written.get(r.id) === r) continue;
        try {
          await saveRun(r, written.get(r.id)); // a RunRecord is plain data, as structured clone wants
          written.set(r.id, r);
        } catch (e) {
          problem = (e as Error).message;
        }
      }
      const live = new Set(runs.map((r) => r.id));
      for (const id of [...written.keys()].filter((id) => !live.has(id))) {
        try {
          await deleteRun(id);
          written.delete(id);
        } catch (e) {
          problem = (e as Error).message;
        }
      }
      if (problem !== store.getState().storageProblem) store.setState({ storageProblem: problem });
    });
  };
  const schedule = (now: boolean) => {
    if (now) {
      if (timer) clearTimeout(timer);
      flush();
    } else if (!timer) {
      timer = setTimeout(flush, BATCH_MS);
    }
  };
  const off = store.subscribe((s, prev) => {
    if (s.runs === prev.runs) return;
    const statusOf = new Map(prev.runs.map((r) => [r.id, r.status]));
    const urgent = s.runs.length !== prev.runs.length || s.runs.some((r) => statusOf.get(r.id) !== r.status);
    schedule(urgent);
  });
  schedule(true); // the runs turned `interrupted`
  return () => {
    off();
    if (timer) clearTimeout(timer);
  };
}
