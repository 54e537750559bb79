/**
 * Tests only: the Web Locks API of one origin, for several tabs in one Node process (Node has no navigator.locks).
 * Exclusive locks, granted in request order; `ifAvailable` answers null at once when the lock is held; closing a
 * tab releases what it holds and drops what it waits for, as the browser does when a tab closes or crashes.
 */
import type { LockManagerLike } from './runLocks';

interface Waiter {
  tab: number;
  grant: () => void;
}

export function lockOrigin() {
  const holder = new Map<string, number>();
  const queues = new Map<string, Waiter[]>();
  const closed = new Set<number>();
  let tabs = 0;

  const release = (name: string) => {
    holder.delete(name);
    const next = queues.get(name)?.shift();
    next?.grant();
  };

  function tab(): { locks: LockManagerLike; close(): void } {
    const id = ++tabs;
    const locks: LockManagerLike = {
      request(name, options, callback) {
        if (closed.has(id)) return new Promise(() => {});
        return new Promise((resolve, reject) => {
          const run = () => {
            holder.set(name, id);
            Promise.resolve()
              .then(() => callback({ name }))
              .then(resolve, reject)
              .finally(() => {
                if (holder.get(name) === id && !closed.has(id)) release(name);
              });
          };
          if (!holder.has(name)) return run();
          if (options.ifAvailable) {
            Promise.resolve(callback(null)).then(resolve, reject);
            return;
          }
          const waiter: Waiter = { tab: id, grant: run };
          const queue = queues.get(name) ?? [];
          queues.set(name, [...queue, waiter]);
          options.signal?.addEventListener('abort', () => {
            const q = queues.get(name) ?? [];
            if (!q.includes(waiter)) return;
            queues.set(
              name,
              q.filter((w) => w !== waiter),
            );
            reject(new DOMException('The request was aborted.', 'AbortError'));
          });
        });
      },
      async query() {
        return { held: [...holder.keys()].map((name) => ({ name })) };
      },
    };
    return {
      locks,
      close() {
        closed.add(id);
        for (const [name, q] of queues)
          queues.set(
            name,
            q.filter((w) => w.tab !== id),
          );
        for (const [name, t] of [...holder]) if (t === id) release(name);
      },
    };
  }
  return { tab };
}
