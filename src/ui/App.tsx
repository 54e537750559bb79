import { BackendBadge } from './BackendBadge';
import { ConfigForm } from './ConfigForm';
import { Datasets } from './Datasets';
import { Adjustments, DatasetNotice, LinkProblems } from './Notices';
import { PaperLab } from './PaperLab';
import { Presets } from './Presets';
import { RunPanel } from './RunPanel';
import { RunsChart } from './RunsChart';
import { RunsList } from './RunsList';
import { SeedResults } from './SeedResults';
import { SignalView } from './SignalView';
import { Share } from './Share';
import { NetworkSummary } from './Summary';
import { VariantPicker } from './VariantPicker';

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
        <div className="top-side">
          <Share />
          <BackendBadge />
        </div>
      </header>
      <LinkProblems />
      <Adjustments />
      <DatasetNotice />
      <VariantPicker />
      <main className="layout">
        <div className="results">
          <RunPanel />
          <PaperLab />
          <RunsChart />
          <RunsList />
          <SeedResults />
          <SignalView />
        </div>
        <aside className="side" aria-label="Experiment settings">
          <Presets />
          <NetworkSummary />
          <ConfigForm />
          <Datasets />
        </aside>
      </main>
    </div>
  );
}
