import { BackendBadge } from './BackendBadge';
import { ClaimsEntry, ClaimsInvite, ClaimsLab } from './ClaimsLab';
import { ConfigForm } from './ConfigForm';
import { CurrentUnit } from './CurrentUnit';
import { Datasets } from './Datasets';
import { ErrorsView } from './ErrorsView';
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

/**
 * The first screen is the experiment: the unit being trained, the controls and progress, and the live chart,
 * all in view without scrolling on a laptop. What the network gets wrong, the run list, the paper lab, the
 * signal view and every setting follow below.
 */
export function App() {
  return (
    <div className="app">
      <header className="top">
        <div className="brand">
          <h1>Identity Mappings in Deep Residual Networks</h1>
          <p className="subtitle">
            He, Zhang, Ren &amp; Sun, ECCV 2016 · train a residual unit in your browser and see why a clean identity
            path matters
          </p>
        </div>
        <div className="top-side">
          <ClaimsEntry />
          <Share />
          <BackendBadge />
        </div>
      </header>
      <LinkProblems />
      <Adjustments />
      <DatasetNotice />
      <ClaimsInvite />
      <section className="hero" aria-label="Train and watch">
        <div className="hero-side">
          <CurrentUnit />
          <RunPanel />
        </div>
        <RunsChart />
      </section>
      <ClaimsLab />
      <ErrorsView />
      <main className="layout">
        <div className="results">
          <RunsList />
          <SeedResults />
          <PaperLab />
          <SignalView />
        </div>
        <aside className="side" id="settings" aria-label="Experiment settings">
          <Presets />
          <NetworkSummary />
          <ConfigForm />
          <Datasets />
        </aside>
      </main>
    </div>
  );
}
