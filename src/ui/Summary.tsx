import { useMemo } from 'react';
import { convsInUnit, depthForm, shapeSummary } from '../experiment/network';
import { planNetwork, summarizePlan } from '../model/plan';
import { UNITS } from '../experiment/units';
import { usePlayground } from '../store';

/** The chosen unit as the paper states it, with the paper's reported errors. */
export function UnitSummary() {
  const unit = UNITS[usePlayground((s) => s.config.unit)];
  return (
    <section className="card" data-testid="unit-summary" aria-labelledby="unit-title">
      <h2 id="unit-title">
        Fig. {unit.figure}
        {unit.panel} · {unit.title}
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
  const config = usePlayground((s) => s.config);
  const { depth, block, convsPerUnit } = config;
  const shape = { depth, block, convsPerUnit };
  const s = shapeSummary(shape);
  const model = useMemo(() => summarizePlan(planNetwork(config)), [config]);
  const fmt = (n: number) => n.toLocaleString('en-US');
  return (
    <section className="card" data-testid="network-summary" aria-labelledby="net-title">
      <h2 id="net-title">
        ResNet-{depth} · {block}
      </h2>
      {s && (
        <dl className="facts">
          <dt>Depth form</dt>
          <dd>
            {depthForm(shape)}, n = {s.unitsPerStage}
          </dd>
          <dt>Parameters</dt>
          <dd data-testid="params">
            {fmt(model.trainableParams)} trainable{' '}
            <span className="muted">(+{fmt(model.params - model.trainableParams)} BN running averages)</span>
          </dd>
          <dt>Residual units</dt>
          <dd>
            {s.units} (3 stages × {s.unitsPerStage})
          </dd>
          <dt>Weight layers</dt>
          <dd>
            {s.weightLayers} (conv1, {s.units} units × {convsInUnit(shape)} convs, fc)
          </dd>
          <dt>Feature maps</dt>
          <dd>{block === 'basic' ? '16 / 32 / 64' : '64 / 128 / 256 (inner 16 / 32 / 64)'} at 32² / 16² / 8²</dd>
        </dl>
      )}
    </section>
  );
}
