import { applies, CONFIG_KEYS, GROUPS, SCHEMA, type Group } from '../experiment/schema';
import { usePlayground } from '../store';
import { FieldInput } from './FieldInput';

/** Every key of the schema, grouped as the table groups them; a unit's parameters only when they apply. */
export function ConfigForm() {
  const config = usePlayground((s) => s.config);
  return (
    <form className="config" aria-label="Experiment" onSubmit={(e) => e.preventDefault()}>
      {(Object.keys(GROUPS) as Group[]).map((group) => (
        <fieldset key={group} className={`group group-${group}`}>
          <legend>{GROUPS[group]}</legend>
          {CONFIG_KEYS.filter((k) => SCHEMA[k].group === group && applies(k, config)).map((k) => (
            <FieldInput key={k} name={k} />
          ))}
        </fieldset>
      ))}
    </form>
  );
}
