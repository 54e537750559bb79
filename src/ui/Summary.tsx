import { useMemo } from 'react';
import { convsInUnit, depthForm, shapeSummary } from '../experiment/network';
import { backendLabel, formatBytes, memorySummary, type MemoryBackend } from '../model/memory';
import { planNetwork, summarizePlan } from '../model/plan';
import { usePlayground } from '../store';

/** The network's shape, recomputed as the form changes. */
export function NetworkSummary() {
  const config = usePlayground((s) => s.config);
  const { depth, block, convsPerUnit } = config;
  const shape = { depth, block, convsPerUnit };
  const s = shapeSummary(shape);
  const model = useMemo(() => summarizePlan(planNetwork(config)), [config]);
  const memory = useMemo(() => memorySummary(config), [config]);
  // The backend that runs (or was asked for; none yet while auto is choosing), and WASM and WebGPU, auto's two.
  const active = usePlayground((s) => (s.backend.status === 'ready' ? s.backend.report.active : s.config.backend));
  const shown = memory.filter((m) => m.backend === active || m.backend === 'wasm' || m.backend === 'webgpu');
  const here = memory.find((m) => m.backend === active);
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
          <dt>Memory per step</dt>
          <dd data-testid="memory">
            {shown.map((m) => (
              <div key={m.backend} data-testid={`memory-${m.backend}`}>
                {backendLabel(m.backend as MemoryBackend)}:{' '}
                {m.microBatch === null
                  ? `${formatBytes(m.peak)} at micro-batch ${config.microBatch === 'auto' ? 1 : config.microBatch}, more than the ${formatBytes(m.budget)} it allows`
                  : `${formatBytes(m.peak)} at micro-batch ${m.microBatch} of ${config.batch}`}{' '}
                <span className="muted">
                  ({m.microBatch === null ? '' : `allows ${formatBytes(m.budget)}; `}
                  {m.largestFitting === null
                    ? 'not even 1 image per pass fits'
                    : `up to ${m.largestFitting} per pass fit`}
                  )
                </span>
              </div>
            ))}
          </dd>
        </dl>
      )}
      {s && here && here.microBatch === null && (
        <p className="error" role="alert" data-testid="memory-refusal">
          Cannot train on {backendLabel(here.backend)}: {here.note}
        </p>
      )}
    </section>
  );
}
