import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { usePlayground } from './store';
import { syncWithDatabase } from './store/persistence';
import { refreshCatalog, syncWithAddressBar, syncWithEngine } from './store/sync';
import { App } from './ui/App';
import { startEngine } from './worker/client';
import './ui/styles.css';

syncWithAddressBar(usePlayground);
syncWithEngine(usePlayground, startEngine());
void refreshCatalog(usePlayground);
void syncWithDatabase(usePlayground);
// Read-only handle for automation (npm run experiment reads run histories through it).
(window as unknown as { playground: typeof usePlayground }).playground = usePlayground;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
