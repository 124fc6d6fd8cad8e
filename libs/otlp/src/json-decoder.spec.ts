import fc from 'fast-check';
import { decodeTraceRequestJson } from './json-decoder';
import { OtlpDecodeError } from './otlp-model';

const TRACE = '5B8EFFF798038103D269B633813FC60C';
const SPAN = 'EEE19B7EC3C1B174';

const requestWith = (span: Record<string, unknown>, resource: unknown[] = []) => ({
  resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ scope: { name: 's' }, spans: [span] }] }],
});
const firstSpan = (body: unknown) => decodeTraceRequestJson(body).resourceSpans[0].spans[0];

function decodeError(body: unknown): OtlpDecodeError {
  try {
    decodeTraceRequestJson(body);
  } catch (error) {
    if (error instanceof OtlpDecodeError) return error;
    throw error;
  }
  throw new Error('decoded');
}

describe('decodeTraceRequestJson', () => {
  it('reads ids as case-insensitive hex, times as decimal strings or numbers, status codes as integers', () => {
    const span = firstSpan(
      requestWith({
        traceId: TRACE,
        spanId: SPAN,
        name: 'chat gpt-image-2',
        kind: 3,
        startTimeUnixNano: '1795774500123456789',
        endTimeUnixNano: 1795774508000000000,
        status: { code: 2, message: 'boom' },
        unknownField: { anything: [1, 2] },
      }),
    );
    expect(span).toEqual({
      traceId: TRACE.toLowerCase(),
      spanId: SPAN.toLowerCase(),
      name: 'chat gpt-image-2',
      startTimeUnixNano: 1795774500123456789n,
      endTimeUnixNano: 1795774508000000000n,
      statusCode: 2,
      attributes: new Map(),
      problems: [],
    });
  });

  it('reads every kind of attribute value, an intValue string exactly beyond 2^53', () => {
    const span = firstSpan(
      requestWith({
        traceId: TRACE,
        spanId: SPAN,
        attributes: [
          { key: 's', value: { stringValue: 'x' } },
          { key: 'b', value: { boolValue: false } },
          { key: 'i', value: { intValue: 120 } },
          { key: 'big', value: { intValue: '9007199254740993' } },
          { key: 'neg', value: { intValue: '-5' } },
          { key: 'd', value: { doubleValue: 0.5 } },
          { key: 'nan', value: { doubleValue: 'NaN' } },
          { key: 'a', value: { arrayValue: { values: [{ stringValue: 'x' }] } } },
          { key: 'kv', value: { kvlistValue: { values: [] } } },
          { key: 'bytes', value: { bytesValue: 'AAE=' } },
          { key: 'empty', value: {} },
          { key: 'none' },
        ],
      }),
    );
    expect(Object.fromEntries(span.attributes)).toEqual({
      s: { kind: 'string', value: 'x' },
      b: { kind: 'bool', value: false },
      i: { kind: 'int', value: 120n },
      big: { kind: 'int', value: 9007199254740993n },
      neg: { kind: 'int', value: -5n },
      d: { kind: 'double', value: 0.5 },
      nan: { kind: 'double', value: NaN },
      a: { kind: 'other' },
      kv: { kind: 'other' },
      bytes: { kind: 'other' },
      empty: { kind: 'other' },
      none: { kind: 'other' },
    });
  });

  it('marks a value it cannot read exactly instead of rounding it', () => {
    const span = firstSpan(
      requestWith({
        traceId: TRACE,
        spanId: SPAN,
        attributes: [
          { key: 'rounded', value: { intValue: 2 ** 53 + 2 } }, // 9007199254740994: above 2^53, JSON cannot say which
          { key: 'range', value: { intValue: '9223372036854775808' } },
          { key: 'fraction', value: { intValue: 1.5 } },
          { key: 'text', value: { doubleValue: 'x' } },
        ],
      }),
    );
    expect(Object.fromEntries(span.attributes)).toEqual({
      rounded: {
        kind: 'invalid',
        problem: 'intValue is beyond 2^53 as a JSON number and was rounded; send int64 values as decimal strings',
      },
      range: { kind: 'invalid', problem: 'intValue is outside the int64 range' },
      fraction: { kind: 'invalid', problem: 'intValue must be a whole number or a decimal string' },
      text: { kind: 'invalid', problem: 'doubleValue must be a number' },
    });
  });

  it('keeps a span whose ids or times cannot be read, with its problems (the rest of the request is read)', () => {
    const request = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                { traceId: 'W4779/eYA4EDT0m2M4E/xg==', spanId: SPAN, startTimeUnixNano: '-1' },
                { traceId: TRACE, spanId: 42, endTimeUnixNano: 1.5 },
                { traceId: TRACE, spanId: SPAN },
              ],
            },
          ],
        },
      ],
    };
    const spans = decodeTraceRequestJson(request).resourceSpans[0].spans;
    expect(spans.map((s) => s.problems)).toEqual([
      [
        'traceId must be 32 hex digits (16 bytes; OTLP/JSON ids are hex, not base64), not "W4779/eYA4EDT0m2M4E/xg=="',
        'startTimeUnixNano must be a whole number of nanoseconds (a decimal string or a number)',
      ],
      [
        'spanId must be 16 hex digits (8 bytes; OTLP/JSON ids are hex, not base64), not number',
        'endTimeUnixNano must be a whole number of nanoseconds (a decimal string or a number)',
      ],
      [],
    ]);
  });

  it('takes an empty body and an empty object as an empty request', () => {
    expect(decodeTraceRequestJson(undefined)).toEqual({ resourceSpans: [] });
    expect(decodeTraceRequestJson({})).toEqual({ resourceSpans: [] });
    expect(decodeTraceRequestJson({ resourceSpans: null })).toEqual({ resourceSpans: [] });
  });

  it.each([
    [[], '(body)', 'must be an object'],
    ['x', '(body)', 'must be an object'],
    [{ resourceSpans: {} }, 'resourceSpans', 'must be a list'],
    [{ resourceSpans: [1] }, 'resourceSpans[0]', 'must be an object'],
    [{ resourceSpans: [{ resource: [] }] }, 'resourceSpans[0].resource', 'must be an object'],
    [{ resourceSpans: [{ scopeSpans: [{ spans: 'x' }] }] }, 'resourceSpans[0].scopeSpans[0].spans', 'must be a list'],
    [
      { resourceSpans: [{ scopeSpans: [{ spans: [null] }] }] },
      'resourceSpans[0].scopeSpans[0].spans[0]',
      'must be an object',
    ],
    [
      { resourceSpans: [{ scopeSpans: [{ spans: [{ attributes: [{ key: 'k', value: 'v' }] }] }] }] },
      'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value',
      'must be an object',
    ],
  ])('refuses a body of the wrong shape (%j) naming where', (body, path, message) => {
    const error = decodeError(body);
    expect([error.path, error.message]).toEqual([path, message]);
  });

  it('never throws anything but OtlpDecodeError, whatever JSON it is given', () => {
    const otlpish = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 3 }),
        fc.record(
          {
            resourceSpans: tie('value'),
            scopeSpans: tie('value'),
            spans: tie('value'),
            attributes: tie('value'),
            resource: tie('value'),
            value: tie('value'),
            intValue: tie('value'),
            traceId: tie('value'),
            startTimeUnixNano: tie('value'),
            status: tie('value'),
            code: tie('value'),
          },
          { requiredKeys: [] },
        ),
        fc.array(tie('value'), { maxLength: 3 }),
      ),
    })).value;
    fc.assert(
      fc.property(otlpish, (body) => {
        try {
          decodeTraceRequestJson(body);
        } catch (error) {
          if (!(error instanceof OtlpDecodeError)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('does not enter nested values: an attribute nested 100,000 deep is read at once', () => {
    let deep: unknown = { stringValue: 'x' };
    for (let i = 0; i < 100_000; i++) deep = { arrayValue: { values: [deep] } };
    const span = firstSpan(requestWith({ traceId: TRACE, spanId: SPAN, attributes: [{ key: 'deep', value: deep }] }));
    expect(span.attributes.get('deep')).toEqual({ kind: 'other' });
  });
});
