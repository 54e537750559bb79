/**
 * Wiring between the store and the outside world: the address bar (always the canonical link of the current
 * config) and the engine worker (told whenever the backend key changes).
 */
import { parseQuery, toQuery } from '../experiment/codec';
import type { EngineClient } from '../worker/client';
import type { PlaygroundStore } from './playground';

export function linkFor(query: string, loc: Pick<Location, 'pathname' | 'hash'> = location): string {
  return `${loc.pathname}${query ? `?${query}` : ''}${loc.hash}`;
}

/** Loads the page's own link into the store, then keeps the address bar in step with the config. */
export function syncWithAddressBar(store: PlaygroundStore): () => void {
  const { config, problems } = parseQuery(location.search);
  store.getState().loadLink(config, problems);
  const write = () => {
    const url = linkFor(toQuery(store.getState().config));
    if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(history.state, '', url);
  };
  write();
  return store.subscribe((s, prev) => {
    if (s.config !== prev.config) write();
  });
}

/** Starts the backend the config asks for, and again each time the backend key changes. */
export function syncWithEngine(store: PlaygroundStore, engine: EngineClient): () => void {
  const init = (backend = store.getState().config.backend) => {
    store.getState().setBackend({ status: 'starting', requested: backend });
    engine.send({ type: 'init-backend', backend });
  };
  const offMessages = engine.onMessage((m) => {
    const requested = store.getState().config.backend;
    // A report for an earlier request is stale: the answer to the latest one is on its way.
    if (m.type === 'backend-ready' && m.report.requested === requested) {
      store.getState().setBackend({ status: 'ready', report: m.report });
    } else if (m.type === 'backend-failed' && m.requested === requested) {
      store.getState().setBackend({ status: 'failed', requested, attempts: m.attempts });
    } else if (m.type === 'worker-error') {
      store.getState().setBackend({ status: 'failed', requested, attempts: [], message: m.message });
    }
  });
  init();
  const offStore = store.subscribe((s, prev) => {
    if (s.config.backend !== prev.config.backend) init(s.config.backend);
  });
  return () => {
    offMessages();
    offStore();
  };
}
