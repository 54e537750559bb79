import { BackendBadge } from './BackendBadge';
import { ConfigForm } from './ConfigForm';
import { Datasets } from './Datasets';
import { Adjustments, DatasetNotice, LinkProblems } from './Notices';
import { RunPanel } from './RunPanel';
import { NetworkSummary, UnitSummary } from './Summary';

export function App() {
  return (
    <div className="app">
      <header className="top">
        <div>
          <h1>Identity Mappings in Deep Residual Networks</h1>
          <p className="subtitle">
            An interactive reproduction of He, Zhang, Ren &amp; Sun (ECCV 2016): pick a residual unit, train it in your
            browser, and see why a clean identity path matters.
          </p>
        </div>
        <BackendBadge />
      </header>
      <LinkProblems />
      <Adjustments />
      <DatasetNotice />
      <main className="layout">
        <ConfigForm />
        <aside className="side">
          <RunPanel />
          <UnitSummary />
          <NetworkSummary />
          <Datasets />
        </aside>
      </main>
    </div>
  );
}
