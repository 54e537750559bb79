/**
 * Runs survive a reload, and each run has one writer. Every run's record (config, status, whole history) is written
 * to IndexedDB as it changes, batched to about once a second per run and at once on a change of status, each write
 * holding the run's lock (src/persist/runLocks.ts): the tab that trains a run holds it for the run's life and lets
 * go once the run's final record is saved; other runs are written under a lock taken for the write; a run whose
 * lock another tab holds is never written here.
 *
 * On load the runs come back. One that was active is live in another tab if its lock is held (tabs.ts shows it), or
 * `interrupted` at its last recorded point if not (the page that trained it is gone). A run live in another tab is
 * watched: when its lock comes free without a final record (that tab was closed or crashed) it becomes `interrupted`
 * here, with the fuller of the histories that tab saved and broadcast. Each write is one transaction, so a run is
 * never half-written; when storage is full the previous record stays and the page says so.
 */
import { checkpointInfo, deleteRun, loadRun, loadRuns, saveRun } from '../persist/db';
import type { RunLease, RunLocks } from '../persist/runLocks';
import { ACTIVE, type CheckpointInfo, type RunRecord } from '../experiment/record';
import type { PlaygroundStore } from './playground';

const BATCH_MS = 1000;

function without<T>(map: Record<string, T>, id: string): Record<string, T> {
  const { [id]: _, ...rest } = map;
  return rest;
}

/** Reads the saved runs into the store, then keeps the database in step with it. */
export async function syncWithDatabase(
  store: PlaygroundStore,
  locks: RunLocks,
  batchMs = BATCH_MS,
): Promise<() => void> {
  /** The version of each run last written (or read), so unchanged runs are not written again. */
  const written = new Map<string, RunRecord>();
  try {
    const [saved, info, held] = await Promise.all([loadRuns(), checkpointInfo(), locks.heldAnywhere()]);
    const s = store.getState();
    // A run already in the store was started here, or sent whole by the tab that trains it: that copy is newer.
    const known = new Set(s.runs.map((r) => r.id));
    const fresh = saved.filter((r) => !known.has(r.id));
    const live = fresh.filter((r) => ACTIVE.includes(r.status) && held.has(r.id));
    const restored: RunRecord[] = fresh.map((r) =>
      ACTIVE.includes(r.status) && !held.has(r.id) ? { ...r, status: 'interrupted' } : r,
    );
    const checkpoints: Record<string, CheckpointInfo> = {};
    for (const c of info) checkpoints[c.runId] = { iter: c.iter, bytes: c.bytes, savedAt: c.savedAt };
    const colors = [...restored, ...s.runs].map((r) => r.color + 1);
    store.setState({
      runs: [...restored, ...s.runs],
      nextColor: Math.max(s.nextColor, 0, ...colors),
      checkpoints: { ...checkpoints, ...s.checkpoints },
      elsewhere: { ...s.elsewhere, ...Object.fromEntries(live.map((r) => [r.id, true as const])) },
    });
    // Unchanged records need no write; the ones turned `interrupted` do.
    restored.forEach((r, i) => r.status === fresh[i]!.status && written.set(r.id, r));
  } catch (e) {
    store.setState({ storageProblem: `Saved runs could not be read: ${(e as Error).message}` });
  }

  let queue = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    queue = queue.then(async () => {
      const { runs, elsewhere } = store.getState();
      let problem: string | null = null;
      for (const r of runs) {
        if (written.get(r.id) === r || elsewhere[r.id]) continue;
        // A run starting here is written once its lock is held (the claim is on its way).
        if (ACTIVE.includes(r.status) && !locks.held(r.id)) continue;
        try {
          const done = await locks.withLease(r.id, (lease) => saveRun(lease, r, written.get(r.id)));
          if (done) written.set(r.id, r);
        } catch (e) {
          problem = (e as Error).message;
        }
        // Its final record is saved (or could not be): other tabs may take the run on now.
        if (store.getState().owned[r.id] && !ACTIVE.includes(r.status)) {
          locks.held(r.id)?.release();
          store.setState({ owned: without(store.getState().owned, r.id) });
        }
      }
      const present = new Set(runs.map((r) => r.id));
      for (const id of [...written.keys()].filter((id) => !present.has(id))) {
        try {
          if (await locks.withLease(id, (lease) => deleteRun(lease))) written.delete(id);
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
      timer = setTimeout(flush, batchMs);
    }
  };

  /**
   * A run another tab trained, now that its lock is free (held here while this runs): the record that tab saved
   * last if the run ended there, else the run as `interrupted`, from the fuller of its saved and its broadcast
   * history, written here.
   */
  const settle = async (id: string, lease: RunLease) => {
    let run: RunRecord | undefined;
    let checkpoint: CheckpointInfo | undefined;
    const view = store.getState().runs.find((r) => r.id === id);
    try {
      const [stored, info] = await Promise.all([loadRun(id), checkpointInfo()]);
      const c = info.find((i) => i.runId === id);
      checkpoint = c && { iter: c.iter, bytes: c.bytes, savedAt: c.savedAt };
      run = stored;
      if (!stored || ACTIVE.includes(stored.status)) {
        const fuller = view && (!stored || view.train.length >= stored.train.length) ? view : stored;
        run = fuller && { ...fuller, status: 'interrupted' };
        if (run) await saveRun(lease, run);
      }
    } catch (e) {
      run = view && ACTIVE.includes(view.status) ? { ...view, status: 'interrupted' } : view;
      store.setState({ storageProblem: (e as Error).message });
    }
    if (run && view) run = { ...run, visible: view.visible }; // this tab's choice
    if (run) written.set(id, run);
    watching.delete(id);
    const s = store.getState();
    store.setState({
      runs: !run ? s.runs.filter((r) => r.id !== id) : view ? s.runs.map((r) => (r.id === id ? run : r)) : s.runs,
      elsewhere: without(s.elsewhere, id),
      ...(checkpoint && { checkpoints: { ...s.checkpoints, [id]: checkpoint } }),
    });
  };
  const watching = new Map<string, () => void>();
  const watch = () => {
    const { elsewhere } = store.getState();
    for (const id of Object.keys(elsewhere)) {
      if (!watching.has(id))
        watching.set(
          id,
          locks.whenFree(id, (lease) => settle(id, lease)),
        );
    }
    for (const [id, cancel] of watching) {
      if (!elsewhere[id]) {
        cancel();
        watching.delete(id);
      }
    }
  };

  const off = store.subscribe((s, prev) => {
    if (s.elsewhere !== prev.elsewhere) watch();
    if (s.runs === prev.runs && s.owned === prev.owned) return;
    const statusOf = new Map(prev.runs.map((r) => [r.id, r.status]));
    const urgent =
      s.owned !== prev.owned ||
      s.runs.length !== prev.runs.length ||
      s.runs.some((r) => statusOf.get(r.id) !== r.status);
    schedule(urgent);
  });
  watch();
  schedule(true); // the runs turned `interrupted`
  return () => {
    off();
    if (timer) clearTimeout(timer);
    for (const cancel of watching.values()) cancel();
  };
}
