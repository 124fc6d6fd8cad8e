import fc from 'fast-check';
import { SpanStatusCode } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeTraceRequestJson } from './json-decoder';
import { OtlpDecodeError, OtlpSpan, OtlpTraceRequest, OtlpValue } from './otlp-model';
import { decodeTraceRequestProtobuf, encodeTraceResponseProtobuf, MAX_GROUP_DEPTH } from './protobuf-decoder';

/** A protobuf writer for the tests: each helper gives the bytes of one field. */
const pb = {
  varint(value: bigint | number): number[] {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v > 0x7fn) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    return out;
  },
  tag: (field: number, wireType: number) => pb.varint(field * 8 + wireType),
  len: (field: number, bytes: ArrayLike<number>) => [
    ...pb.tag(field, 2),
    ...pb.varint(bytes.length),
    ...Array.from(bytes),
  ],
  str: (field: number, text: string) => pb.len(field, Buffer.from(text, 'utf8')),
  fixed64(field: number, value: bigint): number[] {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(value);
    return [...pb.tag(field, 1), ...bytes];
  },
  double(field: number, value: number): number[] {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(value);
    return [...pb.tag(field, 1), ...bytes];
  },
};

/** Unknown fields of every wire type, groups included, to be skipped wherever they appear. */
const unknownField: fc.Arbitrary<number[]> = fc.oneof(
  fc
    .tuple(fc.integer({ min: 100, max: 2000 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
    .map(([f, v]) => [...pb.tag(f, 0), ...pb.varint(v)]),
  fc
    .tuple(fc.integer({ min: 100, max: 2000 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
    .map(([f, v]) => pb.fixed64(f, v)),
  fc.tuple(fc.integer({ min: 100, max: 2000 }), fc.uint8Array({ maxLength: 20 })).map(([f, b]) => pb.len(f, b)),
  fc
    .tuple(fc.integer({ min: 100, max: 2000 }), fc.uint8Array({ minLength: 4, maxLength: 4 }))
    .map(([f, b]) => [...pb.tag(f, 5), ...b]),
  fc
    .tuple(fc.integer({ min: 100, max: 2000 }), fc.integer({ min: 1, max: 5 }), fc.bigInt({ min: 0n, max: 1000n }))
    .map(([f, depth, v]) => [
      ...Array.from({ length: depth }, () => pb.tag(f, 3)).flat(),
      ...pb.tag(f + 1, 0),
      ...pb.varint(v),
      ...Array.from({ length: depth }, () => pb.tag(f, 4)).flat(),
    ]),
);
const noise = fc.array(unknownField, { maxLength: 2 }).map((fields) => fields.flat());

/** An attribute value and its AnyValue fields. */
const valueArb: fc.Arbitrary<{ value: OtlpValue; bytes: number[] }> = fc.oneof(
  fc
    .string({ unit: 'grapheme', maxLength: 20 })
    .map((s) => ({ value: { kind: 'string', value: s } as OtlpValue, bytes: pb.str(1, s) })),
  fc.boolean().map((b) => ({
    value: { kind: 'bool', value: b } as OtlpValue,
    bytes: [...pb.tag(2, 0), ...pb.varint(b ? 1 : 0)],
  })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((i) => ({
    value: { kind: 'int', value: i } as OtlpValue,
    bytes: [...pb.tag(3, 0), ...pb.varint(i)],
  })),
  fc.double().map((d) => ({ value: { kind: 'double', value: d } as OtlpValue, bytes: pb.double(4, d) })),
  // Arrays, key-value lists and bytes: skipped whole, whatever they hold.
  fc
    .tuple(fc.integer({ min: 5, max: 7 }), fc.uint8Array({ maxLength: 30 }))
    .map(([field, inner]) => ({ value: { kind: 'other' } as OtlpValue, bytes: pb.len(field, inner) })),
);

/** Attributes with distinct keys, as a Map and as repeated KeyValue fields number `field`. */
const attributesArb = (field: number) =>
  fc
    .uniqueArray(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 12 }), valueArb), {
      selector: ([k]) => k,
      maxLength: 5,
    })
    .chain((pairs) =>
      // Unknown fields after each value, inside its AnyValue.
      fc.tuple(...pairs.map(() => noise)).map((noises) => ({
        map: new Map(pairs.map(([k, v]) => [k, v.value])),
        bytes: pairs.flatMap(([key, v], i) =>
          pb.len(field, [...pb.str(1, key), ...pb.len(2, [...v.bytes, ...noises[i]])]),
        ),
      })),
    );

const spanArb = fc
  .record({
    traceId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    spanId: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    name: fc.string({ unit: 'grapheme', maxLength: 20 }),
    start: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    end: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    statusCode: fc.integer({ min: 0, max: 2 }),
    attributes: attributesArb(9),
    noise,
  })
  .map((s) => ({
    span: {
      traceId: Buffer.from(s.traceId).toString('hex'),
      spanId: Buffer.from(s.spanId).toString('hex'),
      name: s.name,
      startTimeUnixNano: s.start,
      endTimeUnixNano: s.end,
      statusCode: s.statusCode,
      attributes: s.attributes.map,
      problems: [],
    } as OtlpSpan,
    bytes: [
      ...pb.len(1, s.traceId),
      ...s.noise,
      ...pb.len(2, s.spanId),
      ...pb.len(4, [1, 2, 3]), // parent_span_id: not read
      ...pb.str(5, s.name),
      ...pb.tag(6, 0),
      ...pb.varint(3), // kind
      ...pb.fixed64(7, s.start),
      ...pb.fixed64(8, s.end),
      ...s.attributes.bytes,
      ...pb.len(15, [...pb.str(2, 'message'), ...pb.tag(3, 0), ...pb.varint(s.statusCode)]),
    ],
  }));

const requestArb = fc
  .array(
    fc.record({
      resource: attributesArb(1),
      scopes: fc.array(fc.array(spanArb, { maxLength: 3 }), { maxLength: 2 }),
      noise,
    }),
    { maxLength: 3 },
  )
  .map((items) => ({
    request: {
      resourceSpans: items.map((item) => ({
        resource: item.resource.map,
        spans: item.scopes.flatMap((spans) => spans.map((s) => s.span)),
      })),
    } as OtlpTraceRequest,
    bytes: Uint8Array.from(
      items.flatMap((item) =>
        pb.len(1, [
          ...pb.len(1, [...item.resource.bytes, ...pb.tag(2, 0), ...pb.varint(0)]),
          ...item.noise,
          ...item.scopes.flatMap((spans) =>
            pb.len(2, [
              ...pb.len(1, pb.str(1, 'scope')),
              ...spans.flatMap((s) => pb.len(2, s.bytes)),
              ...pb.str(3, 'url'),
            ]),
          ),
        ]),
      ),
    ),
  }));

/** An ExportTraceServiceRequest of one resource, one scope and one span made of `spanFields`. */
const requestOf = (spanFields: number[]) => Uint8Array.from(pb.len(1, pb.len(2, pb.len(2, spanFields))));

/**
 * An AnyValue `{array_value {values [{array_value {values [... {int_value 1}]}}]}}` nested `depth` times,
 * written outside in (each level's length is known from the sizes below it).
 */
function nestedArrayValue(depth: number): Buffer {
  const innermost = [...pb.tag(3, 0), 1];
  // sizes[i]: the size of the AnyValue at level i (0 innermost); each wraps the one below as
  // AnyValue { 5: ArrayValue { 1: AnyValue } }.
  const sizes = [innermost.length];
  for (let i = 1; i <= depth; i++) {
    const arrayValue = 1 + pb.varint(sizes[i - 1]).length + sizes[i - 1];
    sizes.push(1 + pb.varint(arrayValue).length + arrayValue);
  }
  const out = Buffer.alloc(sizes[depth]);
  let at = 0;
  for (let i = depth; i >= 1; i--) {
    const below = sizes[i - 1];
    const arrayValue = 1 + pb.varint(below).length + below;
    for (const byte of [...pb.tag(5, 2), ...pb.varint(arrayValue), ...pb.tag(1, 2), ...pb.varint(below)])
      out[at++] = byte;
  }
  for (const byte of innermost) out[at++] = byte;
  return out;
}

/** Decodes, answering the result or the OtlpDecodeError; any other error fails the test. */
function decodeOrError(bytes: Uint8Array): OtlpTraceRequest | OtlpDecodeError {
  try {
    return decodeTraceRequestProtobuf(bytes);
  } catch (error) {
    if (error instanceof OtlpDecodeError) return error;
    throw error;
  }
}

describe('decodeTraceRequestProtobuf', () => {
  it('reads back every field it knows from generated requests, skipping unknown fields of every wire type', () => {
    fc.assert(
      fc.property(requestArb, ({ request, bytes }) => {
        expect(decodeTraceRequestProtobuf(bytes)).toEqual(request);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes what the OpenTelemetry JS SDK serializes, as its JSON encoding decodes', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'avatars', 'deployment.environment.name': 'prod' }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('test');
    const span = tracer.startSpan('generate_content gpt-image-2', {
      startTime: new Date('2026-11-27T10:15:00.000Z'),
      attributes: {
        'gen_ai.provider.name': 'openai',
        'gen_ai.usage.input_tokens': 120,
        'gen_ai.usage.output_tokens': 4160,
        ratio: 0.5,
        ok: true,
        list: ['a', 'b'],
      },
    });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    span.end(new Date('2026-11-27T10:15:08.123Z'));
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    const fromProtobuf = decodeTraceRequestProtobuf(ProtobufTraceSerializer.serializeRequest(spans)!);
    const fromJson = decodeTraceRequestJson(
      JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString()),
    );
    expect(fromProtobuf).toEqual(fromJson);
    const [decoded] = fromProtobuf.resourceSpans[0].spans;
    expect(decoded).toEqual({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      name: 'generate_content gpt-image-2',
      startTimeUnixNano: 1795774500000000000n,
      endTimeUnixNano: 1795774508123000000n,
      statusCode: 2,
      attributes: new Map<string, OtlpValue>([
        ['gen_ai.provider.name', { kind: 'string', value: 'openai' }],
        ['gen_ai.usage.input_tokens', { kind: 'int', value: 120n }],
        ['gen_ai.usage.output_tokens', { kind: 'int', value: 4160n }],
        ['ratio', { kind: 'double', value: 0.5 }],
        ['ok', { kind: 'bool', value: true }],
        ['list', { kind: 'other' }],
      ]),
      problems: [],
    });
    expect(fromProtobuf.resourceSpans[0].resource.get('service.name')).toEqual({ kind: 'string', value: 'avatars' });
    await provider.shutdown();
  });

  it('reads int64 values exactly, beyond 2^53 and negative', () => {
    for (const value of [9007199254740993n, -1n, -(2n ** 63n), 2n ** 63n - 1n]) {
      const attribute = pb.len(9, [...pb.str(1, 'n'), ...pb.len(2, [...pb.tag(3, 0), ...pb.varint(value)])]);
      const span = decodeTraceRequestProtobuf(requestOf(attribute)).resourceSpans[0].spans[0];
      expect(span.attributes.get('n')).toEqual({ kind: 'int', value });
      // The span has no ids: kept, with its problems, for the mapping to reject.
      expect(span.problems).toEqual(['trace_id must be 16 bytes, not 0', 'span_id must be 8 bytes, not 0']);
    }
  });

  it('never throws anything but OtlpDecodeError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        decodeOrError(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws anything but OtlpDecodeError on truncated or corrupted valid requests', () => {
    fc.assert(
      fc.property(
        requestArb.filter(({ bytes }) => bytes.length > 0),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        ({ bytes }, cut, flips) => {
          decodeOrError(bytes.subarray(0, cut % bytes.length));
          const corrupted = Uint8Array.from(bytes);
          for (const [at, byte] of flips) corrupted[at % corrupted.length] = byte;
          decodeOrError(corrupted);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it.each([
    [
      'a varint longer than 10 bytes',
      [0x08, ...Array(10).fill(0xff), 0x01],
      'field 1: the varint is longer than 10 bytes',
    ],
    ['a varint cut off', [0x08, 0xff], 'field 1: the varint is cut off by the end of the message'],
    [
      'a length past the end',
      [0x0a, 0x05, 0x01],
      'resource_spans: the length (5 bytes) runs past the end of the message',
    ],
    [
      'a length one byte past the end',
      [0x0a, 0x02, 0x08],
      'resource_spans: the length (2 bytes) runs past the end of the message',
    ],
    [
      'a nested length one byte past the end of its message',
      pb.len(1, [...pb.len(2, [0x12, 0x02, 0x0a]), 0x18, 0x00]),
      'spans: the length (2 bytes) runs past the end of the message',
    ],
    [
      'a huge length',
      [0x0a, ...pb.varint(2n ** 40n)],
      'resource_spans: the length (1099511627776 bytes) runs past the end of the message',
    ],
    ['wire type 6', [0x0e], 'field 1: wire type 6 does not exist'],
    ['wire type 7', [0x0f], 'field 1: wire type 7 does not exist'],
    ['an end group without a start', [0x0c], 'field 1: a group ends that was not started'],
    ['a group never closed', [0x0b, 0x10, 0x01], 'a group is not closed before the end of the message'],
    ['field number 0', [0x00, 0x00], 'field number 0 is not valid'],
    ['fixed64 cut off', [0x09, 1, 2, 3], 'field 1: 8 bytes expected, the message ends first'],
    ['a key that is not UTF-8', pb.len(1, pb.len(1, pb.len(1, pb.len(1, [0xff, 0xfe])))), 'key: not valid UTF-8'],
  ])('refuses %s with a clear message', (_what, bytes, message) => {
    const result = decodeOrError(Uint8Array.from(bytes));
    expect(result).toBeInstanceOf(OtlpDecodeError);
    expect((result as OtlpDecodeError).message).toBe(message);
  });

  it('names where it stopped', () => {
    const bytes = pb.len(1, pb.len(2, [...pb.len(2, []), ...pb.len(2, pb.len(9, [0x0a, 0x09]))]));
    const error = decodeOrError(Uint8Array.from(bytes)) as OtlpDecodeError;
    expect([error.path, error.message]).toEqual([
      'resource_spans[0].scope_spans[0].spans[1].attributes[0]',
      'key: the length (9 bytes) runs past the end of the message',
    ]);
  });

  it('refuses groups nested deeper than the limit, quickly and without recursion', () => {
    const depth = 1_000_000;
    const bytes = new Uint8Array(depth * 2).fill(0x0b); // start group of field 1, a million times
    const started = Date.now();
    const error = decodeOrError(bytes) as OtlpDecodeError;
    expect(error.message).toBe(`groups nested more than ${MAX_GROUP_DEPTH} deep`);
    expect(Date.now() - started).toBeLessThan(1000);
    // Nested as deep as allowed, they are skipped.
    const group = [...Array(MAX_GROUP_DEPTH).fill(0x0b), ...Array(MAX_GROUP_DEPTH).fill(0x0c)];
    expect(decodeTraceRequestProtobuf(Uint8Array.from(group))).toEqual({ resourceSpans: [] });
  });

  it('does not enter nested attribute values: a value nested 100,000 deep costs one skip', () => {
    const deep = nestedArrayValue(100_000);
    const value = Buffer.concat([
      Buffer.from(pb.str(1, 'deep')),
      Buffer.from(pb.tag(2, 2)),
      Buffer.from(pb.varint(deep.length)),
      deep,
    ]);
    const started = Date.now();
    const decoded = decodeTraceRequestProtobuf(requestOf([...pb.tag(9, 2), ...pb.varint(value.length), ...value]));
    expect(decoded.resourceSpans[0].spans[0].attributes.get('deep')).toEqual({ kind: 'other' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('decodes a megabyte of random bytes in linear time', () => {
    const bytes = Uint8Array.from({ length: 1024 * 1024 }, (_, i) => (i * 2654435761) >>> 24);
    const started = Date.now();
    decodeOrError(bytes);
    // A well-formed megabyte of skippable fields, too.
    const fields = Buffer.alloc(1024 * 1024, 0);
    for (let i = 0; i + 2 <= fields.length; i += 2) fields[i] = 0x18; // field 3, varint 0
    expect(decodeTraceRequestProtobuf(fields)).toEqual({ resourceSpans: [] });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('encodeTraceResponseProtobuf', () => {
  it('is read by the OpenTelemetry SDK as the partial success it says', () => {
    const bytes = encodeTraceResponseProtobuf({ rejectedSpans: 300, errorMessage: 'span ab: négatif' });
    expect(ProtobufTraceSerializer.deserializeResponse(bytes)).toEqual({
      partialSuccess: { rejectedSpans: 300, errorMessage: 'span ab: négatif' },
    });
    expect(encodeTraceResponseProtobuf(null).length).toBe(0);
    expect(ProtobufTraceSerializer.deserializeResponse(encodeTraceResponseProtobuf(null))).toEqual({});
  });
});
