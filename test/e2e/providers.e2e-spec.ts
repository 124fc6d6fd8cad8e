import OpenAI, { AzureOpenAI, toFile } from 'openai';
import { tokenTallyOf, withTokenTally } from '@tokentally/openai';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, viewerClient } from '../support/factories';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http';
import { TINY_PNG_B64 } from '../fakes/openai-server';
import { FakeAzureOpenAI, startFakeAzureOpenAI } from '../fakes/azure-openai-server';
import { FakeOpenRouter, startFakeOpenRouter } from '../fakes/openrouter-server';
import { FakeGoogleOpenAI, startFakeGoogleOpenAI } from '../fakes/google-openai-server';

/**
 * The real `openai` client (AzureOpenAI, and OpenAI pointed at OpenRouter and
 * at the Gemini API's OpenAI-compatible endpoint), instrumented by
 * withTokenTally WITHOUT a `provider` option, against local fakes that speak
 * each provider's wire format (test/fakes), feeding a real TokenTally. The
 * provider is detected from the request path (the fakes are on 127.0.0.1),
 * and every cost below is worked out by hand from the built-in catalog:
 *
 * - azure gpt-image-2 (USD per 1M tokens): text in 5, cached text in 1.25, image in 8,
 *   image out 30, text out 10; azure dall-e-3 per image: standard/1024x1024 $0.04,
 *   hd/1792x1024 $0.12 (no other size).
 * - google gemini-2.5-flash-image: input 0.30, image out 30.
 * - openrouter: OpenRouter's per-token prices of test/fixtures/real/openrouter-models.json:
 *   google/gemini-2.5-flash-image prompt 0.0000003, completion 0.0000025,
 *   image_output 0.00003 ($0.30 / $2.50 / $30 per 1M); openai/gpt-5-image prompt
 *   0.00001, completion 0.00001, image_output 0.00004 ($10 / $10 / $40 per 1M).
 */
describe('Azure OpenAI, OpenRouter and Google through the openai client, provider detected', () => {
  let t: TestApp;
  let azure: FakeAzureOpenAI;
  let openrouter: FakeOpenRouter;
  let google: FakeGoogleOpenAI;
  let viewer: HttpClient;
  let ingestKey: string;
  let projectId: string;

  const API_VERSION = '2025-04-01-preview';

  beforeAll(async () => {
    [t, azure, openrouter, google] = await Promise.all([
      startTestApp(),
      startFakeAzureOpenAI(),
      startFakeOpenRouter(),
      startFakeGoogleOpenAI(),
    ]);
    ({ key: ingestKey, projectId } = await projectWithIngestKey(t.http));
    viewer = await viewerClient(t.http);
  });
  afterAll(async () => {
    await Promise.all([azure?.close(), openrouter?.close(), google?.close()]);
    await t?.close();
  });

  /** Instruments a client with no `provider` option: the provider must be detected. */
  function instrument<C extends object>(
    client: C,
    run: string,
    extra: Record<string, unknown> = {},
    key = ingestKey,
  ): C {
    return withTokenTally(client, {
      endpoint: t.url,
      apiKey: key,
      flushOnExit: false,
      tags: { run },
      ...extra,
    });
  }

  function azureClient(deployment?: string) {
    return new AzureOpenAI({
      endpoint: azure.url,
      apiKey: 'azure-key-fake',
      apiVersion: API_VERSION,
      ...(deployment ? { deployment } : {}),
      maxRetries: 0,
    });
  }

  // OpenRouter is told by its host only (`/api/v1/` is not its alone): the client calls https://openrouter.ai,
  // and its own fetch (the one the middleware wraps, as a proxy or a test double would be) reaches the fake.
  const toFake = (target: string) => (input: string | URL | Request, init?: RequestInit) =>
    fetch(String(input instanceof Request ? input.url : input).replace(/^https:\/\/openrouter\.ai/, target), init);
  const openRouterClient = () =>
    new OpenAI({
      apiKey: 'sk-or-v1-fake',
      baseURL: 'https://openrouter.ai/api/v1',
      fetch: toFake(openrouter.url),
      maxRetries: 0,
    });
  const googleClient = () =>
    new OpenAI({ apiKey: 'AIza-fake', baseURL: `${google.url}/v1beta/openai/`, maxRetries: 0 });

  async function storedEvents(count: number, run: string, project = projectId) {
    return eventually(async () => {
      const res = await viewer.get(`/v1/events?project=${project}&limit=1000&tag:run=${run}`);
      if (res.status !== 200) throw new Error(`GET /v1/events: ${res.status} ${res.text}`);
      if (res.body.data.length < count) throw new Error(`${res.body.data.length} of ${count} events so far`);
      return res.body.data as Array<Record<string, any>>;
    });
  }

  describe('Azure OpenAI', () => {
    it('records a gpt-image-2 edit through a mapped deployment as azure: $0.13572', async () => {
      const client = instrument(azureClient('img-prod'), 'azure-edit', { deployments: { 'img-prod': 'gpt-image-2' } });
      const before = azure.received.length;
      const answer = await client.images.edit({
        image: await toFile(Buffer.from(TINY_PNG_B64, 'base64'), 'in.png', { type: 'image/png' }),
        prompt: 'x'.repeat(480), // 120 text tokens in the fake
        quality: 'high',
        size: '1024x1024',
      });
      expect(answer.data?.[0].b64_json).toBe(TINY_PNG_B64);
      const sent = azure.received[before];
      expect(sent.path).toBe('/openai/deployments/img-prod/images/edits');
      expect(sent.query['api-version']).toBe(API_VERSION);
      expect(sent.headers['api-key']).toBe('azure-key-fake');
      expect(sent.headers.authorization).toBeUndefined();

      await tokenTallyOf(client)!.flush();
      const [event] = await storedEvents(1, 'azure-edit');
      expect(event).toMatchObject({
        provider: 'azure',
        model: 'gpt-image-2',
        operation: 'images.edit',
        usage: { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160, output_text_tokens: 0 },
        images: 1,
        image_size: '1024x1024',
        image_quality: 'high',
        status: 'ok',
        // (120 x $5 + 1,290 x $8 + 4,160 x $30) / 10^6
        cost_usd: '0.135720',
        priced: true,
        provider_cost_usd: null,
      });
    });

    it('maps the deployment a call names in its body (AzureOpenAI without a deployment option)', async () => {
      const client = instrument(azureClient(), 'azure-per-call', { deployments: { 'img-prod': 'gpt-image-2' } });
      const before = azure.received.length;
      await client.images.generate({ model: 'img-prod', prompt: 'x'.repeat(40), quality: 'high', size: '1024x1024' });
      expect(azure.received[before].path).toBe('/openai/deployments/img-prod/images/generations');
      await tokenTallyOf(client)!.flush();
      const [event] = await storedEvents(1, 'azure-per-call');
      expect(event).toMatchObject({
        provider: 'azure',
        model: 'gpt-image-2',
        operation: 'images.generate',
        usage: { input_text_tokens: 10, output_image_tokens: 4160 },
        cost_usd: '0.124850', // (10 x $5 + 4,160 x $30) / 10^6
        priced: true,
      });
    });

    it('without a deployments map the deployment name is the model: unpriced, never $0', async () => {
      const client = instrument(azureClient('img-prod'), 'azure-unmapped');
      await client.images.generate({ prompt: 'x'.repeat(40), quality: 'high', size: '1024x1024' });
      await tokenTallyOf(client)!.flush();
      const [event] = await storedEvents(1, 'azure-unmapped');
      expect(event).toMatchObject({
        provider: 'azure',
        model: 'img-prod',
        operation: 'images.generate',
        usage: { input_text_tokens: 10, output_image_tokens: 4160 },
        status: 'ok',
        cost_usd: null,
        priced: false,
        pricing: 'unpriced',
      });
    });

    it('prices dall-e-3 per image: standard 1024x1024 $0.04, hd 1792x1024 $0.12', async () => {
      const client = instrument(azureClient('dall-e-3'), 'azure-dalle');
      const standard = await client.images.generate({
        prompt: 'a lighthouse',
        size: '1024x1024',
        quality: 'standard',
        response_format: 'b64_json',
      });
      expect(standard.data?.[0].b64_json).toBe(TINY_PNG_B64);
      expect(standard.data?.[0].revised_prompt).toEqual(expect.any(String));
      await client.images.generate({
        prompt: 'a harbour',
        size: '1792x1024',
        quality: 'hd',
        response_format: 'b64_json',
      });
      await tokenTallyOf(client)!.flush();
      const events = await storedEvents(2, 'azure-dalle');
      const bySize = Object.fromEntries(events.map((e) => [e.image_size, e]));
      expect(bySize['1024x1024']).toMatchObject({
        provider: 'azure',
        model: 'dall-e-3',
        operation: 'images.generate',
        images: 1,
        image_quality: 'standard',
        usage: { input_text_tokens: 0, output_image_tokens: 0 },
        cost_usd: '0.040000',
        priced: true,
      });
      expect(bySize['1792x1024']).toMatchObject({
        provider: 'azure',
        model: 'dall-e-3',
        images: 1,
        image_quality: 'hd',
        cost_usd: '0.120000',
        priced: true,
      });
    });

    it('prices a dall-e-3 call that names no size or quality at what the API makes then: 1024x1024 standard, $0.04', async () => {
      const client = instrument(azureClient('dall-e-3'), 'azure-dalle-defaults');
      await client.images.generate({ prompt: 'a lighthouse', response_format: 'b64_json' });
      await tokenTallyOf(client)!.flush();
      const [event] = await storedEvents(1, 'azure-dalle-defaults');
      expect(event).toMatchObject({
        provider: 'azure',
        model: 'dall-e-3',
        images: 1,
        image_size: '1024x1024',
        image_quality: 'standard',
        cost_usd: '0.040000',
        priced: true,
      });
    });

    it('the fake refuses a call without the api-key header in Azure’s error shape', async () => {
      const res = await fetch(
        `${azure.url}/openai/deployments/img-prod/images/generations?api-version=${API_VERSION}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'x' }),
        },
      );
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error: {
          code: '401',
          message: expect.stringContaining('Access denied due to invalid subscription key or wrong API endpoint'),
        },
      });
    });
  });

  describe('OpenRouter', () => {
    it('records a Gemini image via chat completions with our cost and OpenRouter’s own: $0.0387243', async () => {
      const client = instrument(openRouterClient(), 'openrouter-gemini');
      const before = openrouter.received.length;
      const completion = await client.chat.completions.create({
        model: 'google/gemini-2.5-flash-image',
        messages: [{ role: 'user', content: 'x'.repeat(24) }], // 6 prompt tokens in the fake
        modalities: ['image', 'text'],
      } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);
      const message = completion.choices[0].message as unknown as { images: Array<{ image_url: { url: string } }> };
      expect(message.images[0].image_url.url).toBe(`data:image/png;base64,${TINY_PNG_B64}`);
      expect((completion.usage as unknown as { cost: number }).cost).toBe(0.0387243);
      const sent = openrouter.received[before];
      expect(sent.path).toBe('/api/v1/chat/completions');
      expect(sent.headers.authorization).toBe('Bearer sk-or-v1-fake');
      expect(JSON.parse(sent.body).modalities).toEqual(['image', 'text']);

      await tokenTallyOf(client)!.flush();
      const [event] = await storedEvents(1, 'openrouter-gemini');
      expect(event).toMatchObject({
        provider: 'openrouter',
        model: 'gemini-2.5-flash-image',
        operation: 'chat.completions.create',
        // completion_tokens 1,299 = 1,290 image tokens (completion_tokens_details) + 9 text
        usage: { input_text_tokens: 6, output_text_tokens: 9, output_image_tokens: 1290 },
        status: 'ok',
        // (6 x $0.30 + 9 x $2.50 + 1,290 x $30) / 10^6: OpenRouter's own figure too
        cost_usd: '0.0387243',
        priced: true,
        provider_cost_usd: '0.0387243',
      });
    });

    it('records a streamed image answer, its usage and cost from the last event', async () => {
      const client = instrument(openRouterClient(), 'openrouter-stream');
      const stream = await client.chat.completions.create({
        model: 'google/gemini-2.5-flash-image',
        messages: [{ role: 'user', content: 'x'.repeat(24) }],
        modalities: ['image', 'text'],
        stream: true,
      } as unknown as OpenAI.ChatCompletionCreateParamsStreaming);
      let images = 0;
      for await (const chunk of stream) {
        images += ((chunk.choices[0]?.delta as { images?: unknown[] } | undefined)?.images ?? []).length;
      }
      expect(images).toBe(1);
      await eventually(async () => expect(tokenTallyOf(client)!.stats.queued).toBe(1));
      await tokenTallyOf(client)!.flush();
      const [event] = await storedEvents(1, 'openrouter-stream');
      expect(event).toMatchObject({
        provider: 'openrouter',
        model: 'gemini-2.5-flash-image',
        usage: { input_text_tokens: 6, output_text_tokens: 9, output_image_tokens: 1290 },
        cost_usd: '0.0387243',
        provider_cost_usd: '0.0387243',
      });
    });

    it('shows a reported cost that differs from ours in the provider-cost report', async () => {
      // A project of its own, so that the report holds exactly these two calls.
      const { key, projectId: reportProject } = await projectWithIngestKey(t.http);
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const client = instrument(openRouterClient(), 'provider-cost', {}, key);
      await client.chat.completions.create({
        model: 'google/gemini-2.5-flash-image',
        messages: [{ role: 'user', content: 'x'.repeat(24) }],
        modalities: ['image', 'text'],
      } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);
      // OpenRouter's list price makes $0.16669 for this call; it reports $0.17.
      openrouter.reportNextCost(0.17);
      const planted = await client.chat.completions.create({
        model: 'openai/gpt-5-image',
        messages: [{ role: 'user', content: 'x'.repeat(80) }], // 20 prompt tokens in the fake
        modalities: ['image', 'text'],
      } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);
      expect((planted.usage as unknown as { cost: number }).cost).toBe(0.17);
      await tokenTallyOf(client)!.flush();

      const events = await storedEvents(2, 'provider-cost', reportProject);
      const byModel = Object.fromEntries(events.map((e) => [e.model, e]));
      expect(byModel['gpt-5-image']).toMatchObject({
        provider: 'openrouter',
        // 9 text + 4,160 image tokens out (completion_tokens_details.image_tokens)
        usage: { input_text_tokens: 20, output_text_tokens: 9, output_image_tokens: 4160 },
        // (20 x $10 + 9 x $10 + 4,160 x $40) / 10^6
        cost_usd: '0.166690',
        provider_cost_usd: '0.170000',
      });
      expect(byModel['gemini-2.5-flash-image']).toMatchObject({
        cost_usd: '0.0387243',
        provider_cost_usd: '0.0387243',
      });

      const to = new Date(Date.now() + 3_600_000).toISOString();
      const report = await eventually(async () => {
        const res = await viewer.get(
          `/v1/reports/provider-cost?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&project=${reportProject}`,
        );
        if (res.status !== 200) throw new Error(`provider-cost: ${res.status} ${res.text}`);
        if (res.body.rows.length < 2) throw new Error(`${res.body.rows.length} rows so far`);
        return res.body;
      });
      expect(report.currency).toBe('USD');
      const rows = Object.fromEntries((report.rows as Array<Record<string, any>>).map((r) => [r.model, r]));
      expect(Object.keys(rows).sort()).toEqual(['gemini-2.5-flash-image', 'gpt-5-image']);
      expect(rows['gpt-5-image']).toMatchObject({
        provider: 'openrouter',
        model: 'gpt-5-image',
        events: 1,
        tracked_cost_usd: '0.166690',
        provider_cost_usd: '0.170000',
        difference_usd: '0.003310', // 0.17 - 0.16669
      });
      // 0.00331 / 0.16669 = 1.98572...%, rounded half up to 2 places
      expect(rows['gpt-5-image'].difference_pct).toBe('1.99');
      expect(rows['gemini-2.5-flash-image']).toMatchObject({
        provider: 'openrouter',
        events: 1,
        tracked_cost_usd: '0.0387243',
        provider_cost_usd: '0.0387243',
        difference_usd: '0.000000',
      });
      expect(rows['gemini-2.5-flash-image'].difference_pct).toBe('0.00');
      expect(report.total).toMatchObject({
        events: 2,
        tracked_cost_usd: '0.2054143', // 0.0387243 + 0.16669
        provider_cost_usd: '0.2087243', // 0.0387243 + 0.17
        difference_usd: '0.003310',
      });
      // 0.00331 / 0.2054143 = 1.61137...%, rounded half up to 2 places
      expect(report.total.difference_pct).toBe('1.61');
    });
  });

  describe('Google (Gemini API, OpenAI-compatible)', () => {
    it('records a gemini-2.5-flash-image chat call as google: one 1,290-token image = $0.0387 + input', async () => {
      const client = instrument(googleClient(), 'google-gemini');
      const before = google.received.length;
      const completion = await client.chat.completions.create({
        model: 'gemini-2.5-flash-image',
        messages: [{ role: 'user', content: 'x'.repeat(36) }], // 9 prompt tokens in the fake
      });
      expect(completion.usage).toEqual({ prompt_tokens: 9, completion_tokens: 1290, total_tokens: 1299 });
      const sent = google.received[before];
      expect(sent.path).toBe('/v1beta/openai/chat/completions');
      expect(sent.headers.authorization).toBe('Bearer AIza-fake');

      await tokenTallyOf(client)!.flush();
      const [event] = await storedEvents(1, 'google-gemini');
      expect(event).toMatchObject({
        provider: 'google',
        model: 'gemini-2.5-flash-image',
        operation: 'chat.completions.create',
        usage: { input_text_tokens: 9, output_image_tokens: 1290, output_text_tokens: 0 },
        status: 'ok',
        cost_usd: '0.0387027', // (9 x $0.30 + 1,290 x $30) / 10^6
        priced: true,
        provider_cost_usd: null,
      });
    });

    it('records an Imagen images.generate call per image; with no Imagen price in the catalog it is unpriced', async () => {
      const client = instrument(googleClient(), 'google-imagen');
      const before = google.received.length;
      const answer = await client.images.generate({
        model: 'imagen-4.0-generate-001',
        prompt: 'a portrait of a sheepadoodle wearing a cape',
        response_format: 'b64_json',
        size: '1024x1024',
        n: 2,
      });
      expect(answer.data?.map((d) => d.b64_json)).toEqual([TINY_PNG_B64, TINY_PNG_B64]);
      expect(google.received[before].path).toBe('/v1beta/openai/images/generations');
      await tokenTallyOf(client)!.flush();
      const [event] = await storedEvents(1, 'google-imagen');
      expect(event).toMatchObject({
        provider: 'google',
        model: 'imagen-4.0-generate-001',
        operation: 'images.generate',
        images: 2,
        image_size: '1024x1024',
        status: 'ok',
        cost_usd: null,
        priced: false,
      });
    });
  });
});
