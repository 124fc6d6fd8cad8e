import { callsFromResponse, callsFromStreamEvent, chatUsage, imageUsage, operationOf, requestFacts, responsesUsage } from './usage';
import { detectProvider, normalizeModel, azureDeployment } from './provider';
import { sseObserver } from './sse';
import { takeAttributionHeaders, tokentally } from './context';
import { uuidv7 } from './uuid7';

describe('usage extraction', () => {
  it('reads a real Images API usage: output without details is image output', () => {
    const usage = imageUsage({ input_tokens: 22, input_tokens_details: { image_tokens: 0, text_tokens: 22 }, output_tokens: 272, total_tokens: 294 });
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
    const usage = imageUsage({ input_tokens: 10, input_tokens_details: { text_tokens: 10, image_tokens: 0 }, output_tokens: 4300, output_tokens_details: { image_tokens: 4160, text_tokens: 140 } });
    expect(usage).toMatchObject({ output_image_tokens: 4160, output_text_tokens: 140 });
  });

  it('takes cached input out of the input kinds (disjoint kinds)', () => {
    const usage = imageUsage({
      input_tokens: 1410,
      input_tokens_details: { text_tokens: 120, image_tokens: 1290, cached_tokens: 1100, cached_tokens_details: { text_tokens: 100, image_tokens: 1000 } },
      output_tokens: 0,
    });
    expect(usage).toMatchObject({ input_text_tokens: 20, cached_input_text_tokens: 100, input_image_tokens: 290, cached_input_image_tokens: 1000 });
  });

  it('maps Responses usage: cached tokens are a subset of input tokens', () => {
    expect(responsesUsage({ input_tokens: 2100, input_tokens_details: { cached_tokens: 1000 }, output_tokens: 180 }, 'gpt-5')).toMatchObject({
      input_text_tokens: 1100,
      cached_input_text_tokens: 1000,
      output_text_tokens: 180,
      output_image_tokens: 0,
    });
  });

  it('maps Chat Completions usage with image and cached prompt tokens', () => {
    expect(chatUsage({ prompt_tokens: 1500, prompt_tokens_details: { cached_tokens: 1000, image_tokens: 300 }, completion_tokens: 50 }, 'gpt-4.1')).toMatchObject({
      input_text_tokens: 200,
      cached_input_text_tokens: 1000,
      input_image_tokens: 300,
      output_text_tokens: 50,
    });
  });

  it('never yields negative or fractional counts from odd input', () => {
    const usage = imageUsage({ input_tokens: -5, input_tokens_details: { text_tokens: 3.7, image_tokens: 'x' }, output_tokens: null });
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
    const [call] = callsFromResponse('images.generate', facts, { created: 1, data: [{ b64_json: 'x' }, { b64_json: 'y' }], usage: { input_tokens: 5, output_tokens: 400 } });
    expect(call).toMatchObject({ model: 'gpt-image-2', images: 2, image_size: '1536x1024', image_quality: 'low', usage: { input_text_tokens: 5, output_image_tokens: 400 } });
  });

  it('finds usage only in the completed event of an image stream', () => {
    const facts = requestFacts({ model: 'gpt-image-2', stream: true });
    expect(callsFromStreamEvent('images.generate', facts, { type: 'image_generation.partial_image', b64_json: 'x' })).toBeNull();
    expect(callsFromStreamEvent('images.edit', facts, { type: 'image_edit.completed', usage: { input_tokens: 3, output_tokens: 272 }, size: '1024x1024' })).toEqual([
      expect.objectContaining({ model: 'gpt-image-2', usage: expect.objectContaining({ output_image_tokens: 272 }), images: 1, image_size: '1024x1024' }),
    ]);
  });

  it('defaults the image tool model when the request names none', () => {
    const facts = requestFacts({ model: 'gpt-5', tools: [{ type: 'image_generation' }] });
    const calls = callsFromResponse('responses.create', facts, { model: 'gpt-5', output: [{ type: 'image_generation_call' }], usage: { input_tokens: 1, output_tokens: 1 } });
    expect(calls.map((c) => c.model)).toEqual(['gpt-5', 'gpt-image-1']);
  });
});

describe('provider detection', () => {
  it.each([
    ['https://api.openai.com/v1/images/generations', 'openai'],
    ['https://ai-gateway.vercel.sh/v1/images/generations', 'vercel'],
    ['https://openrouter.ai/api/v1/chat/completions', 'openrouter'],
    ['https://my-res.openai.azure.com/openai/deployments/img/images/generations?api-version=2025-04-01-preview', 'azure'],
    ['http://llm-proxy.internal:8080/v1/images/generations', 'llm-proxy.internal'],
  ])('%s is %s', (url, provider) => expect(detectProvider(url)).toBe(provider));

  it('normalises gateway model names and reads Azure deployments', () => {
    expect(normalizeModel('openai/gpt-image-2')).toBe('gpt-image-2');
    expect(azureDeployment('https://x.openai.azure.com/openai/deployments/gpt-image-2-prod/images/edits')).toBe('gpt-image-2-prod');
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
    const out = source.pipeThrough(sseObserver((data) => seen.push(data), () => (ended = true)));
    let passed = '';
    const decoder = new TextDecoder();
    for await (const chunk of out as unknown as AsyncIterable<Uint8Array>) passed += decoder.decode(chunk, { stream: true });
    return { seen, ended, passed };
  }

  it('passes bytes through unchanged and finds usage split across chunks and CRLF lines', async () => {
    const chunks = ['event: image_generation.partial_image\r\ndata: {"type":"image_generation.partial_image","b64', '_json":"AAA"}\r\n\r\nevent: image_gene', 'ration.completed\ndata: {"type":"image_generation.completed","usage":{"input_tokens":1,"output_tokens":272}}\n\n'];
    const { seen, ended, passed } = await run(chunks);
    expect(passed).toBe(chunks.join(''));
    expect(seen).toEqual([{ type: 'image_generation.completed', usage: { input_tokens: 1, output_tokens: 272 } }]);
    expect(ended).toBe(true);
  });

  it('ignores [DONE], comments and broken JSON', async () => {
    const { seen } = await run([': keep-alive\n\n', 'data: {"usage": {broken\n\n', 'data: [DONE]\n\n']);
    expect(seen).toEqual([]);
  });
});

describe('attribution', () => {
  it('reads and strips X-TokenTally headers, leaving the others', () => {
    const { attribution, headers } = takeAttributionHeaders({ Authorization: 'Bearer sk', 'X-TokenTally-User': 'u1', 'x-tokentally-tags': 'a=1, b=two%2Cthree' });
    expect(attribution).toEqual({ user: 'u1', tags: { a: '1', b: 'two,three' } });
    expect([...headers!.keys()]).toEqual(['authorization']);
    expect(takeAttributionHeaders({ Authorization: 'x' })).toEqual({ attribution: null, headers: null });
  });

  it('merges nested runs', () => {
    const inner = tokentally.run({ team: 't', tags: { a: '1' } }, () => tokentally.run({ user: 'u', tags: { b: '2' } }, () => tokentally.current()));
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
