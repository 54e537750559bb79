import { DATASET_LABELS } from '../data/catalog';
import { SCHEMA } from '../experiment/schema';
import { usePlayground } from '../store';
import { ImportButton } from './Datasets';

/** The refused keys of the link the page was opened with, each with its reason. */
export function LinkProblems() {
  const problems = usePlayground((s) => s.linkProblems);
  const dismiss = usePlayground((s) => s.dismissLinkProblems);
  if (problems.length === 0) return null;
  return (
    <section className="notice notice-warn" role="alert" data-testid="link-problems">
      <div className="notice-head">
        <strong>
          This link had {problems.length} refused {problems.length === 1 ? 'key' : 'keys'}; the default is used for
          each.
        </strong>
        <button type="button" onClick={dismiss}>
          Dismiss
        </button>
      </div>
      <ul>
        {problems.slice(0, 30).map((p, i) => (
          <li key={`${p.key}-${i}`}>
            <code>
              {p.key}={p.value}
            </code>
            : {p.reason}
          </li>
        ))}
        {problems.length > 30 && <li>… and {problems.length - 30} more</li>}
      </ul>
    </section>
  );
}

/** Keys the last edit moved so the experiment stays valid, so that nothing changes behind the user's back. */
export function Adjustments() {
  const adjusted = usePlayground((s) => s.adjustments);
  if (adjusted.length === 0) return null;
  return (
    <section className="notice notice-info" role="status" data-testid="adjustments">
      {adjusted.map((a) => (
        <p key={a.key}>
          {SCHEMA[a.key].label} changed from {String(a.from)} to {String(a.to)}: {a.reason}.
        </p>
      ))}
    </section>
  );
}

/** Says when the chosen dataset is not on this server, and offers the embedded set in one click. */
export function DatasetNotice() {
  const dataset = usePlayground((s) => s.config.dataset);
  const entries = usePlayground((s) => s.datasets);
  const edit = usePlayground((s) => s.edit);
  if (entries === null || entries.some((e) => e.dataset === dataset)) return null;
  return (
    <section className="notice notice-warn notice-row" role="status" data-testid="dataset-missing">
      <p>
        <strong>{DATASET_LABELS[dataset]} is not available yet</strong>, neither on this server nor in this browser:
        import the official <code>{dataset === 'cifar100' ? 'cifar-100' : 'cifar-10'}-binary.tar.gz</code> (checked and
        kept in this browser) or put it on the server with <code>npm run data -- {dataset}</code>. The embedded demo set
        needs no download: a small generated 10-class image set, not CIFAR.
      </p>
      <div className="notice-actions">
        <ImportButton label="Import the official tarball…" />
        <button type="button" onClick={() => edit('dataset', 'synthetic')}>
          Use the embedded demo set
        </button>
      </div>
    </section>
  );
}
