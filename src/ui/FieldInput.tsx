import { useEffect, useId, useState } from 'react';
import { anyField, describeApplicability, type ConfigKey } from '../experiment/schema';
import { UNIT_IDS, UNITS } from '../experiment/units';
import { usePlayground } from '../store';

function UnitOptions() {
  return (
    <>
      {(['2', '4'] as const).map((fig) => (
        <optgroup
          key={fig}
          label={fig === '2' ? 'Fig. 2 — what sits on the shortcut' : 'Fig. 4 — where BN and ReLU sit'}
        >
          {UNIT_IDS.filter((id) => UNITS[id].figure === fig).map((id) => (
            <option key={id} value={id}>
              {UNITS[id].panel} {UNITS[id].title} ({id})
            </option>
          ))}
        </optgroup>
      ))}
    </>
  );
}

/**
 * One key of the experiment, drawn from its schema row: label, input, bounds and help. Typed text that is
 * refused stays in the box with the reason beside it; the config keeps its last valid value.
 */
export function FieldInput({ name }: { name: ConfigKey }) {
  const f = anyField(name);
  const value = usePlayground((s) => s.config[name]);
  const edit = usePlayground((s) => s.edit);
  const id = useId();
  const text = typeof value === 'boolean' ? '' : f.type.format(value);
  const [draft, setDraft] = useState(text);
  const [error, setError] = useState<string | null>(null);
  // The config can change from elsewhere (a repaired depth, a preset): show it unless the user is mid-error.
  // Text that already means the current value ("1e-4" for 0.0001) is left as typed.
  useEffect(() => {
    setDraft((d) => {
      const p = f.type.parse(d);
      return p.ok && f.type.equals(p.value, value) ? d : text;
    });
    setError(null);
  }, [text]); // eslint-disable-line react-hooks/exhaustive-deps

  const hint = f.type.input;
  const commit = (raw: string | boolean) => setError(edit(name, raw));
  const describedBy = `${id}-help${error ? ` ${id}-error` : ''}`;
  let input;
  if (hint.kind === 'bool') {
    input = (
      <input
        id={id}
        type="checkbox"
        checked={value as boolean}
        aria-describedby={describedBy}
        onChange={(e) => commit(e.target.checked)}
      />
    );
  } else if (hint.kind === 'enum') {
    input = (
      <select id={id} value={value as string} aria-describedby={describedBy} onChange={(e) => commit(e.target.value)}>
        {name === 'unit' ? <UnitOptions /> : hint.options.map((o) => <option key={o}>{o}</option>)}
      </select>
    );
  } else {
    input = (
      <input
        id={id}
        type="text"
        inputMode={hint.kind === 'number' && !hint.auto ? (hint.integer ? 'numeric' : 'decimal') : 'text'}
        value={draft}
        spellCheck={false}
        aria-invalid={error !== null}
        aria-describedby={describedBy}
        onChange={(e) => {
          setDraft(e.target.value);
          commit(e.target.value);
        }}
      />
    );
  }
  const where = describeApplicability(name);
  return (
    <div className={`field field-${hint.kind}${error ? ' field-error' : ''}`} data-testid={`field-${name}`}>
      <label htmlFor={id}>{f.label}</label>
      {input}
      <small id={`${id}-help`} className="field-help">
        {f.help}{' '}
        {(hint.kind === 'number' || hint.kind === 'list' || where) && (
          <span className="field-bounds">
            [{hint.kind === 'number' || hint.kind === 'list' ? f.type.bounds : ''}
            {where ? `${hint.kind === 'number' || hint.kind === 'list' ? '; ' : ''}${where}` : ''}]
          </span>
        )}
      </small>
      {error && (
        <small id={`${id}-error`} className="field-message" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}
