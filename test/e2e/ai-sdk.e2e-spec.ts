import { generateImage } from 'ai';
import { createGateway } from '@ai-sdk/gateway';
import { createOpenAI } from '@ai-sdk/openai';
import { tokentally, tokenTallyFetch, TokenTallyClient } from '@tokentally/openai';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, viewerClient } from '../support/factories';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http';
import { FakeOpenAI, startFakeOpenAI, TINY_PNG_B64 } from '../fakes/openai-server';
import { FakeVercelGateway, startFakeVercelGateway } from '../fakes/vercel-gateway';

/**
 * The real Vercel AI SDK (`ai` 6, `@ai-sdk/gateway` 3, `@ai-sdk/openai` 3): `generateImage` through the AI
 * Gateway provider (its own wire format, to a local fake gateway) and through the OpenAI provider (to the
 * local fake OpenAI), each with `tokenTallyFetch` as its fetch, feeding a real TokenTally.
 */
describe('@tokentally/openai with the Vercel AI SDK', () => {
  let t: TestApp;
  let gatewayServer: FakeVercelGateway;
  let openaiServer: FakeOpenAI;
  let viewer: HttpClient;
  let ingestKey: string;
  let projectId: string;
  const tallies: TokenTallyClient[] = [];

  beforeAll(async () => {
    [t, gatewayServer, openaiServer] = await Promise.all([startTestApp(), startFakeVercelGateway(), startFakeOpenAI()]);
    ({ key: ingestKey, projectId } = await projectWithIngestKey(t.http));
    viewer = await viewerClient(t.http);
  });
  afterAll(async () => {
    await Promise.all(tallies.map((tally) => tally.shutdown()));
    await gatewayServer?.close();
    await openaiServer?.close();
    await t?.close();
  });

  /** A tokenTallyFetch feeding the test app, with its delivery client to flush. */
  function tallyFetch(run: string, extra: Record<string, unknown> = {}) {
    const fetch = tokenTallyFetch({
      endpoint: t.url,
      apiKey: ingestKey,
      flushOnExit: false,
      dimensions: { team: 'growth', environment: 'test' },
      tags: { run },
      ...extra,
    });
    tallies.push(fetch.tokenTally);
    return fetch;
  }

  function gatewayProvider(run: string, extra: Record<string, unknown> = {}) {
    const fetch = tallyFetch(run, extra);
    return {
      gateway: createGateway({ baseURL: gatewayServer.url, apiKey: 'vck_fake_key', fetch }),
      tally: fetch.tokenTally,
    };
  }

  function openaiProvider(run: string) {
    const fetch = tallyFetch(run, { provider: 'openai' });
    return { openai: createOpenAI({ baseURL: openaiServer.url, apiKey: 'sk-fake', fetch }), tally: fetch.tokenTally };
  }

  async function storedEvents(count: number, run: string) {
    return eventually(async () => {
      const res = await viewer.get(`/v1/events?project=${projectId}&limit=1000&tag:run=${run}`);
      if (res.body.data.length < count) throw new Error(`${res.body.data.length} of ${count} events so far`);
      return res.body.data as Array<Record<string, any>>;
    });
  }

  /** 48 characters: 12 text tokens in both fakes (a token per 4 characters). */
  const PROMPT_12_TOKENS = 'a watercolor fox in the snow, at first light....';

  it('records generateImage through the AI Gateway provider as vercel, with the upstream provider as a tag and the exact cost', async () => {
    expect(PROMPT_12_TOKENS).toHaveLength(48);
    const { gateway, tally } = gatewayProvider('gateway');
    const before = gatewayServer.received.length;
    const result = await generateImage({
      model: gateway.image('openai/gpt-image-2'),
      prompt: PROMPT_12_TOKENS,
      size: '1024x1024',
      providerOptions: { openai: { quality: 'high' } },
    });
    // The caller's result is the gateway's, untouched.
    expect(result.image.base64).toBe(TINY_PNG_B64);
    expect(result.usage).toMatchObject({ inputTokens: 12, outputTokens: 4160, totalTokens: 4172 });
    expect(result.providerMetadata.gateway).toMatchObject({ cost: '0.124860' });
    // What went over the wire: the gateway's own image endpoint and headers.
    const sent = gatewayServer.received[before];
    expect(sent.path).toBe('/v3/ai/image-model');
    expect(sent.headers).toMatchObject({
      authorization: 'Bearer vck_fake_key',
      'ai-model-id': 'openai/gpt-image-2',
      'ai-image-model-specification-version': '3',
      'ai-gateway-auth-method': 'api-key',
    });
    expect(sent.json).toEqual({
      prompt: PROMPT_12_TOKENS,
      n: 1,
      size: '1024x1024',
      providerOptions: { openai: { quality: 'high' } },
    });
    await tally.flush();
    const [event] = await storedEvents(1, 'gateway');
    expect(event).toMatchObject({
      provider: 'vercel',
      model: 'gpt-image-2',
      operation: 'images.generate',
      usage: {
        input_text_tokens: 12,
        cached_input_text_tokens: 0,
        input_image_tokens: 0,
        cached_input_image_tokens: 0,
        output_image_tokens: 4160,
        output_text_tokens: 0,
      },
      images: 1,
      image_size: '1024x1024',
      image_quality: 'high',
      status: 'ok',
      dimensions: { team: 'growth', environment: 'test' },
      tags: { run: 'gateway', upstream_provider: 'openai' },
      cost_usd: '0.124860', // (12 x $5 + 4,160 x $30) per 1M: Vercel's one input and one output rate
      provider_cost_usd: '0.124860', // what the gateway said it charged (providerMetadata.gateway.cost)
      priced: true,
    });
    expect(event.latency_ms).toEqual(expect.any(Number));
  });

  it('records a gateway edit (input images) as images.edit, and n images in one call', async () => {
    const { gateway, tally } = gatewayProvider('gateway-edit');
    const prompt = 'x'.repeat(480); // 120 text tokens; the input image counts 1,290
    const edit = await generateImage({
      model: gateway.image('openai/gpt-image-2'),
      prompt: { text: prompt, images: [Buffer.from(TINY_PNG_B64, 'base64')] },
      size: '1024x1024',
    });
    expect(edit.images).toHaveLength(1);
    const many = await generateImage({
      model: gateway.image('openai/gpt-image-2'),
      prompt: PROMPT_12_TOKENS,
      n: 3,
      size: '1024x1536',
      providerOptions: { openai: { quality: 'medium' } },
    });
    expect(many.images).toHaveLength(3);
    await tally.flush();
    const events = await storedEvents(2, 'gateway-edit');
    const byOperation = Object.fromEntries(events.map((e) => [e.operation, e]));
    expect(byOperation['images.edit']).toMatchObject({
      provider: 'vercel',
      model: 'gpt-image-2',
      usage: { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 },
      images: 1,
      cost_usd: '0.131850', // ((120 + 1,290) x $5 + 4,160 x $30) per 1M: one input rate for text and image
    });
    expect(byOperation['images.generate']).toMatchObject({
      usage: { input_text_tokens: 12, input_image_tokens: 0, output_image_tokens: 4752 }, // 3 x 1,584
      images: 3,
      image_size: '1024x1536',
      image_quality: 'medium',
      cost_usd: '0.142620', // (12 x $5 + 4,752 x $30) per 1M
    });
  });

  it('records a gateway answer without token usage with its images, size and quality (per-image pricing), never as a priced $0', async () => {
    const { gateway, tally } = gatewayProvider('gateway-no-usage');
    gatewayServer.serveNext({ json: { images: [TINY_PNG_B64, TINY_PNG_B64], warnings: [] } });
    const result = await generateImage({
      model: gateway.image('openai/gpt-image-2'),
      prompt: 'two foxes',
      n: 2,
      size: '1536x1024',
      providerOptions: { openai: { quality: 'low' } },
    });
    expect(result.images).toHaveLength(2);
    await tally.flush();
    const [event] = await storedEvents(1, 'gateway-no-usage');
    expect(event).toMatchObject({
      provider: 'vercel',
      model: 'gpt-image-2',
      usage: { input_text_tokens: 0, output_image_tokens: 0 },
      images: 2,
      image_size: '1536x1024',
      image_quality: 'low',
      priced: false, // Vercel lists no per-image price for gpt-image-2: unpriced, with the reason, not $0
    });
  });

  it('records a failed gateway call as an error with no tokens; the caller gets the gateway error', async () => {
    const { gateway, tally } = gatewayProvider('gateway-failure');
    await expect(
      generateImage({ model: gateway.image('openai/no-such-model'), prompt: 'x', maxRetries: 0 }),
    ).rejects.toThrow(/not found/i);
    await tally.flush();
    const [event] = await storedEvents(1, 'gateway-failure');
    expect(event).toMatchObject({
      provider: 'vercel',
      model: 'no-such-model',
      status: 'error',
      usage: { output_image_tokens: 0 },
      tags: { run: 'gateway-failure', upstream_provider: 'openai' },
    });
  });

  it('records generateImage with a model id string through the default gateway provider (AI_SDK_DEFAULT_PROVIDER)', async () => {
    const { gateway, tally } = gatewayProvider('gateway-default');
    const previous = globalThis.AI_SDK_DEFAULT_PROVIDER;
    globalThis.AI_SDK_DEFAULT_PROVIDER = gateway;
    try {
      await generateImage({ model: 'openai/gpt-image-2', prompt: PROMPT_12_TOKENS, size: '1024x1024' });
    } finally {
      globalThis.AI_SDK_DEFAULT_PROVIDER = previous;
    }
    await tally.flush();
    const [event] = await storedEvents(1, 'gateway-default');
    expect(event).toMatchObject({
      provider: 'vercel',
      model: 'gpt-image-2',
      tags: { upstream_provider: 'openai' },
      cost_usd: '0.124860',
    });
  });

  it('records generateImage through the OpenAI provider as openai, with the exact cost, edits included', async () => {
    const { openai, tally } = openaiProvider('openai');
    const result = await generateImage({
      model: openai.image('gpt-image-2'),
      prompt: 'a watercolor fox in the snow', // 7 text tokens
      size: '1024x1024',
      providerOptions: { openai: { quality: 'high' } },
    });
    expect(result.image.base64).toBe(TINY_PNG_B64);
    const edit = await generateImage({
      model: openai.image('gpt-image-2'),
      prompt: { text: 'x'.repeat(480), images: [Buffer.from(TINY_PNG_B64, 'base64')] }, // 120 text tokens
      size: '1024x1024',
      providerOptions: { openai: { quality: 'high' } },
    });
    expect(edit.images).toHaveLength(1);
    await tally.flush();
    const events = await storedEvents(2, 'openai');
    const byOperation = Object.fromEntries(events.map((e) => [e.operation, e]));
    expect(byOperation['images.generate']).toMatchObject({
      provider: 'openai',
      model: 'gpt-image-2',
      usage: { input_text_tokens: 7, input_image_tokens: 0, output_image_tokens: 4160, output_text_tokens: 0 },
      images: 1,
      image_size: '1024x1024',
      image_quality: 'high',
      cost_usd: '0.124835', // (7 x $5 + 4,160 x $30) per 1M
      priced: true,
    });
    expect(byOperation['images.generate'].tags).toEqual({ run: 'openai' }); // no gateway, no upstream tag
    expect(byOperation['images.edit']).toMatchObject({
      provider: 'openai',
      model: 'gpt-image-2',
      usage: { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 },
      cost_usd: '0.135720', // (120 x $5 + 1,290 x $8 + 4,160 x $30) per 1M
    });
  });

  it('attributes gateway calls per call: tokentally.run, X-TokenTally-* headers and providerOptions.tokentally, none of which reaches the gateway', async () => {
    const { gateway, tally } = gatewayProvider('gateway-attribution');
    const model = gateway.image('openai/gpt-image-2');
    const before = gatewayServer.received.length;
    await tokentally.run({ user: 'u_run', feature: 'avatars', tags: { plan: 'pro' } }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5)); // the context survives awaits before the call...
      return generateImage({ model, prompt: 'one' }); // ...and the AI SDK's own, inside it
    });
    await generateImage({
      model,
      prompt: 'two',
      headers: { 'X-TokenTally-User': 'u_header', 'X-TokenTally-Feature': 'banners', 'X-TokenTally-Tags': 'plan=free' },
    });
    await generateImage({
      model,
      prompt: 'three',
      size: '1024x1024',
      providerOptions: {
        openai: { quality: 'low' },
        tokentally: { user: 'u_options', feature: 'stickers', tags: { plan: 'team' } },
      },
    });
    // Both at once in a run: the call's own attribution wins over the run's; the run's tags stay.
    await tokentally.run({ user: 'u_run', tags: { campaign: 'spring' } }, () =>
      generateImage({
        model,
        prompt: 'four',
        headers: { 'x-tokentally-user': 'u_both' },
        providerOptions: { tokentally: { feature: 'both', user: 'u_overridden' } },
      }),
    );
    const sent = gatewayServer.received.slice(before);
    expect(sent).toHaveLength(4);
    for (const request of sent) {
      expect(Object.keys(request.headers).filter((h) => h.toLowerCase().includes('tokentally'))).toEqual([]);
      expect(request.body).not.toContain('tokentally');
      expect(request.headers.authorization).toBe('Bearer vck_fake_key');
    }
    // The options of the upstream provider are sent as they were; providerOptions is left as it would be without ours.
    expect(sent[2].json!.providerOptions).toEqual({ openai: { quality: 'low' } });
    expect(sent[3].json!.providerOptions).toEqual({});
    await tally.flush();
    const events = await storedEvents(4, 'gateway-attribution');
    const byUser = Object.fromEntries(events.map((e) => [e.dimensions.user, e]));
    expect(Object.keys(byUser).sort()).toEqual(['u_both', 'u_header', 'u_options', 'u_run']);
    expect(byUser.u_run).toMatchObject({
      dimensions: { team: 'growth', environment: 'test', user: 'u_run', feature: 'avatars' },
      tags: { run: 'gateway-attribution', plan: 'pro', upstream_provider: 'openai' },
    });
    expect(byUser.u_header).toMatchObject({
      dimensions: { team: 'growth', user: 'u_header', feature: 'banners' },
      tags: { run: 'gateway-attribution', plan: 'free', upstream_provider: 'openai' },
    });
    expect(byUser.u_options).toMatchObject({
      dimensions: { team: 'growth', user: 'u_options', feature: 'stickers' },
      tags: { run: 'gateway-attribution', plan: 'team', upstream_provider: 'openai' },
      image_quality: 'low',
    });
    expect(byUser.u_both).toMatchObject({
      dimensions: { user: 'u_both', feature: 'both' },
      tags: { run: 'gateway-attribution', campaign: 'spring', upstream_provider: 'openai' },
    });
  });

  it('attributes OpenAI-provider calls per call through tokentally.run and headers, which never reach OpenAI', async () => {
    const { openai, tally } = openaiProvider('openai-attribution');
    const model = openai.image('gpt-image-2');
    const before = openaiServer.received.length;
    await tokentally.run({ user: 'u_7', feature: 'avatars', tags: { plan: 'pro' } }, () =>
      generateImage({ model, prompt: 'one' }),
    );
    await generateImage({
      model,
      prompt: 'two',
      headers: { 'X-TokenTally-User': 'u_8', 'X-TokenTally-Tags': 'plan=free' },
    });
    const sent = openaiServer.received.slice(before);
    expect(sent).toHaveLength(2);
    for (const request of sent) {
      expect(Object.keys(request.headers).filter((h) => h.startsWith('x-tokentally'))).toEqual([]);
      expect(request.headers.authorization).toBe('Bearer sk-fake');
    }
    await tally.flush();
    const events = await storedEvents(2, 'openai-attribution');
    const byUser = Object.fromEntries(events.map((e) => [e.dimensions.user, e]));
    expect(byUser.u_7).toMatchObject({
      provider: 'openai',
      dimensions: { user: 'u_7', feature: 'avatars' },
      tags: { run: 'openai-attribution', plan: 'pro' },
    });
    expect(byUser.u_8).toMatchObject({ provider: 'openai', tags: { run: 'openai-attribution', plan: 'free' } });
  });
});
