import fc from 'fast-check';
import { ByteBuilder, withoutLongStrings } from './skim';
import { sseEvents } from './sse';
import { streamEventFilter } from './usage';
import { IMAGE_USAGE, imageStream } from '../../../test/fakes/openai-image-answers';

const utf8 = new TextEncoder();
const USAGE = /"usage"\s*:\s*\{/;

/**
 * Long strings as "…", on both sides: small events are parsed whole and large ones skimmed, a difference
 * usage never sees (no usage field is a long string).
 */
function normalized(value: unknown): unknown {
  if (typeof value === 'string') return value.length > 1024 ? '…' : value;
  if (Array.isArray(value)) return value.map(normalized);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalized(v)]));
  return value;
}

/** What sseEvents hands over, read the plain way: the whole text, split on lines, each event's data parsed whole. */
function expectedEvents(text: string, wanted: (type: string | null) => boolean = () => true) {
  const out: unknown[] = [];
  let data: string[] = [];
  const dispatch = () => {
    const joined = data.join('\n');
    data = [];
    if (joined === '' || joined === '[DONE]' || !USAGE.test(withoutLongStrings(joined))) return;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(withoutLongStrings(joined)) as Record<string, unknown>;
    } catch {
      return;
    }
    const type = Object.keys(parsed)[0] === 'type' && typeof parsed.type === 'string' ? parsed.type : null;
    if (wanted(type)) out.push(normalized(parsed));
  };
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) {
    if (line === '') dispatch();
    else if (line === 'data') data.push('');
    else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
  }
  dispatch();
  return out;
}

/** Events found in `text` pushed as bytes cut at `cuts`. */
function eventsOf(text: string, cuts: number[], wanted?: (type: string | null) => boolean) {
  const bytes = utf8.encode(text);
  const seen: unknown[] = [];
  const events = sseEvents((data) => seen.push(data), wanted);
  let at = 0;
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    events.push(bytes.subarray(at, cut));
    at = cut;
  }
  events.push(bytes.subarray(at));
  events.end();
  return seen.map(normalized);
}

describe('sseEvents on bytes', () => {
  it.each(['\n', '\r\n'])('finds the same events with the stream split at every byte boundary (%j lines)', (eol) => {
    const text =
      imageStream(300, { eol, prefix: `: keep-alive${eol}${eol}` }) +
      `data: {"choices":[],${eol}data: "usage":{"prompt_tokens":3}}${eol}${eol}` + // two data lines, one event
      `data:[DONE]${eol}${eol}`;
    const expected = expectedEvents(text);
    expect(expected).toHaveLength(2);
    const bytes = utf8.encode(text).length;
    for (let cut = 1; cut < bytes; cut++) expect(eventsOf(text, [cut])).toEqual(expected);
  });

  it('finds the same events however the stream is cut, around the small-event and type-prefix limits (property)', () => {
    const text =
      imageStream(40_000) + imageStream(3_000, { eol: '\r\n', partials: 1 }) + imageStream(60, { partials: 0 });
    const expected = expectedEvents(text);
    expect(expected).toHaveLength(3);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: text.length }), { maxLength: 40 }), (cuts) => {
        expect(eventsOf(text, cuts)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('drops events whose type carries no usage after their first bytes, and still reads events whose type is not first', () => {
    const wanted = streamEventFilter('images.generate');
    const late = JSON.stringify({ b64_json: 'QUFB', type: 'image_generation.completed', usage: IMAGE_USAGE });
    const text = imageStream(3000) + `data: ${late}\n\n`;
    const seen = eventsOf(text, [100, 5000], wanted);
    expect(seen).toEqual(expectedEvents(text, wanted));
    expect(seen.map((e) => (e as { type: string }).type)).toEqual([
      'image_generation.completed',
      'image_generation.completed',
    ]);
  });

  it('reads a real-size stream (three 2 MB images in 64 KB chunks) copying only a few KB, whatever the chunking', () => {
    const text = imageStream(2 * 1024 * 1024);
    const bytes = utf8.encode(text);
    for (const wanted of [undefined, streamEventFilter('images.generate')]) {
      const append = jest.spyOn(ByteBuilder.prototype, 'append');
      try {
        const seen: unknown[] = [];
        const events = sseEvents((data) => seen.push(data), wanted);
        for (let at = 0; at < bytes.length; at += 65536) events.push(bytes.subarray(at, at + 65536));
        events.end();
        expect(seen.map(normalized)).toEqual(expectedEvents(text, wanted));
        const copied = append.mock.calls.reduce(
          (sum, [source, from, to]) => sum + ((to ?? source.length) - (from ?? 0)),
          0,
        );
        // Per event read: its first 4 KB (events below that are parsed whole), then its structure and the first
        // 1 KB of each string. Unfiltered, all three events are read so; filtered, the partial images are dropped
        // after 160 bytes.
        expect(copied).toBeLessThan(wanted ? 7_000 : 20_000);
      } finally {
        append.mockRestore();
      }
    }
  });

  it('ignores comments, unknown fields, [DONE], broken JSON and events without usage', () => {
    const text =
      ': comment\n\nid: 7\nretry: 100\nevent: x\ndata: {"usage": {broken\n\n' +
      'data: {"type":"response.output_text.delta","delta":"hi"}\n\ndata: [DONE]\n\n';
    expect(eventsOf(text, [3, 17, 40])).toEqual([]);
  });

  it('dispatches an event left unterminated at the end of the stream, as the text parser did', () => {
    expect(eventsOf('data: {"usage":{"prompt_tokens":1}}', [5])).toEqual([{ usage: { prompt_tokens: 1 } }]);
    expect(eventsOf('data: {"usage":{"prompt_tokens":1}}\r', [])).toEqual([{ usage: { prompt_tokens: 1 } }]);
  });
});
