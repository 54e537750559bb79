import { experimentKey, seedStats } from '../experiment/lab';
import { runLabel } from '../experiment/label';
import type { RunRecord } from '../experiment/record';
import { usePlayground } from '../store';
import { finalError, statsText } from './labTable';

/**
 * Runs of one experiment with different seeds, summarised as the paper does (Table 4): the median final test
 * error, with mean ± std. Only experiments with at least two finished seeds are listed.
 */
export function SeedResults() {
  const runs = usePlayground((s) => s.runs);
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    if (finalError(r) === undefined) continue;
    const key = experimentKey(r.config);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows = [...groups.values()].filter((g) => g.length >= 2);
  if (rows.length === 0) return null;
  return (
    <section className="card" aria-labelledby="seeds-title" data-testid="seed-results">
      <h2 id="seeds-title">Over seeds</h2>
      <table className="runs-table">
        <thead>
          <tr>
            <th scope="col">Experiment</th>
            <th scope="col">Seeds</th>
            <th scope="col">Final test error: median (mean ± std)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((g) => (
            <tr key={experimentKey(g[0]!.config)} data-testid="seed-row">
              <td>{runLabel(g[0]!.config)}</td>
              <td>{g.map((r) => r.config.seed).join(', ')}</td>
              <td className="num">{statsText(seedStats(g.map((r) => finalError(r)!))!, g[0]!.config.dataset)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
