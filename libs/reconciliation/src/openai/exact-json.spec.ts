import fc from 'fast-check';
import { Decimal } from '@tokentally/core';
import { ExactJson, ExactJsonError, ExactNumber, parseExactJson } from './exact-json';
import { costResult, decimalOf, imagesUsageResult, parseAdminPage } from './admin-pages';

/** The literal of a number in parsed JSON at `path`. */
const literalAt = (json: unknown, ...path: Array<string | number>): string =>
  (path.reduce((node: any, key) => node[key], json) as ExactNumber).literal;

describe('parseExactJson', () => {
  it('keeps every number as written, digit for digit', () => {
    const json = parseExactJson(
      '{"a": 0.1234567890123, "b": 1e-7, "c": -0.05, "d": 12.500, "e": 123456789012345678901234567890.123456789, "f": 1E+2, "g": -0}',
    );
    expect(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((k) => literalAt(json, k))).toEqual([
      '0.1234567890123',
      '1e-7',
      '-0.05',
      '12.500',
      '123456789012345678901234567890.123456789',
      '1E+2',
      '-0',
    ]);
    // What JSON.parse would have made of them: no longer the bill's figures.
    expect(String(JSON.parse('123456789012345678901234567890.123456789'))).not.toContain(
      '123456789012345678901234567890',
    );
  });

  it('parses strings, escapes, literals, arrays and nested objects as JSON.parse does', () => {
    const text = '{"s":"a\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00","t":true,"f":false,"n":null,"arr":[[],{},[1,"x"]]}';
    const exact = parseExactJson(text) as Record<string, any>;
    const plain = JSON.parse(text);
    expect(exact.s).toBe(plain.s);
    expect([exact.t, exact.f, exact.n]).toEqual([true, false, null]);
    expect(exact.arr[2][0]).toBeInstanceOf(ExactNumber);
    expect(JSON.parse(JSON.stringify(exact))).toEqual(JSON.parse(text.replace('[1,', '["1",')));
  });

  it('refuses what is not strict JSON, saying where', () => {
    for (const bad of [
      '',
      '{',
      '{"a":1,}',
      '[1,]',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":+1}',
      '{"a":NaN}',
      '{"a":Infinity}',
      '{"a":1e}',
      "{'a':1}",
      '{"a":1} x',
      '"\u0001"',
      '"\\x41"',
      '<html>Bad gateway</html>',
    ]) {
      expect(() => parseExactJson(bad)).toThrow(ExactJsonError);
    }
    expect(() => parseExactJson('{"a":1,}')).toThrow(/at character 7/);
  });

  it('refuses nesting deeper than 64 instead of overflowing the stack', () => {
    expect(() => parseExactJson('['.repeat(100_000))).toThrow(/nesting deeper than 64/);
    expect(parseExactJson('['.repeat(60) + ']'.repeat(60))).toEqual(expect.any(Array));
  });

  it('agrees with JSON.parse on every JSON value, numbers read as their literal (property)', () => {
    const plain = (value: ExactJson): unknown =>
      value instanceof ExactNumber
        ? Number(value.literal)
        : Array.isArray(value)
          ? value.map(plain)
          : value !== null && typeof value === 'object'
            ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
            : value;
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(plain(parseExactJson(text))).toEqual(JSON.parse(text));
      }),
    );
  });

  it('keeps any decimal amount exact through text and back (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.integer({ min: 0, max: 20 }),
        (units, scale) => {
          const literal = Decimal.parse(units.toString()).shiftRight(scale).toFixedString();
          const json = parseExactJson(`{"value": ${literal}}`);
          expect(decimalOf((json as any).value, '$.value').toFixedString()).toBe(literal);
        },
      ),
    );
  });
});

describe('admin pages', () => {
  const page = (results: string, extra = '"has_more": false, "next_page": null') =>
    `{"object":"page","data":[{"object":"bucket","start_time":1730419200,"end_time":1730505600,"results":[${results}]}],${extra}}`;

  it('reads a costs result exactly: exponent forms, negatives, other currencies, token quantities', () => {
    const parsed = parseAdminPage(
      page(
        [
          '{"object":"organization.costs.result","amount":{"value":0.1234567890123,"currency":"usd"},"line_item":"gpt-image-2, output image","project_id":"proj_a","quantity":4160,"quantity_unit":"tokens"}',
          '{"object":"organization.costs.result","amount":{"value":1e-7,"currency":"USD"},"line_item":null,"project_id":null}',
          '{"object":"organization.costs.result","amount":{"value":-2.5,"currency":"eur"}}',
        ].join(','),
      ),
      costResult,
    );
    const [a, b, c] = parsed.buckets[0].results;
    expect(a.amount.toFixedString()).toBe('0.1234567890123');
    expect([a.lineItem, a.projectId, a.quantity?.toFixedString(), a.quantityUnit]).toEqual([
      'gpt-image-2, output image',
      'proj_a',
      '4160',
      'tokens',
    ]);
    expect([b.amount.toFixedString(), b.currency, b.lineItem, b.projectId]).toEqual(['0.0000001', 'usd', null, null]);
    expect([c.amount.toFixedString(), c.currency, c.quantity]).toEqual(['-2.5', 'eur', null]);
    expect(parsed).toMatchObject({ hasMore: false, nextPage: null });
  });

  it('reads an images usage result', () => {
    const parsed = parseAdminPage(
      page(
        '{"object":"organization.usage.images.result","images":3,"num_model_requests":2,"model":"gpt-image-2","project_id":"proj_a","size":null,"source":null,"user_id":null,"api_key_id":null}',
        '"has_more": true, "next_page": "page_2"',
      ),
      imagesUsageResult,
    );
    expect(parsed.buckets[0]).toEqual({
      startTime: 1730419200,
      endTime: 1730505600,
      results: [{ images: 3n, requests: 2n, model: 'gpt-image-2', projectId: 'proj_a' }],
    });
    expect(parsed).toMatchObject({ hasMore: true, nextPage: 'page_2' });
  });

  it('refuses answers that are not pages of the published schema, naming the path', () => {
    const cost = (amount: string) =>
      page(`{"object":"organization.costs.result","amount":{"value":${amount},"currency":"usd"}}`);
    const cases: Array<[string, RegExp]> = [
      ['{"object":"list","data":[]}', /\$\.object must be "page"/],
      ['{"object":"page","data":[],"has_more":"no","next_page":null}', /\$\.has_more must be true or false/],
      [cost('"0.06"'), /amount\.value must be a number \(was "0\.06"\)/],
      [cost('1e999999999'), /amount\.value is out of range/],
      [page('{"object":"organization.costs.result","amount":{"value":1}}'), /amount\.currency is missing/],
      [page('{"object":"organization.usage.images.result","images":1,"num_model_requests":1}'), /results\[0\]\.object/],
      ['[1,2]', /\$ must be an object/],
      ['Internal error', /not JSON/],
    ];
    for (const [text, message] of cases) expect(() => parseAdminPage(text, costResult)).toThrow(message);
    expect(() =>
      parseAdminPage(
        page('{"object":"organization.usage.images.result","images":-1,"num_model_requests":1.5}'),
        imagesUsageResult,
      ),
    ).toThrow(/images must not be negative/);
  });
});
