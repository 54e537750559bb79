import { describe, expect, it } from 'vitest';
import { editConfig } from './edit';
import { defaults } from './schema';

describe('editing one key', () => {
  it('applies a valid value typed as text', () => {
    const r = editConfig(defaults(), 'depth', '56');
    expect(r).toMatchObject({ ok: true, adjusted: [] });
    expect(r.ok && r.config.depth).toBe(56);
  });

  it('refuses text its type refuses, with the reason, and leaves the config alone', () => {
    expect(editConfig(defaults(), 'batch', '0')).toEqual({ ok: false, reason: 'must be at least 1' });
    expect(editConfig(defaults(), 'depth', '21')).toMatchObject({ ok: false, reason: expect.stringMatching(/6n\+2/) });
    expect(editConfig(defaults(), 'augment', 'yes please' as unknown as boolean)).toMatchObject({ ok: false });
  });

  it('moves depth to the closest valid one when the block changes, and says so', () => {
    const c = { ...defaults(), depth: 32 };
    const r = editConfig(c, 'block', 'bottleneck');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.depth).toBe(29);
    expect(r.adjusted).toEqual([{ key: 'depth', from: 32, to: 29, reason: expect.stringMatching(/9n\+2/) }]);
  });

  it('takes typed booleans from checkboxes', () => {
    const r = editConfig(defaults(), 'nesterov', true);
    expect(r.ok && r.config.nesterov).toBe(true);
  });
});
