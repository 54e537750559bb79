import { UNIT_IDS, UNITS, type UnitId, type UnitInfo } from '../experiment/units';
import { usePlayground } from '../store';
import { UnitDiagram } from './UnitDiagram';

const FIGURES = [
  { figure: '2', title: 'Fig. 2 · what sits on the shortcut', note: 'Table 1: all with the original activation.' },
  { figure: '4', title: 'Fig. 4 · where BN and ReLU sit', note: 'Table 2: all with an identity shortcut.' },
] as const;

export function PaperNumbers({ unit }: { unit: UnitInfo }) {
  return (
    <ul className="paper-numbers" aria-label="Paper, CIFAR-10 test error">
      {unit.paper.map((r, i) => (
        <li key={i}>
          ResNet-{r.depth}
          {r.setting && `, ${r.setting}`}: <strong>{r.error === null ? 'fail' : `${r.error.toFixed(2)}%`}</strong>
        </li>
      ))}
    </ul>
  );
}

function UnitCard({ id, selected, onPick }: { id: UnitId; selected: boolean; onPick: (id: UnitId) => void }) {
  const unit = UNITS[id];
  return (
    <button
      type="button"
      className="unit-card"
      aria-pressed={selected}
      data-testid={`unit-card-${id}`}
      onClick={() => onPick(id)}
    >
      <span className="unit-card-title">
        <span className="panel">{unit.panel}</span> {unit.title}
      </span>
      <UnitDiagram unit={id} />
      <code className="formula">{unit.formula}</code>
      <PaperNumbers unit={unit} />
    </button>
  );
}

/**
 * Every unit of Figs. 2 and 4 as a card: its diagram (drawn from the unit's data), its formula and what the
 * paper measured with it. Picking a card sets the unit of the experiment, and so the link; then `onPicked`.
 */
export function VariantPicker({ onPicked, close }: { onPicked?: () => void; close?: React.ReactNode }) {
  const current = usePlayground((s) => s.config.unit);
  const edit = usePlayground((s) => s.edit);
  return (
    <section className="picker" aria-labelledby="picker-title" data-testid="variant-picker">
      <div className="card-head">
        <h2 id="picker-title">Choose a residual unit</h2>
        {close}
      </div>
      <p className="muted">
        Paper numbers: CIFAR-10 test error, median of 5 runs; “fail” means above 20%. Pick a unit to train it.
      </p>
      {FIGURES.map((f) => (
        <div key={f.figure} className="figure-group" role="group" aria-label={f.title}>
          <h3>
            {f.title} <small className="muted">{f.note}</small>
          </h3>
          <div className="unit-cards">
            {UNIT_IDS.filter((id) => UNITS[id].figure === f.figure).map((id) => (
              <UnitCard
                key={id}
                id={id}
                selected={id === current}
                onPick={(u) => {
                  edit('unit', u);
                  onPicked?.();
                }}
              />
            ))}
          </div>
        </div>
      ))}
    </section>
  );
}
