/**
 * One edit of one key, as the config form makes it: the edited value must be valid on its own; keys whose
 * rules the edit breaks (depth after a change of block) are moved to their closest valid value, and the
 * caller is told which, so nothing changes silently.
 */
import { anyField, CONFIG_KEYS, SCHEMA, type Config, type ConfigKey } from './schema';

export interface Adjustment {
  key: ConfigKey;
  from: unknown;
  to: unknown;
  reason: string;
}

export type EditResult = { ok: true; config: Config; adjusted: Adjustment[] } | { ok: false; reason: string };

/** Applies `raw` (text as typed, or a typed value) to `key`. */
export function editConfig(config: Config, key: ConfigKey, raw: string | boolean): EditResult {
  const f = anyField(key);
  let value: unknown = raw;
  if (typeof raw === 'string') {
    const parsed = f.type.parse(raw);
    if (!parsed.ok) return parsed;
    value = parsed.value;
  } else {
    const checked = f.type.zod.safeParse(raw);
    if (!checked.success) return { ok: false, reason: checked.error.issues[0]?.message ?? 'invalid' };
  }
  const next = { ...config, [key]: value } as Config;
  const own = f.rule?.(value, next);
  if (own) return { ok: false, reason: own };

  const adjusted: Adjustment[] = [];
  const c = next as unknown as Record<ConfigKey, unknown>;
  for (const other of CONFIG_KEYS) {
    if (other === key) continue;
    const o = anyField(other);
    const reason = o.rule?.(c[other], next);
    if (!reason) continue;
    const to = o.repair ? o.repair(c[other], next) : SCHEMA[other].default;
    adjusted.push({ key: other, from: c[other], to, reason });
    c[other] = to;
  }
  return { ok: true, config: next, adjusted };
}
