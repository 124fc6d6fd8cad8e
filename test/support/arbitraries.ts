import fc from 'fast-check';

/**
 * Hostile input for the fuzz tests (test/e2e/hostile-fuzz.e2e-spec.ts):
 * strings with NUL and lone surrogates, extreme numbers, dates that do not
 * exist, deep nesting, prototype keys, odd query strings. Everything here is
 * built from fast-check arbitraries, so a run is reproducible from its seed.
 */

/** One code point of any kind, or a lone UTF-16 surrogate (which JSON can carry as `\ud800`). */
const hostileUnit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '\u0000',
      '\u0001',
      '\u007f',
      '\u00ff',
      '\ufeff',
      '\ufffd',
      '\u202e',
      '\n',
      '\r',
      '\t',
      '%',
      '&',
      '=',
      '+',
      ',',
      '"',
      "'",
      '\\',
    ),
  },
);

export const SPECIAL_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  'sur\ud800',
  'sur\udc00x',
  '\udbff\udbff',
  '\ud83d\ude00',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '1e308',
  '-1e308',
  '1e-400',
  '0x10',
  '1,5',
  '1_000',
  ' 1',
  '1 ',
  '99999999999999999999999999999',
  '9007199254740993',
  'null',
  'true',
  '[]',
  '{}',
  "'; DROP TABLE usage_events; --",
  '%00',
  '%zz',
  '../../etc/passwd',
  '${jndi:ldap://127.0.0.1/x}',
  'tag:',
  'tag:x',
  'none',
  'provider',
  'openai',
  'gpt-image-2',
  'UTC',
  'Europe/Berlin',
  'Mars/Olympus',
  '2026-02-30',
  '0000-01-01T00:00:00Z',
  '2026-11-20T10:00:00+16:00',
];

export const hostileString = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
    { weight: 4, arbitrary: fc.string({ unit: hostileUnit, maxLength }) },
    { weight: 2, arbitrary: fc.string({ maxLength }) },
    // Huge strings, well within the 1 MB body limit.
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('a', 'é', '\u0000', '\ud800', '😀'), fc.integer({ min: 201, max: 60_000 }))
        .map(([c, n]) => c.repeat(n)),
    },
  );

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    1.5,
    0.1,
    1e308,
    -1e308,
    5e-324,
    2 ** 31,
    2 ** 53,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    1_000_000_001,
    86_400_001,
    10_001,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** Date-time texts, most of them impossible: month 13, day 32, hour 24, year 0000, offsets beyond ±15:59. */
export const hostileDateText: fc.Arbitrary<string> = fc.oneof(
  fc
    .record({
      year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1, 1999, 2000, 2024, 2026, 9999)),
      month: fc.integer({ min: 0, max: 13 }),
      day: fc.integer({ min: 0, max: 32 }),
      hour: fc.integer({ min: 0, max: 25 }),
      minute: fc.integer({ min: 0, max: 61 }),
      second: fc.integer({ min: 0, max: 61 }),
      fraction: fc.constantFrom('', '.5', '.123456789', '.1234567890'),
      offset: fc.oneof(
        fc.constantFrom(
          'Z',
          'z',
          '',
          '+00:00',
          '-00:00',
          '+15:59',
          '-15:59',
          '+16:00',
          '-16:00',
          '+23:59',
          '+24:00',
          '+0100',
          '+01',
        ),
        fc
          .tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 29 }), fc.integer({ min: 0, max: 70 }))
          .map(([s, h, m]) => `${s}${pad(h)}:${pad(m)}`),
      ),
      dateOnly: fc.boolean(),
      sep: fc.constantFrom('T', 't', ' '),
    })
    .map((d) => {
      const date = `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
      return d.dateOnly
        ? date
        : `${date}${d.sep}${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)}${d.fraction}${d.offset}`;
    }),
  fc
    .integer({ min: -3_000_000, max: 3_000_000 })
    .map((minutes) => new Date(Date.now() + minutes * 60_000).toISOString()),
  fc.constantFrom(
    '1',
    '0',
    '-1',
    'now',
    'yesterday',
    '2026',
    '2026-11',
    '2026-W48',
    '1795766400',
    '+002026-11-01T00:00:00Z',
    '-000001-01-01T00:00:00Z',
    '2024-02-29',
    '2026-02-29',
    '0001-01-01T00:00:00+15:59',
    '9999-12-31T23:59:59-15:59',
  ),
  hostileString(30),
);

/** Any JSON value, with a bias to the hostile leaves above, and now and then deep nesting. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: hostileString(30) },
    { weight: 3, arbitrary: hostileNumber },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(hostileString(12), tie('value'), { maxKeys: 4 }) },
    { weight: 1, arbitrary: deepNesting(400) },
  ),
})).value;

/** `[[[...]]]` or `{"a":{"a":...}}` as a value, up to `maxDepth` levels (kept small: the test process stringifies it).
 * */
export function deepNesting(maxDepth = 400): fc.Arbitrary<unknown> {
  return fc.tuple(fc.integer({ min: 10, max: maxDepth }), fc.boolean()).map(([depth, arrays]) => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = arrays ? [value] : { a: value };
    return value;
  });
}

/**
 * JSON text of `value` with `"__proto__"` or `"constructor"` keys written into
 * its outermost object (a JS object literal cannot carry an own `__proto__`).
 */
export function withPrototypeKeys(json: string, key: '__proto__' | 'constructor', inner: unknown): string {
  if (!json.startsWith('{')) return json;
  const entry = `${JSON.stringify(key)}:${JSON.stringify(inner ?? null)}`;
  return json === '{}' ? `{${entry}}` : `{${entry},${json.slice(1)}`;
}

/**
 * A query string from pairs: values are either percent-encoded text
 * (well-formed, so encodeURIComponent takes it) or raw hostile fragments
 * (`%zz`, `%`, a lone surrogate's UTF-8 bytes, an empty key, `&&`).
 */
export function hostileQuery(
  keys: readonly string[],
  maxPairs = 6,
  options: { emptyTagKey?: boolean } = {},
): fc.Arbitrary<string> {
  const encode = (text: string) =>
    encodeURIComponent(
      text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
    );
  const key = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...keys) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '',
        'tag:',
        'tag:x',
        'tag:%00',
        '__proto__',
        'constructor',
        '%zz',
        'a[b]',
        'a.b',
        '%ED%A0%80',
      ),
    },
    { weight: 1, arbitrary: hostileString(12).map(encode) },
  );
  const value = fc.oneof(
    {
      weight: 3,
      arbitrary: hostileString(40)
        .filter((s) => s.length < 4000)
        .map(encode),
    },
    { weight: 3, arbitrary: hostileDateText.map(encode) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '%zz',
        '%',
        '%2',
        '%00',
        '%ED%A0%80',
        '%C0%80',
        '%FF',
        '+',
        '%2B16:00',
        '&',
        '==',
        'a=b=c',
        '',
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 6000 }).map((n) => 'x'.repeat(n)) },
  );
  const pair = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(key, value).map(([k, v]) => `${k}=${v}`) },
    { weight: 1, arbitrary: key },
    { weight: 1, arbitrary: fc.constantFrom('', '&', '=', '==x') },
  );
  const allowed = options.emptyTagKey === false ? pair.filter((p) => !/^tag(:|%3A)(=|$)/i.test(p)) : pair;
  return fc.array(allowed, { maxLength: maxPairs }).map((pairs) => {
    // Repeated keys come from the pairs themselves; keep the URL under Node's 16 KB header limit.
    let query = pairs.join('&');
    if (query.length > 8000) query = query.slice(0, 8000);
    return query;
  });
}

/** Hostile URL texts for webhooks: refused ones and ones that point at 127.0.0.1, never at another host. */
export const hostileWebhookUrl: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    'http://127.0.0.1:9/hook',
    'https://127.0.0.1/hook',
    'http://127.1:9/x',
    'http://2130706433:9/x',
    'http://0x7f.0.0.1:9/x',
    'http://0177.0.0.1:9/x',
    'http://127.0.0.1:9/%00',
    'http://127.0.0.1:9/\u0000',
    'http://127.0.0.1:9/sur\ud800',
    'http://user:pass@127.0.0.1:9/x',
    'http://:pass@127.0.0.1:9/x',
    'ftp://127.0.0.1/x',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/plain,hi',
    'gopher://127.0.0.1:70/x',
    'http://',
    'http:///x',
    'http://[::1',
    'http://127.0.0.1:99999/x',
    'http://127.0.0.1:-1/x',
    '//127.0.0.1/x',
    '127.0.0.1',
    '',
    ' ',
    'http://127.0.0.1:9/' + 'a'.repeat(2100),
  ),
  fc.string({ unit: hostileUnit, maxLength: 40 }).map((path) => `http://127.0.0.1:9/${path}`),
  hostileString(20).filter((s) => !/^[a-z][a-z0-9+.-]*:/i.test(s)),
  hostileNumber,
  fc.constantFrom(null, true, [], {}),
);

/** Replaces 1 to `maxFields` fields of `base` (dot paths) with hostile values from `values[path]`, or leaves them out.
 * */
export function mutate(
  base: Record<string, unknown>,
  paths: readonly string[],
  values: Record<string, fc.Arbitrary<unknown>>,
  maxFields = 3,
): fc.Arbitrary<Record<string, unknown>> {
  const change = fc
    .constantFrom(...paths)
    .chain((path) =>
      fc
        .oneof({ weight: 6, arbitrary: values[path] ?? hostileJson }, { weight: 1, arbitrary: fc.constant(undefined) })
        .map((value) => [path, value] as const),
    );
  return fc.array(change, { minLength: 1, maxLength: maxFields }).map((changes) => {
    const copy = structuredClone(base);
    for (const [path, value] of changes) {
      const parts = path.split('.');
      let target: any = copy;
      for (const part of parts.slice(0, -1)) {
        if (target[part] === null || typeof target[part] !== 'object') target[part] = {};
        target = target[part];
      }
      const last = parts[parts.length - 1];
      if (value === undefined) delete target[last];
      // An own `__proto__` key (as JSON.parse makes one), not the prototype.
      else Object.defineProperty(target, last, { value, enumerable: true, writable: true, configurable: true });
    }
    return copy;
  });
}

/** JSON text nested up to `maxDepth` levels (`[[[1]]]`, `{"a":{"a":1}}`), written directly: no stack is needed to build
 * it. */
export function deepNestingText(maxDepth = 100_000): fc.Arbitrary<string> {
  return fc
    .tuple(fc.integer({ min: 10, max: maxDepth }), fc.boolean())
    .map(([depth, arrays]) =>
      arrays ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    );
}
