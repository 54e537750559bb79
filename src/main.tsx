import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { fetchAvailableDatasets } from './data/catalog';
import { usePlayground } from './store';
import { syncWithAddressBar, syncWithEngine } from './store/sync';
import { App } from './ui/App';
import { startEngine } from './worker/client';
import './ui/styles.css';

syncWithAddressBar(usePlayground);
syncWithEngine(usePlayground, startEngine());
void fetchAvailableDatasets().then((list) => usePlayground.getState().setAvailableDatasets(list));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
