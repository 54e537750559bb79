/**
 * One writer per run across this browser's tabs, with the Web Locks API: the tab that trains a run holds the lock
 * named after it for the run's whole life, and every other write of a run (a finished run's record, its deletion,
 * marking it interrupted) holds its lock for that write. The browser releases a tab's locks when the tab closes or
 * crashes: that, and only that, tells another tab that a live run was interrupted. The database (db.ts) writes a
 * run only with a lease from here.
 *
 * The lock manager is injected (navigator.locks in the page; a fake in unit tests, Node has none). Without one
 * (a browser without Web Locks) leases are exclusive within this tab only.
 */

/** The part of the Web Locks API used here (LockManager). */
export interface LockManagerLike {
  request(
    name: string,
    options: { ifAvailable?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => unknown,
  ): Promise<unknown>;
  query(): Promise<{ held?: { name?: string }[] }>;
}

const PREFIX = 'identity-mappings-run:';
export const runLockName = (runId: string) => `${PREFIX}${runId}`;

/** Proof that this tab holds a run's lock, for as long as `held` says. */
export interface RunLease {
  readonly runId: string;
  readonly held: boolean;
  release(): void;
}

export class RunLocks {
  private readonly leases = new Map<string, RunLease>();

  constructor(private readonly manager: LockManagerLike | null) {}

  private lease(runId: string, unlock: () => void): RunLease {
    let held = true;
    const lease: RunLease = {
      runId,
      get held() {
        return held;
      },
      release: () => {
        if (!held) return;
        held = false;
        if (this.leases.get(runId) === lease) this.leases.delete(runId);
        unlock();
      },
    };
    this.leases.set(runId, lease);
    return lease;
  }

  /**
   * Takes the run's lock if no tab holds it (this one included), and holds it until `release()`; null when it is
   * held. Resolves as soon as the browser answers.
   */
  claim(runId: string): Promise<RunLease | null> {
    if (this.leases.has(runId)) return Promise.resolve(null);
    if (!this.manager) return Promise.resolve(this.lease(runId, () => {}));
    return new Promise<RunLease | null>((resolve, reject) => {
      this.manager!.request(runLockName(runId), { ifAvailable: true }, (lock) => {
        if (!lock) return resolve(null);
        // The lock is held until the promise returned here settles: until release().
        return new Promise<void>((unlock) => resolve(this.lease(runId, unlock)));
      }).catch(reject);
    });
  }

  /** The lease this tab holds on the run, if any. */
  held(runId: string): RunLease | undefined {
    const lease = this.leases.get(runId);
    return lease?.held ? lease : undefined;
  }

  /**
   * Runs `write` holding the run's lock: this tab's own lease, or one taken for the write and released after it.
   * Null (and `write` is not called) when another tab holds the lock.
   */
  async withLease<T>(runId: string, write: (lease: RunLease) => Promise<T>): Promise<{ value: T } | null> {
    const own = this.held(runId);
    if (own) return { value: await write(own) };
    const lease = await this.claim(runId);
    if (!lease) return null;
    try {
      return { value: await write(lease) };
    } finally {
      lease.release();
    }
  }

  /** The runs whose locks some tab (this one included) holds now. */
  async heldAnywhere(): Promise<Set<string>> {
    const mine = [...this.leases.keys()];
    if (!this.manager) return new Set(mine);
    const { held = [] } = await this.manager.query();
    const names = held.map((l) => l.name ?? '').filter((n) => n.startsWith(PREFIX));
    return new Set([...mine, ...names.map((n) => n.slice(PREFIX.length))]);
  }

  /**
   * Calls `then` holding the run's lock once no tab holds it (at once if none does); the lock is released when
   * `then` settles. The returned function cancels a wait that has not been answered yet.
   */
  whenFree(runId: string, then: (lease: RunLease) => Promise<void>): () => void {
    if (!this.manager) {
      let cancelled = false;
      queueMicrotask(() => {
        if (cancelled || this.leases.has(runId)) return;
        const lease = this.lease(runId, () => {});
        void then(lease).finally(() => lease.release());
      });
      return () => (cancelled = true);
    }
    const abort = new AbortController();
    this.manager
      .request(runLockName(runId), { signal: abort.signal }, async () => {
        const lease = this.lease(runId, () => {});
        try {
          await then(lease);
        } finally {
          lease.release();
        }
      })
      .catch(() => undefined); // cancelled
    return () => abort.abort();
  }
}
