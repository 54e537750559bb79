import { useMemo } from 'react';
import { convsInUnit, depthForm, shapeSummary } from '../experiment/network';
import { planNetwork, summarizePlan } from '../model/plan';
import { usePlayground } from '../store';

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
