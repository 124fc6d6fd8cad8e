import fc from 'fast-check';
import { JsonAnswer, StreamAnswer } from './answers';
import { TokenTallyClient } from './client';
import { tokenTallyFetch } from './fetch';
import { ByteBuilder } from './skim';
import { TokenTallyError, UsageEvent } from './types';
import { callsFromResponse, ExtractedCall, Operation, requestFacts } from './usage';
import {
  b64,
  IMAGE_USAGE as USAGE,
  imageAnswer,
  imageStream,
  sseEvent,
} from '../../../test/fakes/openai-image-answers';

const utf8 = new TextEncoder();
const IMAGES_URL = 'https://api.openai.com/v1/images/generations';
const REQUEST = { model: 'gpt-image-2', prompt: 'a fox', size: '1024x1024', quality: 'high' };
const SIX = {
  input_text_tokens: 12,
  cached_input_text_tokens: 0,
  input_image_tokens: 0,
  cached_input_image_tokens: 0,
  output_image_tokens: 4160,
  output_text_tokens: 0,
};
const NONE = { ...SIX, input_text_tokens: 0, output_image_tokens: 0 };

/** A Response whose body arrives in `chunkBytes` pieces, as the network gives it. */
function answerOf(text: string, type = 'application/json', chunkBytes = 64 * 1024): Response {
  const bytes = utf8.encode(text);
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, (at += chunkBytes)));
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': type } });
}

/** The middleware over a fake OpenAI whose answers `answer` makes; events are caught as they are queued. */
function middleware(answer: (url: string) => Response | Promise<Response>) {
  const tally = new TokenTallyClient({ endpoint: 'http://tokentally.test', apiKey: 'tt_key', flushOnExit: false });
  const events: UsageEvent[] = [];
  jest.spyOn(tally, 'enqueue').mockImplementation((event) => (events.push(event), event.event_id));
  const errors: TokenTallyError[] = [];
  const fetch = tokenTallyFetch({
    endpoint: 'http://tokentally.test',
    apiKey: 'tt_key',
    client: tally,
    dimensions: { team: 'growth' },
    onError: (error) => errors.push(error),
    fetch: async (input) => answer(String(input)),
  });
  const call = (body: Record<string, unknown> = REQUEST, url = IMAGES_URL) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { call, events, errors, tally };
}

/** Reads a Response the way each kind of client does. */
const READS: Record<string, (response: Response) => Promise<unknown>> = {
  'json()': (r) => r.json(),
  'text()': (r) => r.text(),
  'arrayBuffer()': async (r) => new Uint8Array(await r.arrayBuffer()),
  'bytes()': (r) => r.bytes(),
  'blob()': async (r) => new Uint8Array(await (await r.blob()).arrayBuffer()),
  'the body stream': async (r) => {
    const pieces: Uint8Array[] = [];
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) pieces.push(chunk);
    return new Uint8Array(Buffer.concat(pieces));
  },
};

/** Bytes compared as bytes (toEqual walks a 2 MB array element by element for a minute). */
function expectSame(actual: unknown, expected: unknown) {
  if (actual instanceof Uint8Array && expected instanceof Uint8Array) {
    expect(Buffer.from(actual).equals(Buffer.from(expected))).toBe(true);
  } else {
    expect(actual).toEqual(expected);
  }
}

/** A garbage collector, from --expose-gc or, failing that, from V8's flag set now. */
function garbageCollector(): (() => void) | null {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('node:v8').setFlagsFromString('--expose-gc');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const gc = require('node:vm').runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}
const gc = garbageCollector();
/** Tests that need a garbage collection run only where one can be had (node --expose-gc, or V8 flags at run time). */
const withGc = gc ? it : it.skip;
if (!gc)
  console.warn('no garbage collector exposed (run jest under node --expose-gc): the unread-body tests are skipped');

async function collectUntil(done: () => boolean) {
  for (let i = 0; i < 50 && !done(); i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('tokenTallyFetch hands back the caller’s own Response', () => {
  it('the same object, prototype, headers, status and url, with no enumerable property added', async () => {
    const original = answerOf(imageAnswer('QUFB'));
    Object.defineProperty(original, 'url', { value: IMAGES_URL });
    const headers = original.headers;
    const { call } = middleware(() => original);
    const response = await call();
    expect(response).toBe(original);
    expect(response).toBeInstanceOf(Response);
    expect(Object.getPrototypeOf(response)).toBe(Response.prototype);
    expect(response.headers).toBe(headers);
    expect([response.status, response.ok, response.url, response.bodyUsed]).toEqual([200, true, IMAGES_URL, false]);
    expect(Object.keys(response)).toEqual([]);
    expect((await response.json()).data[0].b64_json).toBe('QUFB');
    expect(response.bodyUsed).toBe(true);
  });

  it('records the same event whether the answer is read by json(), text(), arrayBuffer(), bytes(), blob() or its body, and gives each read what it gives without the middleware', async () => {
    const text = imageAnswer();
    const seen: Record<string, UsageEvent> = {};
    for (const [how, read] of Object.entries(READS)) {
      const { call, events, tally } = middleware(() => answerOf(text));
      expectSame(await read(await call()), await read(answerOf(text)));
      await tally.flush(); // blob() is read back after the caller has it
      expect(events).toHaveLength(1);
      const { event_id, latency_ms, ...event } = events[0];
      expect(event_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(latency_ms).toEqual(expect.any(Number));
      seen[how] = event as UsageEvent;
    }
    expect(seen['json()']).toEqual({
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      provider: 'openai',
      model: 'gpt-image-2',
      operation: 'images.generate',
      usage: SIX,
      images: 1,
      image_size: '1024x1024',
      image_quality: 'high',
      status: 'ok',
      dimensions: { team: 'growth' },
      tags: undefined,
    });
    for (const how of Object.keys(READS))
      expect({ how, ...seen[how] }).toEqual({ how, ...seen['json()'], timestamp: seen[how].timestamp });
  });

  it('reads usage from a 2 MB b64_json answer without parsing or copying the image', async () => {
    const text = imageAnswer();
    for (const how of ['json()', 'text()', 'arrayBuffer()', 'the body stream']) {
      const { call, events } = middleware(() => answerOf(text));
      const response = await call();
      const append = jest.spyOn(ByteBuilder.prototype, 'append');
      const parse = jest.spyOn(JSON, 'parse');
      try {
        await READS[how](response);
        const copied = append.mock.calls.reduce((sum, [s, from, to]) => sum + ((to ?? s.length) - (from ?? 0)), 0);
        const parsed = parse.mock.calls.reduce((sum, [s]) => sum + s.length, 0);
        expect({ how, copied: copied < 2048, parsed: parsed < 2048 }).toEqual({ how, copied: true, parsed: true });
        if (how === 'json()') expect({ copied, parsed }).toEqual({ copied: 0, parsed: 0 }); // usage read from the caller's object
      } finally {
        append.mockRestore();
        parse.mockRestore();
      }
      expect(events[0].usage).toEqual(SIX);
    }
  });

  it('is not fooled by escaped characters, or by "usage" and quotes inside other strings', async () => {
    const decoy = 'draw \\"this\\" "usage": {"output_tokens": 99}, \\\\ "usage":{"input_tokens":7} é😀 ';
    const text = JSON.stringify({
      usage: USAGE, // before the images this time
      data: [
        { b64_json: b64(300_000), revised_prompt: decoy },
        { b64_json: b64(2000), revised_prompt: decoy.repeat(40) }, // a long string with escapes in it
      ],
      note: '"usage": {"output_tokens": 1}',
      size: '1536x1024',
      quality: 'medium',
    });
    for (const [how, read] of Object.entries(READS)) {
      const { call, events, tally } = middleware(() => answerOf(text, 'application/json', 1000));
      await read(await call());
      await tally.flush();
      expect({ how, usage: events[0].usage, images: events[0].images, size: events[0].image_size }).toEqual({
        how,
        usage: SIX,
        images: 2,
        size: '1536x1024',
      });
    }
  });

  it('a second read fails as it does without the middleware, and the call is recorded once', async () => {
    const { call, events } = middleware(() => answerOf(imageAnswer('QUFB')));
    const response = await call();
    await response.json();
    const plain = answerOf('{}');
    await plain.json();
    const native = await plain.text().catch((error: Error) => error.constructor);
    await expect(response.text()).rejects.toBeInstanceOf(native as new () => Error);
    await expect(response.arrayBuffer()).rejects.toBeInstanceOf(native as new () => Error);
    expect(events).toHaveLength(1);
  });

  it('clone() before the read still works, with the body touched or not, and the call is recorded once with its usage', async () => {
    for (const touched of [false, true]) {
      const { call, events } = middleware(() => answerOf(imageAnswer('QUFB')));
      const response = await call();
      if (touched) void response.body; // the body stream handed out, not read: clone() must still work
      const copy = response.clone();
      expect((await copy.json()).data).toHaveLength(1);
      expect((await response.json()).usage).toEqual(USAGE);
      expect({ touched, usage: events.map((e) => e.usage) }).toEqual({ touched, usage: [SIX] });
    }
  });

  it('a body that fails while being read is recorded as an error, and the caller gets the failure', async () => {
    const { call, events } = middleware(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(utf8.encode('{"data":[{"b64_json":"QUFB'));
              controller.error(new Error('connection reset'));
            },
          }),
          { headers: { 'content-type': 'application/json' } },
        ),
    );
    await expect((await call()).json()).rejects.toThrow('connection reset');
    expect(events.map((e) => [e.status, e.usage])).toEqual([['error', NONE]]);
  });

  it('a Response that takes no own properties is recorded at once, without usage, and reads as before', async () => {
    const { call, events, errors } = middleware(() => Object.preventExtensions(answerOf(imageAnswer('QUFB'))));
    const response = await call();
    expect(events.map((e) => [e.status, e.usage])).toEqual([['ok', NONE]]);
    expect(errors.map((e) => e.type)).toEqual(['internal']);
    expect((await response.json()).usage).toEqual(USAGE);
    expect(events).toHaveLength(1);
  });

  it('records a refused call (HTTP 400) and a call that got no answer at once, as errors with no tokens', async () => {
    const refused = middleware(
      () => new Response('{"error":{}}', { status: 400, headers: { 'content-type': 'application/json' } }),
    );
    const response = await refused.call();
    expect(Object.getOwnPropertyNames(response)).toEqual([]); // not tapped
    expect(refused.events.map((e) => [e.status, e.usage])).toEqual([['error', NONE]]);
    const lost = middleware(() => Promise.reject(new TypeError('fetch failed')));
    await expect(lost.call()).rejects.toThrow('fetch failed');
    expect(lost.events.map((e) => [e.status, e.model])).toEqual([['error', 'gpt-image-2']]);
  });

  it('hands the request over before reading its body for the facts, which every event still carries: answered at once, later, or never', async () => {
    const parsesAtHandover: number[] = [];
    const parse = jest.spyOn(JSON, 'parse');
    const events: UsageEvent[] = [];
    const tally = new TokenTallyClient({ endpoint: 'http://tokentally.test', apiKey: 'tt_key', flushOnExit: false });
    jest.spyOn(tally, 'enqueue').mockImplementation((event) => (events.push(event), event.event_id));
    const answers: Array<() => Promise<Response>> = [
      async () => answerOf(imageAnswer(b64(1000))), // answered in the same turn of the event loop
      // answered after the deferred read of the request body
      () => new Promise((resolve) => setTimeout(() => resolve(answerOf(imageAnswer(b64(1000)))), 20)),
      () => {
        throw new TypeError('fetch failed synchronously');
      },
    ];
    let next = 0;
    const fetch = tokenTallyFetch({
      endpoint: 'http://tokentally.test',
      apiKey: 'tt_key',
      client: tally,
      fetch: () => {
        parsesAtHandover.push(parse.mock.calls.length);
        return answers[next++]();
      },
    });
    const body = JSON.stringify(REQUEST);
    try {
      for (let i = 0; i < answers.length; i++) {
        parse.mockClear();
        const call = fetch(IMAGES_URL, { method: 'POST', body });
        if (i < 2) await (await call).json();
        else await expect(call).rejects.toThrow('fetch failed synchronously');
      }
    } finally {
      parse.mockRestore();
    }
    expect(parsesAtHandover).toEqual([0, 0, 0]);
    expect(events.map((e) => [e.status, e.model, e.image_size, e.image_quality, e.usage.output_image_tokens])).toEqual([
      ['ok', 'gpt-image-2', '1024x1024', 'high', 4160],
      ['ok', 'gpt-image-2', '1024x1024', 'high', 4160],
      ['error', 'gpt-image-2', undefined, undefined, 0],
    ]);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(3);
  });

  it('leaves calls it does not track untouched, and records answers of other types without usage', async () => {
    const { call, events } = middleware((url) =>
      url.endsWith('/models')
        ? answerOf('{"data":[]}')
        : new Response('png bytes', { headers: { 'content-type': 'image/png' } }),
    );
    const models = await call({}, 'https://api.openai.com/v1/models');
    expect(Object.getOwnPropertyNames(models)).toEqual([]);
    const image = await call();
    expect(Object.getOwnPropertyNames(image)).toEqual([]);
    expect(events.map((e) => [e.operation, e.status, e.usage])).toEqual([['images.generate', 'ok', NONE]]);
  });

  withGc(
    'records a JSON answer whose body is never read when its Response is garbage-collected: ok, no usage, latency to the headers',
    async () => {
      const { call, events } = middleware(() => answerOf(imageAnswer()));
      await call().then(() => undefined); // the Response is dropped unread
      expect(events).toHaveLength(0);
      await collectUntil(() => events.length > 0);
      expect(events.map((e) => [e.status, e.usage, e.model])).toEqual([['ok', NONE, 'gpt-image-2']]);
      expect(events[0].latency_ms).toEqual(expect.any(Number));
    },
  );

  withGc('a Response that was read is never recorded again when it is garbage-collected', async () => {
    const { call, events } = middleware(() => answerOf(imageAnswer('QUFB')));
    await (await call()).json();
    const unread = middleware(() => answerOf(imageAnswer('QUFB')));
    await unread.call().then(() => undefined);
    await collectUntil(() => unread.events.length > 0); // proof that a collection ran and told its watch
    expect(unread.events).toHaveLength(1);
    expect(events).toHaveLength(1);
  });
});

/**
 * OpenAI's answer shapes, with their keys in any order, strings that hold quotes, escapes and "usage", and
 * images from none to several KB (past the 1 KB where strings are skimmed away).
 */
const tricky = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('"usage": {"output_tokens": 9}', 'say \\"hi\\"', '\\', 'é😀\n'),
);
const image = fc.oneof(
  fc.constant(''),
  fc.base64String({ maxLength: 40 }),
  fc.integer({ min: 900, max: 6000 }).map((n) => b64(n)),
);
const count = fc.nat({ max: 100_000 });
const shuffled = <T extends object>(arb: fc.Arbitrary<T>) =>
  arb.chain((value) => {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return fc
      .shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length })
      .map((e) => Object.fromEntries(e) as T);
  });
const imageUsage = shuffled(
  fc.record(
    {
      input_tokens: count,
      input_tokens_details: fc.record(
        { text_tokens: count, image_tokens: count, cached_tokens: count },
        { requiredKeys: ['text_tokens', 'image_tokens'] },
      ),
      output_tokens: count,
      total_tokens: count,
      output_tokens_details: fc.record({ image_tokens: count, text_tokens: count }),
    },
    { requiredKeys: ['input_tokens', 'output_tokens'] },
  ),
);
const size = fc.constantFrom('1024x1024', '1536x1024', 'auto');
const quality = fc.constantFrom('low', 'medium', 'high');
const answers: Record<Operation, fc.Arbitrary<Record<string, unknown>>> = {
  'images.generate': shuffled(
    fc.record(
      {
        created: count,
        data: fc.array(
          shuffled(fc.record({ b64_json: image, revised_prompt: tricky }, { requiredKeys: ['b64_json'] })),
          {
            maxLength: 3,
          },
        ),
        size,
        quality,
        output_format: fc.constantFrom('png', 'webp'),
        usage: imageUsage,
      },
      { requiredKeys: ['created'] },
    ),
  ),
  'images.edit': fc.constant({ created: 1, data: [{ b64_json: 'QUFB' }], usage: USAGE }),
  'responses.create': shuffled(
    fc.record(
      {
        id: fc.constant('resp_1'),
        model: fc.constantFrom('gpt-5', 'gpt-image-1', 'gpt-4.1'),
        output: fc.array(
          fc.oneof(
            shuffled(
              fc.record(
                {
                  type: fc.constant('image_generation_call'),
                  id: fc.constant('ig_1'),
                  status: fc.constantFrom('completed', 'failed'),
                  result: fc.option(image),
                  size,
                  quality,
                },
                { requiredKeys: ['type', 'id', 'status', 'result'] },
              ),
            ),
            fc.record({
              type: fc.constant('message'),
              content: fc.array(fc.record({ type: fc.constant('output_text'), text: tricky })),
            }),
          ),
          { maxLength: 3 },
        ),
        usage: shuffled(
          fc.record({
            input_tokens: count,
            input_tokens_details: fc.record({ cached_tokens: count }),
            output_tokens: count,
          }),
        ),
        tool_usage: fc.record({ image_gen: imageUsage }),
      },
      { requiredKeys: ['id', 'output'] },
    ),
  ),
  'chat.completions.create': shuffled(
    fc.record(
      {
        id: fc.constant('chatcmpl_1'),
        model: fc.constantFrom('gpt-4.1', 'gpt-image-1'),
        choices: fc.array(fc.record({ index: fc.nat(3), message: fc.record({ content: tricky }) }), { maxLength: 2 }),
        usage: fc.record(
          {
            prompt_tokens: count,
            completion_tokens: count,
            prompt_tokens_details: fc.record({ cached_tokens: count, image_tokens: count }),
            completion_tokens_details: fc.record({ text_tokens: count }),
          },
          { requiredKeys: ['prompt_tokens', 'completion_tokens'] },
        ),
      },
      { requiredKeys: ['id', 'choices'] },
    ),
  ),
};
const requestOf: Record<Operation, Record<string, unknown>> = {
  'images.generate': { model: 'gpt-image-2', size: '1024x1536', quality: 'low' },
  'images.edit': { model: 'gpt-image-2' },
  'responses.create': {
    model: 'gpt-5',
    tools: [{ type: 'image_generation', model: 'gpt-image-2', size: '1024x1024' }],
  },
  'chat.completions.create': { model: 'gpt-4.1' },
};

describe('usage read from what the caller read', () => {
  it('equals what callsFromResponse reads from JSON.parse of the whole answer, for any OpenAI answer read by json(), text(), arrayBuffer() or its body in any pieces (property)', () => {
    const operation = fc.constantFrom<Operation>('images.generate', 'responses.create', 'chat.completions.create');
    fc.assert(
      fc.property(
        operation.chain((op) => fc.tuple(fc.constant(op), answers[op], fc.array(fc.nat(), { maxLength: 6 }))),
        ([op, answer, cuts]) => {
          const text = JSON.stringify(answer);
          const facts = requestFacts(requestOf[op]);
          const expected = callsFromResponse(op, facts, JSON.parse(text));
          const bytes = utf8.encode(text);
          const reads: Record<string, (a: JsonAnswer) => void> = {
            json: (a) => a.parsed(JSON.parse(text)),
            text: (a) => a.text(text),
            bytes: (a) => (a.bytes(bytes), a.end()),
            pieces: (a) => {
              let at = 0;
              for (const cut of cuts.map((c) => c % (bytes.length + 1)).sort((x, y) => x - y)) {
                a.bytes(bytes.subarray(at, Math.max(at, cut)));
                at = Math.max(at, cut);
              }
              a.bytes(bytes.subarray(at));
              a.end();
            },
          };
          for (const [how, read] of Object.entries(reads)) {
            let found: ExtractedCall[] | null = null;
            read(
              new JsonAnswer({ operation: op, facts, startedPerf: 0, answeredAfterMs: 0 }, (calls) => (found = calls)),
            );
            expect({ how, found }).toEqual({ how, found: expected });
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('tokenTallyFetch on streams', () => {
  const STREAM_REQUEST = { ...REQUEST, stream: true, partial_images: 2 };

  it('records a real-size image stream (two partial images and the completed one, 2 MB each) read through its body, every byte passed through', async () => {
    const text = imageStream(2 * 1024 * 1024);
    const { call, events } = middleware(() => answerOf(text, 'text/event-stream'));
    const response = await call(STREAM_REQUEST);
    const passed = (await READS['the body stream'](response)) as Uint8Array;
    expect(passed.length).toBe(utf8.encode(text).length);
    expect(Buffer.from(passed).equals(Buffer.from(text))).toBe(true);
    expect(events.map((e) => [e.status, e.usage, e.images])).toEqual([['ok', SIX, 1]]);
  });

  it('records the stream once, with the same bytes passed, whichever way its body is read', async () => {
    const text = imageStream(40_000);
    const collect = async (chunks: AsyncIterable<Uint8Array>) => {
      const pieces: Uint8Array[] = [];
      for await (const chunk of chunks) pieces.push(chunk);
      return Buffer.concat(pieces).toString();
    };
    const ways: Record<string, (body: ReadableStream<Uint8Array>) => Promise<string>> = {
      'a reader': async (body) => {
        const reader = body.getReader();
        let out = '';
        for (let next = await reader.read(); !next.done; next = await reader.read())
          out += Buffer.from(next.value).toString();
        return out;
      },
      'for await': (body) => collect(body as unknown as AsyncIterable<Uint8Array>),
      'values()': (body) => collect((body as unknown as { values(): AsyncIterable<Uint8Array> }).values()),
      'pipeThrough()': (body) =>
        collect(
          body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>()) as unknown as AsyncIterable<Uint8Array>,
        ),
      'pipeTo()': async (body) => {
        const pieces: Uint8Array[] = [];
        await body.pipeTo(new WritableStream({ write: (chunk) => void pieces.push(chunk) }));
        return Buffer.concat(pieces).toString();
      },
      'tee()': async (body) => {
        const [left, right] = body.tee();
        const [a, b] = await Promise.all([left, right].map((s) => collect(s as unknown as AsyncIterable<Uint8Array>)));
        expect(b).toBe(a);
        return a;
      },
      'new Response(body).text()': (body) => new Response(body).text(),
    };
    for (const [way, read] of Object.entries(ways)) {
      const { call, events } = middleware(() => answerOf(text, 'text/event-stream', 4096));
      const response = await call(STREAM_REQUEST);
      expect(response.body).toBe(response.body); // the same stream each time, as undici gives it
      expect({ way, same: (await read(response.body!)) === text }).toEqual({ way, same: true });
      await new Promise((resolve) => setImmediate(resolve));
      expect({ way, events: events.map((e) => [e.status, e.usage]) }).toEqual({ way, events: [['ok', SIX]] });
      expect(response.bodyUsed).toBe(true);
    }
  });

  it('records the same usage however the stream is cut into chunks (property)', async () => {
    const text = imageStream(6000) + 'data: [DONE]\n\n';
    const bytes = utf8.encode(text);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: bytes.length }), { minLength: 1, maxLength: 12 }),
        async (sizes) => {
          let at = 0;
          let turn = 0;
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (at >= bytes.length) return controller.close();
              controller.enqueue(bytes.slice(at, (at += sizes[turn++ % sizes.length])));
            },
          });
          const { call, events } = middleware(
            () => new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
          );
          await READS['the body stream'](await call(STREAM_REQUEST));
          expect(events.map((e) => [e.status, e.usage])).toEqual([['ok', SIX]]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a stream cancelled after its completed event is recorded with its usage; one cancelled before it, as an error', async () => {
    const text = imageStream(50_000);
    const completedAt = text.indexOf('event: image_generation.completed');
    for (const [stopAfter, expected] of [
      [text.length - 2, ['ok', SIX]],
      [completedAt - 10, ['error', NONE]],
    ] as const) {
      const { call, events } = middleware(() => answerOf(text, 'text/event-stream', 1000));
      const reader = (await call(STREAM_REQUEST)).body!.getReader();
      for (let read = 0; read < stopAfter;) read += (await reader.read()).value!.length;
      await reader.cancel();
      expect(events.map((e) => [e.status, e.usage])).toEqual([expected]);
    }
  });

  it('text() of an event stream records its usage too', async () => {
    const text = imageStream(3000);
    const { call, events } = middleware(() => answerOf(text, 'text/event-stream'));
    expect(await (await call(STREAM_REQUEST)).text()).toBe(text);
    expect(events.map((e) => [e.status, e.usage])).toEqual([['ok', SIX]]);
  });

  it('an image stream that ends without its completed image is an error', () => {
    let status: string | null = null;
    const answer = new StreamAnswer(
      { operation: 'images.generate', facts: requestFacts(REQUEST), startedPerf: 0, answeredAfterMs: 0 },
      (_, s) => (status = s),
    );
    answer.bytes(
      utf8.encode(sseEvent({ type: 'image_generation.partial_image', b64_json: 'QUFB', partial_image_index: 0 })),
    );
    answer.end();
    expect(status).toBe('error');
  });

  withGc('an event stream never read is recorded as an error when its Response is garbage-collected', async () => {
    const { call, events } = middleware(() => answerOf(imageStream(1000), 'text/event-stream'));
    await call(STREAM_REQUEST).then(() => undefined);
    await collectUntil(() => events.length > 0);
    expect(events.map((e) => [e.status, e.usage])).toEqual([['error', NONE]]);
  });
});
