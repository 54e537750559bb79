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

  it('moves microBatch to the largest divisor below it when the batch changes, and says so', () => {
    const c = { ...defaults(), microBatch: 64 };
    const r = editConfig(c, 'batch', '96');
    expect(r.ok && r.config.microBatch).toBe(48);
    expect(r.ok && r.adjusted).toEqual([
      {
        key: 'microBatch',
        from: 64,
        to: 48,
        reason: 'must divide the batch (96): 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48 or 96',
      },
    ]);
    expect(editConfig(defaults(), 'batch', '96')).toMatchObject({ ok: true, adjusted: [] }); // auto: nothing to move
    expect(editConfig(defaults(), 'microBatch', '3')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^must divide the batch \(128\)/),
    });
  });

  it('takes typed booleans from checkboxes', () => {
    const r = editConfig(defaults(), 'nesterov', true);
    expect(r.ok && r.config.nesterov).toBe(true);
  });
});
