import { TokenTallyClient } from './client';
import { tokenTallyFetch } from './fetch';
import {
  attributionFromOptions,
  callsFromGatewayImage,
  gatewayCost,
  gatewayImageCall,
  gatewayImageFacts,
  gatewayUsage,
  headerOf,
  isGatewayImagePath,
} from './gateway';
import { UsageEvent } from './types';
import { callsFromResponse } from './usage';

const URL_ = 'https://ai-gateway.vercel.sh/v3/ai/image-model';
const HEADERS = {
  authorization: 'Bearer vck_key',
  'ai-gateway-protocol-version': '0.0.1',
  'ai-gateway-auth-method': 'api-key',
  'ai-image-model-specification-version': '3',
  'ai-model-id': 'openai/gpt-image-2',
  'content-type': 'application/json',
};
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** The gateway's answer, as the live gateway gives it (vercel/ai's recorded fixture, trimmed). */
function answer(images: string[] = [PNG], usage: unknown = { inputTokens: 12, outputTokens: 4160, totalTokens: 4172 }) {
  return {
    images,
    warnings: [],
    providerMetadata: {
      openai: {
        images: images.map(() => ({
          created: 1784118142,
          size: '1024x1024',
          quality: 'high',
          background: 'opaque',
          outputFormat: 'png',
          imageTokens: 0,
          textTokens: 12,
        })),
      },
      gateway: { routing: { resolvedProvider: 'openai', finalProvider: 'openai' }, cost: '0.124860' },
    },
    ...(usage ? { usage } : {}),
  };
}

describe('the Vercel AI Gateway image wire format', () => {
  it('recognises the image endpoint by its path, trailing slashes ignored', () => {
    expect(isGatewayImagePath('/v3/ai/image-model')).toBe(true);
    expect(isGatewayImagePath('/v4/ai/image-model/')).toBe(true);
    expect(isGatewayImagePath('/image-model')).toBe(true);
    expect(isGatewayImagePath('/v3/ai/language-model')).toBe(false);
    expect(isGatewayImagePath('/v1/images/generations')).toBe(false);
    expect(isGatewayImagePath('/v3/ai/my-image-model')).toBe(false); // the last segment, whole
    expect(isGatewayImagePath('')).toBe(false);
  });

  it('reads a header from a plain object, an array or Headers, case-insensitively', () => {
    expect(headerOf({ 'AI-Model-Id': 'openai/gpt-image-2' }, 'ai-model-id')).toBe('openai/gpt-image-2');
    expect(headerOf([['ai-model-id', 'a/b']], 'AI-MODEL-ID')).toBe('a/b');
    expect(headerOf(new Headers({ 'ai-model-id': 'c/d' }), 'ai-model-id')).toBe('c/d');
    expect(headerOf(undefined, 'ai-model-id')).toBeNull();
    expect(headerOf({}, 'ai-model-id')).toBeNull();
  });

  it('takes the model from ai-model-id and its provider as the upstream_provider tag', () => {
    const body = JSON.stringify({ prompt: 'a fox', n: 1, size: '1024x1024', providerOptions: {} });
    const call = gatewayImageCall('/v3/ai/image-model', { headers: HEADERS, body }, null)!;
    expect(call).toEqual({
      modelId: 'openai/gpt-image-2',
      upstream: 'openai',
      operation: 'images.generate',
      attribution: { tags: { upstream_provider: 'openai' } },
    });
    expect(
      gatewayImageCall('/v3/ai/image-model', { headers: { ...HEADERS, 'ai-model-id': '' }, body }, null),
    ).toBeNull();
    expect(gatewayImageCall('/v1/images/generations', { headers: HEADERS, body }, null)).toBeNull();
    expect(gatewayImageCall(null, { headers: HEADERS, body }, null)).toBeNull();
    const bare = gatewayImageCall('/v3/ai/image-model', { headers: { 'ai-model-id': 'house-model' }, body }, null)!;
    expect(bare).toMatchObject({ modelId: 'house-model', upstream: null, attribution: { tags: {} } });
  });

  it('names a call with input images (files) images.edit', () => {
    const body = JSON.stringify({
      prompt: 'edit',
      n: 1,
      providerOptions: {},
      files: [{ type: 'file', mediaType: 'image/png', data: PNG }],
    });
    expect(gatewayImageCall('/v3/ai/image-model', { headers: HEADERS, body }, null)!.operation).toBe('images.edit');
    const prompted = JSON.stringify({ prompt: 'the "files":[ key, quoted in a prompt', n: 1 });
    expect(gatewayImageCall('/v3/ai/image-model', { headers: HEADERS, body: prompted }, null)!.operation).toBe(
      'images.generate',
    );
  });

  it('reads providerOptions.tokentally as attribution and sends the body without it, as it would be without it', () => {
    const without = { prompt: 'a fox', n: 1, size: '1024x1024', providerOptions: { openai: { quality: 'high' } } };
    const withOurs = {
      ...without,
      providerOptions: { openai: { quality: 'high' }, tokentally: { user: 'u1', feature: 'f', tags: { plan: 'pro' } } },
    };
    const call = gatewayImageCall('/v3/ai/image-model', { headers: HEADERS, body: JSON.stringify(withOurs) }, null)!;
    expect(call.body).toBe(JSON.stringify(without));
    expect(call.attribution).toEqual({ user: 'u1', feature: 'f', tags: { plan: 'pro', upstream_provider: 'openai' } });
  });

  it('lets headers win over providerOptions.tokentally, and the upstream tag win over both', () => {
    const body = JSON.stringify({
      prompt: 'x',
      providerOptions: { tokentally: { user: 'from-options', team: 't', tags: { a: '1', upstream_provider: 'x' } } },
    });
    const call = gatewayImageCall(
      '/v3/ai/image-model',
      { headers: HEADERS, body },
      { user: 'from-headers', tags: { a: '2', upstream_provider: 'y' } },
    )!;
    expect(call.attribution).toEqual({
      user: 'from-headers',
      team: 't',
      tags: { a: '2', upstream_provider: 'openai' },
    });
  });

  it('leaves a body alone when "tokentally" is only in the prompt, or the body is not JSON', () => {
    const prompt = JSON.stringify({ prompt: 'tokentally', n: 1, providerOptions: {} });
    expect(gatewayImageCall('/v3/ai/image-model', { headers: HEADERS, body: prompt }, null)!.body).toBeUndefined();
    const broken = '{"prompt":"tokentally", "providerOptions": {"tokentally"';
    expect(gatewayImageCall('/v3/ai/image-model', { headers: HEADERS, body: broken }, null)!.body).toBeUndefined();
  });

  it('keeps only string dimensions and string tags of providerOptions.tokentally', () => {
    expect(attributionFromOptions({ user: 'u', team: 7, feature: '', tags: { a: 'b', n: 1 }, other: 'x' })).toEqual({
      user: 'u',
      tags: { a: 'b' },
    });
    expect(attributionFromOptions('u')).toBeNull();
    expect(attributionFromOptions(['u'])).toBeNull();
  });

  it('reads the request facts: the model from the header, the size, the quality from the upstream provider options', () => {
    const call = gatewayImageCall('/v3/ai/image-model', { headers: HEADERS, body: '{}' }, null)!;
    const body = JSON.stringify({
      prompt: 'x',
      n: 2,
      size: '1536x1024',
      providerOptions: { openai: { quality: 'low' } },
    });
    expect(gatewayImageFacts(body, call)).toMatchObject({
      model: 'openai/gpt-image-2',
      size: '1536x1024',
      quality: 'low',
      gateway: { upstream: 'openai' },
    });
    // A large body (input images inline) is read without its long strings.
    const big = JSON.stringify({
      prompt: 'x',
      size: '1024x1024',
      providerOptions: { openai: { quality: 'high' } },
      files: [{ type: 'file', mediaType: 'image/png', data: 'A'.repeat(400 * 1024) }],
    });
    expect(gatewayImageFacts(big, call)).toMatchObject({ size: '1024x1024', quality: 'high' });
    expect(gatewayImageFacts('not json', call)).toMatchObject({ model: 'openai/gpt-image-2', size: null });
  });

  it('maps the usage onto the six kinds: input split by the upstream per-image details, output as image output', () => {
    expect(gatewayUsage({ inputTokens: 237, outputTokens: 4160 }, [{ imageTokens: 194, textTokens: 43 }])).toEqual({
      input_text_tokens: 43,
      cached_input_text_tokens: 0,
      input_image_tokens: 194,
      cached_input_image_tokens: 0,
      output_image_tokens: 4160,
      output_text_tokens: 0,
    });
    // Details split over several images are added up; without details, input is the prompt's text.
    expect(
      gatewayUsage({ inputTokens: 1300, outputTokens: 8320 }, [
        { imageTokens: 645, textTokens: 5 },
        { imageTokens: 645, textTokens: 5 },
      ]),
    ).toMatchObject({ input_text_tokens: 10, input_image_tokens: 1290, output_image_tokens: 8320 });
    expect(gatewayUsage({ inputTokens: 12, outputTokens: 4160 }, [])).toMatchObject({
      input_text_tokens: 12,
      input_image_tokens: 0,
    });
    expect(gatewayUsage({ inputTokens: 10, outputTokens: 1 }, [{ imageTokens: 99 }])).toMatchObject({
      input_text_tokens: 0,
      input_image_tokens: 10,
    });
    expect(gatewayUsage(null, [])).toMatchObject({ input_text_tokens: 0, output_image_tokens: 0 });
    expect(gatewayUsage({ inputTokens: null, outputTokens: -3 }, [])).toMatchObject({ output_image_tokens: 0 });
  });

  it('takes the cost the gateway reports only as a decimal string of USD', () => {
    expect(gatewayCost({ gateway: { cost: '0.168555' } })).toBe('0.168555');
    expect(gatewayCost({ gateway: { cost: 0.168555 } })).toBeUndefined();
    expect(gatewayCost({ gateway: { cost: '-1' } })).toBeUndefined();
    expect(gatewayCost({ gateway: { cost: '1e-3' } })).toBeUndefined();
    expect(gatewayCost({ gateway: {} })).toBeUndefined();
    expect(gatewayCost(null)).toBeUndefined();
  });

  it('reads the call of an answer: images counted, size and quality as made, else as asked', () => {
    const call = gatewayImageCall('/v3/ai/image-model', { headers: HEADERS, body: '{}' }, null)!;
    const facts = gatewayImageFacts(
      JSON.stringify({ size: '1536x1024', providerOptions: { openai: { quality: 'low' } } }),
      call,
    );
    expect(callsFromResponse('images.generate', facts, answer([PNG, PNG]))).toEqual([
      {
        model: 'openai/gpt-image-2',
        usage: expect.objectContaining({ input_text_tokens: 12, output_image_tokens: 4160 }),
        images: 2,
        image_size: '1024x1024',
        image_quality: 'high',
        provider_cost_usd: '0.124860', // providerMetadata.gateway.cost: what Vercel charged
      },
    ]);
    // No usage and no metadata: the images, with the size and quality the request asked for.
    expect(callsFromGatewayImage(facts, { images: [PNG, PNG] })).toEqual([
      {
        model: 'openai/gpt-image-2',
        usage: expect.objectContaining({ input_text_tokens: 0, output_image_tokens: 0 }),
        images: 2,
        image_size: '1536x1024',
        image_quality: 'low',
      },
    ]);
    // Another upstream's metadata key is found too (never the gateway's own).
    expect(
      callsFromGatewayImage(facts, {
        images: [PNG],
        providerMetadata: { gateway: { images: [{ size: 'x' }] }, vertex: { images: [{ size: '1024x1024' }] } },
      })[0].image_size,
    ).toBe('1024x1024');
  });
});

describe('tokenTallyFetch on gateway image calls', () => {
  function middleware(reply: (url: string, init?: RequestInit) => Response, options: Record<string, unknown> = {}) {
    const tally = new TokenTallyClient({ endpoint: 'http://tokentally.test', apiKey: 'tt_key', flushOnExit: false });
    const events: UsageEvent[] = [];
    jest.spyOn(tally, 'enqueue').mockImplementation((event) => (events.push(event), event.event_id));
    const sent: Array<{ url: string; init?: RequestInit }> = [];
    const fetch = tokenTallyFetch({
      endpoint: 'http://tokentally.test',
      apiKey: 'tt_key',
      client: tally,
      tags: { service: 'api' },
      ...options,
      fetch: async (input, init) => (sent.push({ url: String(input), init }), reply(String(input), init)),
    });
    return { fetch, events, sent };
  }
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const body = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      prompt: 'a fox',
      n: 1,
      size: '1024x1024',
      providerOptions: { openai: { quality: 'high' } },
      ...extra,
    });

  it.each([
    ['text()', (r: Response) => r.text()],
    ['json()', (r: Response) => r.json()],
    [
      'the body stream (the AI SDK 6 way)',
      async (r: Response) => {
        const reader = r.body!.getReader();
        while (!(await reader.read()).done);
        await reader.cancel();
      },
    ],
  ])('records provider vercel, the model, the upstream tag and the usage, read by %s', async (_, read) => {
    const { fetch, events } = middleware(() => json(answer()));
    await read(await fetch(URL_, { method: 'POST', headers: HEADERS, body: body() }));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      provider: 'vercel',
      model: 'gpt-image-2',
      operation: 'images.generate',
      usage: { input_text_tokens: 12, input_image_tokens: 0, output_image_tokens: 4160 },
      images: 1,
      image_size: '1024x1024',
      image_quality: 'high',
      status: 'ok',
      tags: { service: 'api', upstream_provider: 'openai' },
      provider_cost_usd: '0.124860',
    });
  });

  it('calls a gateway call vercel on any host (a proxy of the gateway), unless the provider is set', async () => {
    const proxied = middleware(() => json(answer()));
    await (
      await proxied.fetch('http://127.0.0.1:9/v3/ai/image-model', { method: 'POST', headers: HEADERS, body: body() })
    ).text();
    expect(proxied.events[0].provider).toBe('vercel');
    const named = middleware(() => json(answer()), { provider: 'acme-gateway' });
    await (await named.fetch(URL_, { method: 'POST', headers: HEADERS, body: body() })).text();
    expect(named.events[0]).toMatchObject({ provider: 'acme-gateway', tags: { upstream_provider: 'openai' } });
  });

  it('reads a real-size answer (2 MB of base64) and hands it back untouched', async () => {
    const image = 'A'.repeat(2 * 1024 * 1024);
    const { fetch, events } = middleware(() => json(answer([image])));
    const text = await (await fetch(URL_, { method: 'POST', headers: HEADERS, body: body() })).text();
    expect(JSON.parse(text).images[0]).toBe(image);
    expect(events[0]).toMatchObject({ usage: { output_image_tokens: 4160 }, images: 1 });
  });

  it('strips X-TokenTally-* headers and providerOptions.tokentally before the gateway sees them', async () => {
    const { fetch, events, sent } = middleware(() => json(answer()));
    const response = await fetch(URL_, {
      method: 'POST',
      headers: { ...HEADERS, 'x-tokentally-user': 'u_h', 'x-tokentally-tags': 'plan=free' },
      body: body({ providerOptions: { openai: { quality: 'high' }, tokentally: { feature: 'avatars', user: 'u_o' } } }),
    });
    await response.text();
    const init = sent[0].init!;
    expect(Object.keys(init.headers as Record<string, string>).filter((h) => h.includes('tokentally'))).toEqual([]);
    expect(new Headers(init.headers).get('ai-model-id')).toBe('openai/gpt-image-2');
    expect(init.body).toBe(body());
    expect(events[0]).toMatchObject({
      dimensions: { user: 'u_h', feature: 'avatars' },
      tags: { service: 'api', plan: 'free', upstream_provider: 'openai' },
    });
  });

  it('records a failed gateway call as an error with the model and its upstream tag', async () => {
    const { fetch, events } = middleware(() =>
      json({ error: { message: 'Model not found', type: 'model_not_found', param: null, code: null } }, 404),
    );
    const response = await fetch(URL_, {
      method: 'POST',
      headers: { ...HEADERS, 'ai-model-id': 'openai/nope' },
      body: body(),
    });
    await response.text();
    await new Promise((resolve) => setImmediate(resolve));
    expect(events[0]).toMatchObject({
      provider: 'vercel',
      model: 'nope',
      status: 'error',
      tags: { upstream_provider: 'openai' },
    });
  });

  it('leaves the gateway’s other calls (models, language models) untracked and untouched', async () => {
    const { fetch, events, sent } = middleware(() => json({ models: [] }));
    await (await fetch('https://ai-gateway.vercel.sh/v3/ai/config', { headers: HEADERS })).json();
    const language = { method: 'POST', headers: { ...HEADERS, 'ai-language-model-id': 'x' }, body: '{"tokentally":1}' };
    await (await fetch('https://ai-gateway.vercel.sh/v3/ai/language-model', language)).json();
    expect(events).toEqual([]);
    expect(sent[1].init!.body).toBe('{"tokentally":1}');
  });
});
