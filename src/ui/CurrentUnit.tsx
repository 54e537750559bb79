import { useRef } from 'react';
import { DATASET_LABELS } from '../data/catalog';
import { UNITS } from '../experiment/units';
import { usePlayground } from '../store';
import { fmt } from './format';
import { UnitDiagram } from './UnitDiagram';
import { PaperNumbers, VariantPicker } from './VariantPicker';

/**
 * The unit being trained, as the paper draws it (diagram, formula, its numbers), and the experiment in one line.
 * "Change unit…" opens every unit of Figs. 2 and 4 as cards; choosing one closes them.
 */
export function CurrentUnit() {
  const config = usePlayground((s) => s.config);
  const unit = UNITS[config.unit];
  const dialog = useRef<HTMLDialogElement>(null);
  const close = () => dialog.current?.close();
  return (
    <>
      <section className="card current-unit" aria-labelledby="unit-title" data-testid="current-unit">
        <div className="current-unit-diagram">
          <UnitDiagram unit={config.unit} />
        </div>
        <div className="current-unit-text">
          <h2 id="unit-title">
            <span className="muted">
              Fig. {unit.figure}
              {unit.panel}
            </span>{' '}
            {unit.title}
          </h2>
          <code className="formula">{unit.formula}</code>
          <PaperNumbers unit={unit} />
          <p className="experiment-line" data-testid="experiment-line">
            ResNet-{config.depth} · {DATASET_LABELS[config.dataset]} · {fmt(config.iters)} iterations at batch{' '}
            {config.batch} · <a href="#settings">settings</a>
          </p>
          <button
            type="button"
            className="primary-outline"
            aria-haspopup="dialog"
            onClick={() => dialog.current?.showModal()}
          >
            Change unit…
          </button>
        </div>
      </section>
      {/* Always mounted, so the cards' state (which is pressed) is there to read even while closed. */}
      <dialog
        ref={dialog}
        className="picker-dialog"
        aria-labelledby="picker-title"
        onClick={(e) => e.target === dialog.current && close()}
      >
        <VariantPicker
          onPicked={close}
          close={
            <button type="button" onClick={close} aria-label="Close the unit picker">
              Close
            </button>
          }
        />
      </dialog>
    </>
  );
}
