import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonical, parseQuery, queryOf, toQuery } from './codec';
import { CONFIG_KEYS, configSchema, defaults, SCHEMA } from './schema';
import { arbitraryConfig } from './testing';

describe('reading a link', () => {
  it('reads the values a link gives', () => {
    const { config, problems } = parseQuery('unit=full-preact&depth=110&batch=64');
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ unit: 'full-preact', depth: 110, batch: 64 });
  });

  it('refuses each bad key with a reason and keeps the default for it', () => {
    const { config, problems } = parseQuery('depth=abc&unit=nope&batch=-1&zzz=1');
    expect(problems.map((p) => p.key).sort()).toEqual(['batch', 'depth', 'unit', 'zzz']);
    expect(problems.find((p) => p.key === 'batch')).toMatchObject({ value: '-1', reason: 'must be at least 1' });
    expect(problems.find((p) => p.key === 'zzz')?.reason).toBe('unknown key');
    expect(config).toEqual(defaults());
  });

  it('accepts a full link, a "?query" and a bare query alike', () => {
    for (const link of ['http://localhost:4173/?depth=32#x', '?depth=32', 'depth=32', '  /play/?depth=32 ']) {
      expect(parseQuery(link).config.depth, link).toBe(32);
    }
    expect(queryOf('https://example.org/')).toBe('');
    expect(parseQuery('https://example.org/')).toMatchObject({
      config: defaults(),
      problems: [],
      actions: { autostart: false },
    });
  });

  it('refuses a depth that is not of the block form', () => {
    const r = parseQuery('depth=21');
    expect(r.problems).toEqual([{ key: 'depth', value: '21', reason: expect.stringMatching(/6n\+2/) }]);
    expect(r.config.depth).toBe(20);
    expect(parseQuery('block=bottleneck&depth=164').problems).toEqual([]);
    expect(parseQuery('block=bottleneck&depth=110&convsPerUnit=1').problems.map((p) => p.key)).toEqual([
      'convsPerUnit',
    ]);
    expect(parseQuery('convsPerUnit=1&depth=110').problems).toEqual([]);
  });

  it('refuses a parameter that does not apply to the chosen unit', () => {
    const r = parseQuery('unit=original&gateBias=-3');
    expect(r.problems).toEqual([
      { key: 'gateBias', value: '-3', reason: expect.stringMatching(/does not apply to unit original/) },
    ]);
    expect(r.config.gateBias).toBe(-6);
    expect(parseQuery('unit=exclusive-gate&gateBias=-3').config.gateBias).toBe(-3);
    expect(parseQuery('unit=scale&shortcutScale=0&residualScale=0.5').problems).toEqual([]);
  });

  it('reads autostart as an action, not as part of the experiment', () => {
    const on = parseQuery('depth=32&autostart=1');
    expect(on.actions).toMatchObject({ autostart: true, lab: null });
    expect(on.problems).toEqual([]);
    expect(toQuery(on.config)).toBe('depth=32');
    expect(toQuery(on.config, on.actions)).toBe('depth=32&autostart=1');
    expect(parseQuery('autostart=0').actions.autostart).toBe(false);
    const bad = parseQuery('autostart=yes');
    expect(bad.actions.autostart).toBe(false);
    expect(bad.problems).toEqual([{ key: 'autostart', value: 'yes', reason: 'expected 0 or 1' }]);
  });

  it('reads the WASM thread count as a link action, kept in the written link, not in the experiment', () => {
    const r = parseQuery('depth=56&threads=2');
    expect(r.problems).toEqual([]);
    expect(r.actions.threads).toBe(2);
    expect(r.config).toEqual(parseQuery('depth=56').config);
    expect(toQuery(r.config, r.actions)).toBe('depth=56&threads=2');
    for (const bad of ['0', '9', '1.5', 'all'])
      expect(parseQuery(`threads=${bad}`).problems).toEqual([
        { key: 'threads', value: bad, reason: 'must be a whole number from 1 to 8' },
      ]);
  });

  it('reads a paper-lab link: experiment, quick version and seeds, each checked', () => {
    const r = parseQuery('lab=table2&quick=1&seeds=3&autostart=1');
    expect(r.problems).toEqual([]);
    expect(r.actions).toEqual({ autostart: true, lab: 'table2', quick: true, seeds: 3, threads: 0 });
    expect(toQuery(r.config, r.actions)).toBe('lab=table2&quick=1&seeds=3&autostart=1');
    const bad = parseQuery('lab=table9&seeds=0&quick=yes');
    expect(bad.actions).toEqual({ autostart: false, lab: null, quick: false, seeds: 1, threads: 0 });
    expect(bad.problems.map((p) => p.key)).toEqual(['lab', 'seeds', 'quick']);
    expect(bad.problems[0]!.reason).toMatch(/table1, table2/);
  });

  it('explains repeated, empty and misspelt keys', () => {
    const r = parseQuery('depth=32&depth=44&lr=&Depht=3');
    expect(r.config.depth).toBe(32);
    expect(r.problems).toEqual([
      { key: 'depth', value: '44', reason: expect.stringMatching(/more than once/) },
      { key: 'lr', value: '', reason: 'empty value' },
      { key: 'Depht', value: '3', reason: 'unknown key (did you mean "depth"?)' },
    ]);
  });

  it('reads lists and switches in their usual spellings', () => {
    expect(parseQuery('milestones=100,200').config.milestones).toEqual([100, 200]);
    expect(parseQuery('milestones=none').config.milestones).toEqual([]);
    expect(parseQuery('milestones=200,100').problems[0]?.reason).toMatch(/ascending/);
    expect(parseQuery('augment=off&nesterov=true').config).toMatchObject({ augment: false, nesterov: true });
    expect(parseQuery('lr=1e-3').config.lr).toBe(0.001);
    expect(parseQuery('lr=0').problems[0]?.reason).toMatch(/greater than 0/);
  });

  it('cuts very long values in its report', () => {
    const r = parseQuery(`unit=${'x'.repeat(5000)}`);
    expect(r.problems[0]!.value.length).toBeLessThan(130);
  });
});

describe('writing a link', () => {
  it('writes nothing for the defaults', () => {
    expect(toQuery(defaults())).toBe('');
  });

  it('writes only keys that differ, in the table order, whatever order they were set in', () => {
    const c = { ...defaults(), seed: 7, batch: 64, depth: 110, unit: 'original' as const };
    expect(toQuery(c)).toBe('unit=original&depth=110&batch=64&seed=7');
    expect(toQuery({ ...defaults(), milestones: [100, 200] })).toBe('milestones=100,200');
    expect(toQuery({ ...defaults(), milestones: [] })).toBe('milestones=none');
  });

  it('leaves out keys that do not apply', () => {
    expect(toQuery({ ...defaults(), unit: 'original', gateBias: -3 })).toBe('unit=original');
  });

  it('round-trips every valid experiment, and its link is stable', () => {
    fc.assert(
      fc.property(arbitraryConfig, (c) => {
        const q = toQuery(c);
        const back = parseQuery(q);
        expect(back.problems).toEqual([]);
        expect(back.config).toEqual(c);
        expect(toQuery(back.config)).toBe(q);
      }),
      { numRuns: 1000 },
    );
  });

  it('gives canonical configs only (a config any link reads passes the zod schema)', () => {
    fc.assert(
      fc.property(arbitraryConfig, (c) => {
        expect(configSchema.safeParse(c).success).toBe(true);
        expect(canonical(c)).toEqual(c);
      }),
      { numRuns: 200 },
    );
  });
});

describe('reading is total', () => {
  const keys = CONFIG_KEYS.map((k) => SCHEMA[k].url);
  const junk = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.constantFrom(
      '',
      'NaN',
      'Infinity',
      '-0',
      '1e400',
      '0x10',
      '%',
      '%zz',
      '%E0%A4%A',
      '1,,2',
      ' ',
      '+',
      '&',
      '=',
      '💥',
    ),
  );

  it('never throws on 1,000 arbitrary strings and always yields a valid config', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const r = parseQuery(s);
        expect(configSchema.safeParse(r.config).success).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('reports a problem naming the key for 1,000 malformed links', () => {
    const badPair = fc.oneof(
      // a known key with a value its type refuses
      fc.record({
        key: fc.constantFrom('depth', 'batch', 'seed', 'iters', 'evalEvery', 'trainSubset'),
        value: fc.constantFrom('abc', '-1', '1.5', '1e9', '', 'NaN', '%zz'),
      }),
      fc.record({
        key: fc.constantFrom('unit', 'block', 'dataset', 'backend'),
        value: junk.filter((v) => !/^[a-z0-9-]+$/.test(v)),
      }),
      fc.record({
        key: fc.constantFrom('lr', 'momentum', 'wd', 'warmupLr'),
        value: fc.constantFrom('-1', 'x', '1e999', 'NaN', ''),
      }),
      fc.record({ key: fc.constantFrom('augment', 'nesterov'), value: fc.constantFrom('maybe', '2', '', 'tru') }),
      fc.record({ key: fc.constant('milestones'), value: fc.constantFrom('3,2', 'a,b', '1,,2', '0', '') }),
      // a key that does not exist
      fc.record({
        key: fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !keys.includes(k) && !/[&=#%+]/.test(k)),
        value: junk,
      }),
    );
    const goodPair = fc.record({
      key: fc.constantFrom('depth', 'batch', 'seed'),
      value: fc.constantFrom('32', '64', '7'),
    });
    fc.assert(
      fc.property(fc.array(fc.oneof(goodPair, badPair), { maxLength: 6 }), badPair, fc.nat(), (pairs, bad, at) => {
        const all = [...pairs];
        all.splice(at % (all.length + 1), 0, bad);
        const query = all.map((p) => `${encodeURIComponent(p.key)}=${encodeURIComponent(p.value)}`).join('&');
        const r = parseQuery(query);
        expect(r.problems.map((p) => p.key)).toContain(bad.key);
        expect(configSchema.safeParse(r.config).success).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
