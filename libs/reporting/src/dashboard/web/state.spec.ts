import fc from 'fast-check';
import { addDays, daysBetween, PRESETS, Preset, presetRange, readState, State, stateUrl, todayIn } from './state';

describe('dashboard period presets', () => {
  const cases: Array<[string, Exclude<Preset, 'custom'>, string, string]> = [
    ['2026-11-29', 'today', '2026-11-29', '2026-11-29'],
    ['2026-11-29', '7d', '2026-11-23', '2026-11-29'],
    ['2026-11-29', '30d', '2026-10-31', '2026-11-29'],
    ['2026-11-29', 'mtd', '2026-11-01', '2026-11-29'],
    ['2026-11-29', 'last_month', '2026-10-01', '2026-10-31'],
    ['2026-11-29', 'qtd', '2026-10-01', '2026-11-29'],
    // Edges: the first day of a month, of a year, a leap February, a quarter's first day.
    ['2026-11-01', 'mtd', '2026-11-01', '2026-11-01'],
    ['2027-01-01', 'last_month', '2026-12-01', '2026-12-31'],
    ['2027-01-15', 'qtd', '2027-01-01', '2027-01-15'],
    ['2028-03-10', 'last_month', '2028-02-01', '2028-02-29'],
    ['2026-03-01', 'last_month', '2026-02-01', '2026-02-28'],
    ['2026-03-01', '7d', '2026-02-23', '2026-03-01'],
    ['2026-07-01', 'qtd', '2026-07-01', '2026-07-01'],
    ['2026-12-31', 'qtd', '2026-10-01', '2026-12-31'],
  ];
  it.each(cases)('on %s, %s is %s to %s', (today, preset, from, to) => {
    expect(presetRange(preset, today)).toEqual({ from, to });
  });

  it('gives every preset a range that ends on or before today and starts on or before its end', () => {
    const day = fc.integer({ min: 0, max: 365 * 30 }).map((n) => addDays('2000-01-01', n));
    fc.assert(
      fc.property(
        day,
        fc.constantFrom(...(Object.keys(PRESETS).filter((p) => p !== 'custom') as Array<Exclude<Preset, 'custom'>>)),
        (today, preset) => {
          const { from, to } = presetRange(preset, today);
          return from <= to && to <= today && daysBetween(from, to) >= 1 && daysBetween(from, to) <= 92;
        },
      ),
    );
  });

  it('knows today in the chosen zone (the same instant is two dates apart across the date line)', () => {
    const instant = new Date('2026-11-29T23:30:00Z');
    expect(todayIn('UTC', instant)).toBe('2026-11-29');
    expect(todayIn('Pacific/Kiritimati', instant)).toBe('2026-11-30');
    expect(todayIn('Pacific/Pago_Pago', instant)).toBe('2026-11-29');
    expect(todayIn('Asia/Kolkata', new Date('2026-11-29T18:29:00Z'))).toBe('2026-11-29');
    expect(todayIn('Asia/Kolkata', new Date('2026-11-29T18:30:00Z'))).toBe('2026-11-30');
  });
});

describe('dashboard state in the URL', () => {
  it('opens the month to date by default', () => {
    const s = readState('?tz=UTC');
    expect([s.view, s.preset, s.granularity, s.groupBy]).toEqual(['overview', 'mtd', 'day', 'provider']);
  });

  it('reads an older link with from/to and no preset as a custom range', () => {
    const s = readState('?from=2026-11-19&to=2026-11-22&tz=UTC');
    expect([s.preset, s.from, s.to]).toEqual(['custom', '2026-11-19', '2026-11-22']);
  });

  it('falls back to defaults for values it does not know, instead of sending them on', () => {
    const s = readState('?view=<script>&preset=forever&granularity=minute&tz=UTC&none=team,__proto__&edges=minute');
    expect([s.view, s.preset, s.granularity, s.at]).toEqual(['overview', 'mtd', 'day', { none: ['team'] }]);
  });

  it('writes a state that reads back the same, whatever its filters hold', () => {
    const text = fc.string({ minLength: 1, maxLength: 20 }).filter((v) => !v.includes(','));
    const state = fc.record({
      view: fc.constantFrom('overview', 'events', 'month', 'admin'),
      preset: fc.constantFrom('custom', 'mtd', 'last_month'),
      team: fc.array(text, { maxLength: 3 }),
      tag: fc.option(fc.record({ key: fc.stringMatching(/^[a-z_]{1,10}$/), value: fc.string({ maxLength: 20 }) }), {
        nil: null,
      }),
      groupBy: fc.constantFrom('provider', 'user', 'team'),
      granularity: fc.constantFrom('hour', 'day', 'week', 'month'),
      sort: fc.constantFrom('-time', 'time', '-cost', 'cost'),
      imageSize: fc.option(fc.constantFrom('', '1024x1024'), { nil: null }),
    });
    fc.assert(
      fc.property(state, (x) => {
        const base = readState('?tz=Europe/Berlin&preset=custom&from=2026-11-01&to=2026-11-05');
        const s: State = {
          ...base,
          view: x.view as State['view'],
          preset: x.preset as Preset,
          groupBy: x.groupBy,
          granularity: x.granularity as State['granularity'],
          filters: { dims: x.team.length ? { team: [...new Set(x.team)] } : {}, tag: x.tag },
          sort: x.view === 'events' ? x.sort : '-time',
          imageSize: x.view === 'events' ? x.imageSize : null,
        };
        const back = readState(stateUrl(s));
        expect(back.view).toBe(s.view);
        expect(back.filters).toEqual(s.filters);
        // Hourly bars are kept for ranges of up to a week; a longer one reads back by day.
        const granularity = s.granularity === 'hour' && daysBetween(back.from, back.to) > 7 ? 'day' : s.granularity;
        expect([back.groupBy, back.granularity, back.sort, back.imageSize]).toEqual([
          s.groupBy,
          granularity,
          s.sort,
          s.imageSize,
        ]);
        if (s.preset === 'custom') expect([back.from, back.to]).toEqual([s.from, s.to]);
      }),
    );
  });
});
