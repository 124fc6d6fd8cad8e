import fc from 'fast-check';
import { ByteBuilder, indexOfByte, JsonSkimmer, LONG_STRING, withoutLongStrings } from './skim';

const utf8 = new TextEncoder();

/** The text's bytes cut at the given offsets (sorted, within the text), pushed piece by piece. */
function skimInPieces(text: string, cuts: number[] = [], limit?: number): string {
  const bytes = utf8.encode(text);
  const skimmer = new JsonSkimmer(limit);
  let at = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length)].sort((a, b) => a - b)) {
    skimmer.push(bytes, at, cut);
    at = cut;
  }
  skimmer.push(bytes, at, bytes.length);
  return skimmer.text();
}

/** The reference: every string (key or value) whose JSON literal is over 1024 bytes of UTF-8 made "…". */
function withoutLongLiterals(value: unknown): unknown {
  const short = (text: string) => utf8.encode(JSON.stringify(text).slice(1, -1)).length <= 1024;
  if (typeof value === 'string') return short(value) ? value : JSON.parse(LONG_STRING);
  if (Array.isArray(value)) return value.map(withoutLongLiterals);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      out[short(key) ? key : JSON.parse(LONG_STRING)] = withoutLongLiterals(item);
    return out;
  }
  return value;
}

/** JSON values whose strings hold what trips a quote scanner: quotes, backslashes, escapes, non-ASCII. */
const trickyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('"', '\\', '\\"', '"usage":{"output_tokens":1}', 'é😀', '\u0000\n\t', '\\\\'),
  fc.tuple(fc.constantFrom('"', '\\', 'x', 'é'), fc.integer({ min: 1000, max: 3000 })).map(([c, n]) => c.repeat(n)),
);
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    trickyString,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(trickyString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('JsonSkimmer', () => {
  it('gives what a whole parse gives less the strings over the limit, for any JSON cut into any pieces', () => {
    fc.assert(
      fc.property(jsonValue, fc.array(fc.nat(), { maxLength: 8 }), (value, cuts) => {
        const text = JSON.stringify(value);
        const skimmed = skimInPieces(
          text,
          cuts.map((c) => c % (text.length * 3 + 1)),
        );
        expect(JSON.parse(skimmed)).toEqual(withoutLongLiterals(JSON.parse(text)));
        if (!/[\u0080-\uffff]/.test(text)) expect(skimmed).toBe(withoutLongStrings(text)); // ASCII: characters are bytes
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a string cut inside an escape, a run of backslashes or a multi-byte character', () => {
    const text = JSON.stringify({ a: 'say "hi" \\ \\\\', b: 'é😀', c: ['\\"', 'x'] });
    const bytes = utf8.encode(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(JSON.parse(skimInPieces(text, [cut]))).toEqual(JSON.parse(text));
      expect(JSON.parse(skimInPieces(text, [cut, cut + 1, cut + 3]))).toEqual(JSON.parse(text));
    }
    // A long string whose escaped quote and backslashes fall on a cut: it must end where it ends, not before.
    const long = JSON.stringify({ s: 'x'.repeat(1100) + '\\"\\\\"' + 'x'.repeat(20), after: 'kept' });
    const start = long.indexOf('\\');
    for (let cut = start - 2; cut < start + 12; cut++) {
      expect(JSON.parse(skimInPieces(long, [cut]))).toEqual({ s: JSON.parse(LONG_STRING), after: 'kept' });
    }
  });

  it('replaces a 2 MB base64 string, and one ending in escaped quotes and backslashes, by "…"', () => {
    const b64 = 'A'.repeat(2 * 1024 * 1024);
    const tricky = 'y'.repeat(1500) + '\\"' + 'z'.repeat(10) + '\\\\';
    const text = JSON.stringify({ data: [{ b64_json: b64 }], t: tricky, usage: { output_tokens: 4160 } });
    const pieces = Array.from({ length: Math.ceil(text.length / 65536) }, (_, i) => i * 65536);
    expect(JSON.parse(skimInPieces(text, pieces))).toEqual({
      data: [{ b64_json: JSON.parse(LONG_STRING) }],
      t: JSON.parse(LONG_STRING),
      usage: { output_tokens: 4160 },
    });
  });

  it('hands back an unterminated string as it came, for JSON.parse to reject', () => {
    expect(skimInPieces('{"a": "unterminated')).toBe('{"a": "unterminated');
    expect(() => JSON.parse(skimInPieces('{"a": "' + 'x'.repeat(5000)))).toThrow();
  });
});

describe('byte helpers', () => {
  it('indexOfByte finds a byte only inside [from, to), in any Uint8Array', () => {
    const bytes = utf8.encode('ab"cd"ef');
    expect(indexOfByte(bytes, 0x22, 0)).toBe(2);
    expect(indexOfByte(bytes, 0x22, 3)).toBe(5);
    expect(indexOfByte(bytes, 0x22, 3, 5)).toBe(-1);
    expect(indexOfByte(bytes.subarray(3), 0x22, 0)).toBe(2);
    expect(indexOfByte(bytes, 0x22, 8)).toBe(-1);
  });

  it('ByteBuilder copies what it is given, so the caller may reuse its buffers', () => {
    const builder = new ByteBuilder();
    const source = utf8.encode('x'.repeat(300));
    builder.append(source, 0, 200);
    source.fill(0x79); // 'y'
    builder.append(source, 0, 200);
    expect(builder.text()).toBe('x'.repeat(200) + 'y'.repeat(200));
  });
});
