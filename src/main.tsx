import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { usePlayground } from './store';
import { RunLocks } from './persist/runLocks';
import { syncWithDatabase } from './store/persistence';
import { RUNS_CHANNEL, syncWithTabs } from './store/tabs';
import { refreshCatalog, syncWithAddressBar, syncWithEngine } from './store/sync';
import { App } from './ui/App';
import { startEngine } from './worker/client';
import './ui/styles.css';

// A run is trained and written by the one tab that holds its lock; the others follow it over the channel.
const locks = new RunLocks(navigator.locks ?? null);
usePlayground.setState({ locks });
const engine = startEngine();
syncWithAddressBar(usePlayground);
syncWithEngine(usePlayground, engine);
syncWithTabs(usePlayground, engine, new BroadcastChannel(RUNS_CHANNEL));
void refreshCatalog(usePlayground);
void syncWithDatabase(usePlayground, locks);
// Read-only handle for automation (npm run experiment reads run histories through it).
(window as unknown as { playground: typeof usePlayground }).playground = usePlayground;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
