import {
  callsFromResponse,
  callsFromStreamEvent,
  chatUsage,
  imageUsage,
  isImageModel,
  providerCostOf,
  operationOf,
  requestFacts,
  responsesUsage,
  StreamTally,
} from './usage';
import { LONG_STRING, parseSkimmed, withoutLongStrings } from './skim';
import { detectProvider, normalizeModel, azureDeployment, providerDetector } from './provider';
import { sseObserver } from './sse';
import { takeAttributionHeaders, tokentally } from './context';
import { uuidv7 } from './uuid7';

describe('usage extraction', () => {
  it('reads a real Images API usage: output without details is image output', () => {
    const usage = imageUsage({
      input_tokens: 22,
      input_tokens_details: { image_tokens: 0, text_tokens: 22 },
      output_tokens: 272,
      total_tokens: 294,
    });
    expect(usage).toEqual({
      input_text_tokens: 22,
      cached_input_text_tokens: 0,
      input_image_tokens: 0,
      cached_input_image_tokens: 0,
      output_image_tokens: 272,
      output_text_tokens: 0,
    });
  });

  it('splits output when the response gives output_tokens_details', () => {
    const usage = imageUsage({
      input_tokens: 10,
      input_tokens_details: { text_tokens: 10, image_tokens: 0 },
      output_tokens: 4300,
      output_tokens_details: { image_tokens: 4160, text_tokens: 140 },
    });
    expect(usage).toMatchObject({ output_image_tokens: 4160, output_text_tokens: 140 });
  });

  it('takes cached input out of the input kinds (disjoint kinds)', () => {
    const usage = imageUsage({
      input_tokens: 1410,
      input_tokens_details: {
        text_tokens: 120,
        image_tokens: 1290,
        cached_tokens: 1100,
        cached_tokens_details: { text_tokens: 100, image_tokens: 1000 },
      },
      output_tokens: 0,
    });
    expect(usage).toMatchObject({
      input_text_tokens: 20,
      cached_input_text_tokens: 100,
      input_image_tokens: 290,
      cached_input_image_tokens: 1000,
    });
  });

  it('maps Responses usage: cached tokens are a subset of input tokens', () => {
    expect(
      responsesUsage(
        { input_tokens: 2100, input_tokens_details: { cached_tokens: 1000 }, output_tokens: 180 },
        'gpt-5',
      ),
    ).toMatchObject({
      input_text_tokens: 1100,
      cached_input_text_tokens: 1000,
      output_text_tokens: 180,
      output_image_tokens: 0,
    });
  });

  it('maps Chat Completions usage with image and cached prompt tokens', () => {
    expect(
      chatUsage(
        {
          prompt_tokens: 1500,
          prompt_tokens_details: { cached_tokens: 1000, image_tokens: 300 },
          completion_tokens: 50,
        },
        'gpt-4.1',
      ),
    ).toMatchObject({
      input_text_tokens: 200,
      cached_input_text_tokens: 1000,
      input_image_tokens: 300,
      output_text_tokens: 50,
    });
  });

  it('never yields negative or fractional counts from odd input', () => {
    const usage = imageUsage({
      input_tokens: -5,
      input_tokens_details: { text_tokens: 3.7, image_tokens: 'x' },
      output_tokens: null,
    });
    expect(Object.values(usage).every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
  });

  it('knows the tracked operations by path', () => {
    expect(operationOf('/v1/images/generations')).toBe('images.generate');
    expect(operationOf('/openai/deployments/img/images/edits')).toBe('images.edit');
    expect(operationOf('/v1/responses')).toBe('responses.create');
    expect(operationOf('/api/v1/chat/completions')).toBe('chat.completions.create');
    expect(operationOf('/v1/embeddings')).toBeNull();
    expect(operationOf('/v1/responses/resp_1')).toBeNull();
  });

  it('takes the model from the request, since the Images response has none', () => {
    const facts = requestFacts({ model: 'gpt-image-2', size: '1536x1024', quality: 'low' });
    const [call] = callsFromResponse('images.generate', facts, {
      created: 1,
      data: [{ b64_json: 'x' }, { b64_json: 'y' }],
      usage: { input_tokens: 5, output_tokens: 400 },
    });
    expect(call).toMatchObject({
      model: 'gpt-image-2',
      images: 2,
      image_size: '1536x1024',
      image_quality: 'low',
      usage: { input_text_tokens: 5, output_image_tokens: 400 },
    });
  });

  it('finds usage only in the completed event of an image stream', () => {
    const facts = requestFacts({ model: 'gpt-image-2', stream: true });
    expect(
      callsFromStreamEvent('images.generate', facts, { type: 'image_generation.partial_image', b64_json: 'x' }),
    ).toBeNull();
    expect(
      callsFromStreamEvent('images.edit', facts, {
        type: 'image_edit.completed',
        usage: { input_tokens: 3, output_tokens: 272 },
        size: '1024x1024',
      }),
    ).toEqual([
      expect.objectContaining({
        model: 'gpt-image-2',
        usage: expect.objectContaining({ output_image_tokens: 272 }),
        images: 1,
        image_size: '1024x1024',
      }),
    ]);
  });

  it('defaults the image tool model when the request names none', () => {
    const facts = requestFacts({ model: 'gpt-5', tools: [{ type: 'image_generation' }] });
    const calls = callsFromResponse('responses.create', facts, {
      model: 'gpt-5',
      output: [{ type: 'image_generation_call' }],
      usage: { input_tokens: 1, output_tokens: 1 },
    });
    expect(calls.map((c) => c.model)).toEqual(['gpt-5', 'gpt-image-1']);
  });
});

/**
 * Each shape of OpenAI's published image schemas (openai/openai-openapi, the
 * fixture test/fixtures/real/openai-openapi-images.json), with every required
 * field; test/conformance runs the same shapes through the real client and server.
 */
describe('usage extraction per the published schema', () => {
  const six = (given: Partial<Record<string, number>> = {}) => ({
    input_text_tokens: 0,
    cached_input_text_tokens: 0,
    input_image_tokens: 0,
    cached_input_image_tokens: 0,
    output_image_tokens: 0,
    output_text_tokens: 0,
    ...given,
  });
  const b64 = 'iVBORw0KGgo' + 'A'.repeat(4000);
  const completedCommon = {
    b64_json: b64,
    created_at: 1713833628,
    size: '1024x1024',
    quality: 'high',
    background: 'transparent',
    output_format: 'png',
  };
  const imagesUsage = (input: number, text: number, image: number, output: number) => ({
    total_tokens: input + output,
    input_tokens: input,
    output_tokens: output,
    input_tokens_details: { text_tokens: text, image_tokens: image },
  });

  it('ImagesResponse with ImageGenUsage.output_tokens_details: image and text output apart, size and quality from the answer', () => {
    const facts = requestFacts({ model: 'gpt-image-2', size: 'auto', quality: 'auto' });
    const body = {
      created: 1713833628,
      data: [{ b64_json: b64 }],
      background: 'transparent',
      output_format: 'png',
      size: '1536x1024',
      quality: 'high',
      usage: { ...imagesUsage(52, 52, 0, 6300), output_tokens_details: { image_tokens: 6208, text_tokens: 92 } },
    };
    expect(callsFromResponse('images.generate', facts, body)).toEqual([
      {
        model: 'gpt-image-2',
        usage: six({ input_text_tokens: 52, output_image_tokens: 6208, output_text_tokens: 92 }),
        images: 1,
        image_size: '1536x1024',
        image_quality: 'high',
      },
    ]);
  });

  it('ImagesResponse without output_tokens_details: every output token is image output', () => {
    const body = {
      created: 1,
      data: [{ b64_json: b64 }, { b64_json: b64 }],
      size: '1024x1024',
      quality: 'medium',
      usage: imagesUsage(1370, 80, 1290, 2112),
    };
    const [call] = callsFromResponse('images.edit', requestFacts({ model: 'gpt-image-2' }), body);
    expect(call).toEqual({
      model: 'gpt-image-2',
      usage: six({ input_text_tokens: 80, input_image_tokens: 1290, output_image_tokens: 2112 }),
      images: 2,
      image_size: '1024x1024',
      image_quality: 'medium',
    });
  });

  it('ImagesResponse with only `created` and its images: zero tokens (priced per image by the server), size and quality from the request', () => {
    const [call] = callsFromResponse(
      'images.generate',
      requestFacts({ model: 'gpt-image-2', size: '1024x1024', quality: 'low' }),
      { created: 1, data: [{ b64_json: b64 }] },
    );
    expect(call).toEqual({
      model: 'gpt-image-2',
      usage: six(),
      images: 1,
      image_size: '1024x1024',
      image_quality: 'low',
    });
  });

  it.each([
    ['image_generation', 'images.generate'],
    ['image_edit', 'images.edit'],
  ] as const)(
    '%s stream: partial images carry no usage, the completed event (ImagesUsage) is one image',
    (prefix, operation) => {
      const tally = new StreamTally(operation, requestFacts({ model: 'gpt-image-2', stream: true }));
      for (const i of [0, 1])
        tally.add({ type: `${prefix}.partial_image`, ...completedCommon, partial_image_index: i });
      expect(tally.calls()).toEqual([]);
      tally.add({ type: `${prefix}.completed`, ...completedCommon, usage: imagesUsage(50, 10, 40, 50) });
      expect(tally.calls()).toEqual([
        {
          model: 'gpt-image-2',
          usage: six({ input_text_tokens: 10, input_image_tokens: 40, output_image_tokens: 50 }),
          images: 1,
          image_size: '1024x1024',
          image_quality: 'high',
        },
      ]);
    },
  );

  it('a stream with n=2 has one completed event per image: both images and both usages, once each', () => {
    const tally = new StreamTally('images.generate', requestFacts({ model: 'gpt-image-2', stream: true, n: 2 }));
    const completed = { type: 'image_generation.completed', ...completedCommon, usage: imagesUsage(9, 9, 0, 372) };
    tally.add({ type: 'image_generation.partial_image', ...completedCommon, partial_image_index: 0 });
    tally.add(completed);
    tally.add({ type: 'image_generation.partial_image', ...completedCommon, partial_image_index: 0 });
    tally.add(completed);
    expect(tally.calls()).toEqual([
      {
        model: 'gpt-image-2',
        usage: six({ input_text_tokens: 18, output_image_tokens: 744 }),
        images: 2,
        image_size: '1024x1024',
        image_quality: 'high',
      },
    ]);
    expect(tally.calls()).toEqual(tally.calls()); // reading does not count again
  });

  describe('Responses API, image_generation_call (ImageGenToolCall: type, id, status, result; no usage, size or quality)', () => {
    const facts = requestFacts({
      model: 'gpt-5',
      tools: [{ type: 'image_generation', model: 'gpt-image-2', size: '1024x1536', quality: 'low' }],
    });
    const mainUsage = {
      input_tokens: 2100,
      input_tokens_details: { cached_tokens: 1000 },
      output_tokens: 180,
      output_tokens_details: { reasoning_tokens: 64 },
      total_tokens: 2280,
    };
    const item = (status: string, result: string | null, id = 'ig_1') => ({
      type: 'image_generation_call',
      id,
      status,
      result,
    });
    const mainCall = {
      model: 'gpt-5-2025-08-07',
      usage: six({ input_text_tokens: 1100, cached_input_text_tokens: 1000, output_text_tokens: 180 }),
    };

    it('without tool usage: images made, size and quality from the tool config, all-zero tokens', () => {
      const calls = callsFromResponse('responses.create', facts, {
        model: 'gpt-5-2025-08-07',
        output: [item('completed', b64)],
        usage: mainUsage,
      });
      expect(calls).toEqual([
        mainCall,
        {
          model: 'gpt-image-2',
          usage: six(),
          images: 1,
          image_size: '1024x1536',
          image_quality: 'low',
          part: 'image_generation',
        },
      ]);
    });

    it('with tool_usage.image_gen (real traffic, not in the schema): the tool call has its tokens', () => {
      const tool_usage = {
        image_gen: { ...imagesUsage(40, 40, 0, 4160), output_tokens_details: { image_tokens: 4160, text_tokens: 0 } },
      };
      const [, tool] = callsFromResponse('responses.create', facts, {
        model: 'gpt-5-2025-08-07',
        output: [item('completed', b64)],
        usage: mainUsage,
        tool_usage,
      });
      expect(tool).toMatchObject({
        model: 'gpt-image-2',
        usage: six({ input_text_tokens: 40, output_image_tokens: 4160 }),
        images: 1,
      });
    });

    it('counts only calls with a result; a tool call that made no image is a failed part', () => {
      const output = [item('completed', b64, 'ig_1'), item('failed', null, 'ig_2'), item('completed', b64, 'ig_3')];
      expect(callsFromResponse('responses.create', facts, { output, usage: mainUsage })[1]).toMatchObject({
        images: 2,
      });
      expect(
        callsFromResponse('responses.create', facts, { output: [item('failed', null)], usage: mainUsage })[1],
      ).toEqual({
        model: 'gpt-image-2',
        usage: six(),
        images: 0,
        image_size: '1024x1536',
        image_quality: 'low',
        part: 'image_generation',
        status: 'error',
      });
    });

    it('the tool model defaults to gpt-image-1; no size or quality is made up', () => {
      const bare = requestFacts({ model: 'gpt-5', tools: [{ type: 'image_generation' }] });
      const [, tool] = callsFromResponse('responses.create', bare, {
        output: [item('completed', b64)],
        usage: mainUsage,
      });
      expect(tool).toEqual({
        model: 'gpt-image-1',
        usage: six(),
        images: 1,
        image_size: undefined,
        image_quality: undefined,
        part: 'image_generation',
      });
    });

    it('takes size and quality from the item when a server adds them (what was made beats what was asked)', () => {
      const output = [{ ...item('completed', b64), size: '1024x1024', quality: 'high' }];
      expect(callsFromResponse('responses.create', facts, { output, usage: mainUsage })[1]).toMatchObject({
        image_size: '1024x1024',
        image_quality: 'high',
      });
    });

    it('streamed: response.completed gives the same calls as the JSON answer; response.created (usage null) none', () => {
      const response = { model: 'gpt-5-2025-08-07', output: [item('completed', b64)], usage: mainUsage };
      const tally = new StreamTally('responses.create', facts);
      tally.add({ type: 'response.created', response: { ...response, output: [], usage: null } });
      expect(tally.calls()).toEqual([]);
      tally.add({ type: 'response.completed', sequence_number: 9, response });
      expect(tally.calls()).toEqual(callsFromResponse('responses.create', facts, response));
    });
  });

  it('reads the image tool config from a large request with inline images, without parsing the images', () => {
    const image = 'A'.repeat(2_000_000);
    const body = JSON.stringify({
      model: 'gpt-5',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'say "hi" \\ then draw' },
            { type: 'input_image', image_url: `data:image/png;base64,${image}` },
          ],
        },
      ],
      tools: [{ type: 'image_generation', model: 'gpt-image-2', size: '1024x1536', quality: 'medium' }],
      stream: true,
    });
    const skimmed = withoutLongStrings(body);
    expect(skimmed.length).toBeLessThan(400);
    expect(requestFacts(parseSkimmed(body) as Record<string, unknown>)).toEqual({
      model: 'gpt-5',
      stream: true,
      size: null,
      quality: null,
      imageToolModel: 'gpt-image-2',
      imageToolSize: '1024x1536',
      imageToolQuality: 'medium',
    });
  });
});

describe('withoutLongStrings', () => {
  it('replaces only long string literals, with a non-empty string, and respects escapes', () => {
    const long = 'x'.repeat(2000);
    const text = JSON.stringify({ a: long, b: 'short "quoted" \\', c: [long, 1, null], [`k${'"'.repeat(3)}`]: 'v' });
    const parsed = JSON.parse(withoutLongStrings(text)) as Record<string, unknown>;
    expect(parsed).toEqual({
      a: JSON.parse(LONG_STRING),
      b: 'short "quoted" \\',
      c: [JSON.parse(LONG_STRING), 1, null],
      'k"""': 'v',
    });
    expect(JSON.parse(LONG_STRING)).not.toBe('');
  });

  it('handles a long string that ends in escaped backslashes or holds escaped quotes', () => {
    const tricky = 'y'.repeat(1500) + '\\"' + 'z'.repeat(10) + '\\\\';
    expect(JSON.parse(withoutLongStrings(JSON.stringify({ t: tricky, u: 'after' })))).toEqual({
      t: JSON.parse(LONG_STRING),
      u: 'after',
    });
  });

  it('leaves text it cannot read alone, for JSON.parse to judge', () => {
    expect(withoutLongStrings('{"a": "unterminated')).toBe('{"a": "unterminated');
    expect(withoutLongStrings('{"a":1}')).toBe('{"a":1}');
  });
});

describe('provider detection', () => {
  it.each([
    ['https://api.openai.com/v1/images/generations', 'openai'],
    ['https://ai-gateway.vercel.sh/v1/images/generations', 'vercel'],
    ['https://openrouter.ai/api/v1/chat/completions', 'openrouter'],
    [
      'https://my-res.openai.azure.com/openai/deployments/img/images/generations?api-version=2025-04-01-preview',
      'azure',
    ],
    ['http://llm-proxy.internal:8080/v1/images/generations', 'llm-proxy.internal'],
    ['https://generativelanguage.googleapis.com/v1beta/openai/chat/completions', 'google'],
    // The API's own path shape, whatever the host (a proxy, a private endpoint, a local stand-in).
    ['http://127.0.0.1:4100/openai/deployments/img-prod/images/generations?api-version=2025-04-01-preview', 'azure'],
    // `/api/v1/` is not OpenRouter's alone (Venice and others use it): only its host says OpenRouter.
    ['http://127.0.0.1:4100/api/v1/chat/completions', '127.0.0.1'],
    ['https://api.venice.ai/api/v1/images/generations', 'api.venice.ai'],
    ['http://gemini-proxy.internal/v1beta/openai/images/generations', 'google'],
    ['http://127.0.0.1:4100/v1/images/generations', '127.0.0.1'],
  ])('%s is %s', (url, provider) => expect(detectProvider(url)).toBe(provider));

  it('keeps a host-based answer per origin, but reads a path-based one per call', () => {
    const detect = providerDetector();
    expect(detect('http://127.0.0.1:4100/openai/deployments/img/images/generations')).toBe('azure');
    expect(detect('http://127.0.0.1:4100/v1/images/generations')).toBe('127.0.0.1');
    expect(detect('http://127.0.0.1:4100/v1beta/openai/chat/completions')).toBe('google');
    expect(detect('https://api.openai.com/v1/images/generations')).toBe('openai');
    expect(detect('https://api.openai.com/api/v1/whatever')).toBe('openai');
  });

  it('knows the image models of every provider, and no text model', () => {
    for (const model of [
      'gpt-image-2',
      'chatgpt-image-latest',
      'dall-e-3',
      'imagen-4.0-generate-001',
      'gemini-2.5-flash-image',
      'google/gemini-3-pro-image-preview',
      'openai/gpt-5-image-mini',
      'gpt-5.4-image-2',
    ])
      expect([model, isImageModel(model)]).toEqual([model, true]);
    for (const model of ['gpt-5', 'gemini-2.5-flash', 'gpt-4o-mini', 'imagery-bot', null])
      expect([model, isImageModel(model)]).toEqual([model, false]);
  });

  it('normalises gateway model names and reads Azure deployments', () => {
    expect(normalizeModel('openai/gpt-image-2')).toBe('gpt-image-2');
    expect(azureDeployment('https://x.openai.azure.com/openai/deployments/gpt-image-2-prod/images/edits')).toBe(
      'gpt-image-2-prod',
    );
  });
});

describe('sseObserver', () => {
  async function run(chunks: string[]) {
    const seen: Array<Record<string, unknown>> = [];
    let ended = false;
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
        controller.close();
      },
    });
    const out = source.pipeThrough(
      sseObserver(
        (data) => seen.push(data),
        () => (ended = true),
      ),
    );
    let passed = '';
    const decoder = new TextDecoder();
    for await (const chunk of out as unknown as AsyncIterable<Uint8Array>)
      passed += decoder.decode(chunk, { stream: true });
    return { seen, ended, passed };
  }

  it('passes bytes through unchanged and finds usage split across chunks and CRLF lines', async () => {
    const chunks = [
      'event: image_generation.partial_image\r\ndata: {"type":"image_generation.partial_image","b64',
      '_json":"AAA"}\r\n\r\nevent: image_gene',
      'ration.completed\ndata: {"type":"image_generation.completed","usage":{"input_tokens":1,"output_tokens":272}}\n\n',
    ];
    const { seen, ended, passed } = await run(chunks);
    expect(passed).toBe(chunks.join(''));
    expect(seen).toEqual([{ type: 'image_generation.completed', usage: { input_tokens: 1, output_tokens: 272 } }]);
    expect(ended).toBe(true);
  });

  it('finds the usage of a real-size event split over many chunks, and passes every byte through', async () => {
    const image = 'A'.repeat(1_500_000);
    const text =
      `event: image_generation.partial_image\r\ndata: ${JSON.stringify({ type: 'image_generation.partial_image', b64_json: image, partial_image_index: 0 })}\r\n\r\n` +
      `event: image_generation.completed\r\ndata: ${JSON.stringify({ type: 'image_generation.completed', b64_json: image, usage: { input_tokens: 9, output_tokens: 272 } })}\r\n\r\n`;
    const chunks: string[] = [];
    for (let at = 0; at < text.length; at += 16 * 1024) chunks.push(text.slice(at, at + 16 * 1024));
    const { seen, passed } = await run(chunks);
    expect(passed.length).toBe(text.length);
    expect(passed === text).toBe(true);
    expect(seen).toEqual([
      {
        type: 'image_generation.completed',
        b64_json: expect.any(String),
        usage: { input_tokens: 9, output_tokens: 272 },
      },
    ]);
  });

  it('stays linear on multi-megabyte lines (searching all pending text on every chunk was quadratic)', async () => {
    const image = 'A'.repeat(3_000_000); // the large end of real answers
    const text = `data: ${JSON.stringify({ type: 'image_generation.partial_image', b64_json: image })}\n\n`.repeat(4);
    const bytes: Uint8Array[] = [];
    for (let at = 0; at < text.length; at += 16 * 1024)
      bytes.push(new TextEncoder().encode(text.slice(at, at + 16 * 1024)));
    const time = async (transform: () => TransformStream<Uint8Array, Uint8Array>) => {
      const source = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of bytes) controller.enqueue(chunk);
          controller.close();
        },
      });
      const started = performance.now();
      for await (const chunk of source.pipeThrough(transform()) as unknown as AsyncIterable<Uint8Array>) void chunk;
      return performance.now() - started;
    };
    // The floor: the same bytes decoded as they pass, and nothing else.
    const decodeOnly = () => {
      const decoder = new TextDecoder();
      return new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, controller) => void (controller.enqueue(chunk), decoder.decode(chunk, { stream: true })),
      });
    };
    const floor = Math.min(await time(decodeOnly), await time(decodeOnly));
    const observed = Math.min(
      await time(() =>
        sseObserver(
          () => undefined,
          () => undefined,
        ),
      ),
      await time(() =>
        sseObserver(
          () => undefined,
          () => undefined,
        ),
      ),
    );
    expect(observed).toBeLessThan(10 * floor + 100);
  });

  it('ignores [DONE], comments and broken JSON', async () => {
    const { seen } = await run([': keep-alive\n\n', 'data: {"usage": {broken\n\n', 'data: [DONE]\n\n']);
    expect(seen).toEqual([]);
  });
});

describe('attribution', () => {
  it('reads and strips X-TokenTally headers, leaving the others', () => {
    const { attribution, headers } = takeAttributionHeaders({
      Authorization: 'Bearer sk',
      'X-TokenTally-User': 'u1',
      'x-tokentally-tags': 'a=1, b=two%2Cthree',
    });
    expect(attribution).toEqual({ user: 'u1', tags: { a: '1', b: 'two,three' } });
    expect([...headers!.keys()]).toEqual(['authorization']);
    expect(takeAttributionHeaders({ Authorization: 'x' })).toEqual({ attribution: null, headers: null });
  });

  it('merges nested runs', () => {
    const inner = tokentally.run({ team: 't', tags: { a: '1' } }, () =>
      tokentally.run({ user: 'u', tags: { b: '2' } }, () => tokentally.current()),
    );
    expect(inner).toEqual({ team: 't', user: 'u', tags: { a: '1', b: '2' } });
    expect(tokentally.current()).toBeUndefined();
  });
});

describe('uuidv7', () => {
  it('is a version 7 UUID ordered by time', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
  });
});

describe('a cost the provider reports', () => {
  it.each([
    [{ cost: 0.0387243 }, '0.0387243'],
    [{ cost: 0 }, '0'],
    [{ cost: 1.5e-7 }, '0.00000015'],
    [{ cost: 2.5e-11 }, '0.000000000025'],
    [{ cost: 12 }, '12'],
    [{ cost: '0.17' }, '0.17'],
    [{ cost: -0.01 }, undefined],
    [{ cost: Number.NaN }, undefined],
    [{ cost: 1e21 }, undefined],
    [{ cost: 5.833333333333334e-7 }, '0.0000005833333333333334'], // a float's noise, kept as the provider wrote it
    [{ cost: 0.30000000000000004 }, '0.30000000000000004'],
    [{ cost: 0.0000123456789 }, '0.0000123456789'],
    [{ cost: 1e-25 }, undefined], // more than 24 decimals: not an amount the ingest API takes
    [{ cost: '1e-3' }, undefined],
    [{ cost: true }, undefined],
    [{}, undefined],
    [null, undefined],
  ])('usage %j gives %s', (usage, expected) => expect(providerCostOf(usage)).toBe(expected));

  it("is read from OpenRouter's chat answer and its stream, with its image tokens apart from the text", () => {
    const usage = {
      prompt_tokens: 6,
      completion_tokens: 1299,
      completion_tokens_details: { reasoning_tokens: 0, image_tokens: 1290 },
      cost: 0.0387243,
    };
    const facts = requestFacts({ model: 'google/gemini-2.5-flash-image' });
    const answer = {
      model: 'google/gemini-2.5-flash-image',
      choices: [{ message: { images: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] } }],
      usage,
    };
    const expected = {
      model: 'google/gemini-2.5-flash-image',
      usage: { ...chatUsage({}, null), input_text_tokens: 6, output_image_tokens: 1290, output_text_tokens: 9 },
      provider_cost_usd: '0.0387243',
    };
    expect(callsFromResponse('chat.completions.create', facts, answer)).toEqual([{ ...expected, images: 1 }]);
    expect(callsFromStreamEvent('chat.completions.create', facts, { model: answer.model, usage })).toEqual([expected]);
  });
});
