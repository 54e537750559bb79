import { convsInUnit, depthForm, shapeSummary } from '../experiment/network';
import { UNITS } from '../experiment/units';
import { usePlayground } from '../store';

/** The chosen unit as the paper states it, with the paper's reported errors. */
export function UnitSummary() {
  const unit = UNITS[usePlayground((s) => s.config.unit)];
  return (
    <section className="card" data-testid="unit-summary" aria-labelledby="unit-title">
      <h2 id="unit-title">
        Fig. {unit.figure}{unit.panel} · {unit.title}
      </h2>
      <p className="formula">{unit.formula}</p>
      <table className="paper">
        <caption>Paper, CIFAR-10 test error (median of 5 runs)</caption>
        <tbody>
          {unit.paper.map((r, i) => (
            <tr key={i}>
              <td>ResNet-{r.depth}</td>
              <td>{r.setting ?? ''}</td>
              <td className="num">{r.error === null ? 'fail (> 20%)' : `${r.error.toFixed(2)}%`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The network's shape, recomputed as the form changes. */
export function NetworkSummary() {
  const { depth, block, convsPerUnit } = usePlayground((s) => s.config);
  const shape = { depth, block, convsPerUnit };
  const s = shapeSummary(shape);
  return (
    <section className="card" data-testid="network-summary" aria-labelledby="net-title">
      <h2 id="net-title">
        ResNet-{depth} · {block}
      </h2>
      {s && (
        <dl className="facts">
          <dt>Depth form</dt>
          <dd>{depthForm(shape)}, n = {s.unitsPerStage}</dd>
          <dt>Residual units</dt>
          <dd>{s.units} (3 stages × {s.unitsPerStage})</dd>
          <dt>Weight layers</dt>
          <dd>{s.weightLayers} (conv1, {s.units} units × {convsInUnit(shape)} convs, fc)</dd>
          <dt>Feature maps</dt>
          <dd>{block === 'basic' ? '16 / 32 / 64' : '64 / 128 / 256 (inner 16 / 32 / 64)'} at 32² / 16² / 8²</dd>
        </dl>
      )}
    </section>
  );
}
