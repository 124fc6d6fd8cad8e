import * as fs from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';
import { eventually } from '../support/eventually';

/**
 * The weekly pull against the REAL files (test/fixtures/real, see its
 * PROVENANCE.md): LiteLLM's price file as of 2026-08-01 and a real answer of
 * OpenRouter's /api/v1/models, served unedited from a local server and pulled
 * as the job pulls them. Every expected figure below was written by hand from
 * those files (per-pixel prices: rate x width x height, worked out on paper).
 */
const REAL = path.join(__dirname, '../fixtures/real');

/** Every (provider, model) with a list price after the pull: the built-in catalog's and the image models of the two
 * files. */
const EXPECTED_MODELS = [
  'azure/dall-e-3',
  'azure/gpt-image-1',
  'azure/gpt-image-1-mini',
  'azure/gpt-image-1.5',
  'azure/gpt-image-1.5-2025-12-16',
  'azure/gpt-image-2',
  'azure/gpt-image-2-2026-04-21',
  'google/gemini-2.0-flash-exp-image-generation',
  'google/gemini-2.5-flash-image',
  'google/gemini-3-pro-image',
  'google/gemini-3-pro-image-preview',
  'google/gemini-3.1-flash-image',
  'google/gemini-3.1-flash-image-preview',
  'google/gemini-3.1-flash-lite-image',
  'google/imagen-3.0-fast-generate-001',
  'google/imagen-3.0-generate-001',
  'google/imagen-3.0-generate-002',
  'google/imagen-4.0-fast-generate-001',
  'google/imagen-4.0-generate-001',
  'google/imagen-4.0-ultra-generate-001',
  'openai/chatgpt-image-latest',
  'openai/dall-e-2',
  'openai/dall-e-3',
  'openai/gpt-image-1',
  'openai/gpt-image-1-mini',
  'openai/gpt-image-1.5',
  'openai/gpt-image-1.5-2025-12-16',
  'openai/gpt-image-2',
  'openai/gpt-image-2-2026-04-21',
  'openrouter/gemini-2.5-flash-image',
  'openrouter/gemini-3-pro-image',
  'openrouter/gemini-3-pro-image-preview',
  'openrouter/gemini-3.1-flash-image',
  'openrouter/gemini-3.1-flash-image-preview',
  'openrouter/gemini-3.1-flash-lite-image',
  'openrouter/gpt-5-image',
  'openrouter/gpt-5-image-mini',
  'openrouter/gpt-5.4-image-2',
  'vercel/gpt-image-2',
];

describe('conformance: the pricing pull on real LiteLLM and OpenRouter files', () => {
  let server: Server;
  let base: string;
  let t: TestApp;
  let admin: HttpClient;
  let viewer: HttpClient;
  let ingest: HttpClient;

  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  const prices = async () => (await viewer.get('/v1/pricing')).body.data.filter((v: any) => v.kind === 'list');
  const priceOf = async (provider: string, model: string) =>
    (await prices()).find((v: any) => v.provider === provider && v.model === model);
  const storedCost = async (eventId: string) =>
    (await viewer.get(`/v1/events?limit=1000`)).body.data.find((e: any) => e.event_id === eventId);

  // Stored before the pull: a cached image token of the snapshot is priced by its base model ($2 per 1M, built-in
  // catalog);
  // azure dall-e-3 is priced per image by the built-in catalog (hd 1024x1024: $0.08), never $0.
  const snapshotBefore = usageEvent({
    model: 'gpt-image-2-2026-04-21',
    timestamp: minutesAgo(20),
    usage: { cached_input_image_tokens: 1_000_000, output_image_tokens: 4160 },
  });
  const azureDalleBefore = usageEvent({
    provider: 'azure',
    model: 'dall-e-3',
    timestamp: minutesAgo(20),
    usage: null,
    images: 1,
    image_size: '1024x1024',
    image_quality: 'hd',
  });
  // gpt-image-1.5 is in the catalog with token rates only: an image whose tokens are unknown waits for a per-image
  // price.
  const lowImageBefore = usageEvent({
    model: 'gpt-image-1.5',
    timestamp: minutesAgo(20),
    usage: null,
    images: 2,
    image_size: '1024x1536',
    image_quality: 'low',
  });

  beforeAll(async () => {
    const files: Record<string, string> = {
      '/litellm/model_prices_and_context_window.json': fs.readFileSync(
        path.join(REAL, 'litellm-model-prices.json'),
        'utf8',
      ),
      '/openrouter/api/v1/models': fs.readFileSync(path.join(REAL, 'openrouter-models.json'), 'utf8'),
    };
    server = createServer((req, res) => {
      const body = files[new URL(req.url ?? '/', 'http://x').pathname];
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(body ?? '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    t = await startTestApp({
      PRICING_LITELLM_URL: `${base}/litellm/model_prices_and_context_window.json`,
      PRICING_OPENROUTER_URL: `${base}/openrouter/api/v1/models`,
      PRICING_VERCEL_URL: '',
    });
    admin = t.http;
    viewer = await viewerClient(admin);
    ({ client: ingest } = await projectWithIngestKey(admin));
    const before = await ingest.post('/v1/events', { events: [snapshotBefore, azureDalleBefore, lowImageBefore] });
    // 1,000,000 x $2 + 4,160 x $30 per 1M = $2.1248; one hd 1024x1024 azure dall-e-3 image: $0.08 (catalog)
    expect(before.body.results.map((r: any) => [r.cost_usd, r.pricing])).toEqual([
      ['2.124800', 'priced'],
      ['0.080000', 'priced'],
      [null, 'unpriced'],
    ]);
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('pulls both files and reports what each source skipped and why', async () => {
    const run = (await admin.post('/v1/pricing/refresh')).body;
    expect(run.sources.filter((s: any) => s.error).map((s: any) => `${s.source}: ${s.error}`)).toEqual([]);
    expect(run.status).toBe('succeeded');
    const litellm = run.sources.find((s: any) => s.source === 'litellm');
    const openrouter = run.sources.find((s: any) => s.source === 'openrouter');
    expect(litellm).toMatchObject({ status: 'ok', models_seen: 28 });
    expect(openrouter).toMatchObject({ status: 'ok', models_seen: 9 });
    const reasonsOf = (report: any, key: string) =>
      report.skipped.filter((s: any) => s.key === key).map((s: any) => s.reason);
    expect(reasonsOf(litellm, 'azure/hd/1024-x-1024/dall-e-3')).toEqual([
      'output_cost_per_token 0 is no price (LiteLLM has no free mark)',
    ]);
    expect(reasonsOf(litellm, 'azure/standard/1024-x-1024/dall-e-2')).toContain(
      'every rate is 0 (LiteLLM has no free mark)',
    );
    expect(reasonsOf(openrouter, 'openrouter/auto')).toContain('OpenRouter -1 means variable price: nothing to import');
    // The file carries Google's Batch text rates for this model as its standard ones: the catalog speaks for it.
    expect(reasonsOf(litellm, 'google/gemini-3.1-flash-image-preview')).toEqual([
      expect.stringMatching(
        /^the built-in catalog speaks for it: LiteLLM's gemini\/gemini-3.1-flash-image-preview carries Google's Batch API text rates/,
      ),
    ]);
  });

  it("keeps Google's standard rates for gemini-3.1-flash-image-preview, not the Batch rates LiteLLM's file gives", async () => {
    expect((await priceOf('google', 'gemini-3.1-flash-image-preview')).prices).toEqual({
      input_text: '0.50',
      input_image: '0.50',
      output_image: '60.00',
      output_text: '3.00',
    });
  });

  it('imports every image model of the files, and nothing else', async () => {
    expect((await prices()).map((v: any) => `${v.provider}/${v.model}`).sort()).toEqual(EXPECTED_MODELS);
  });

  it('stores no zero rate and no version whose every rate is zero', async () => {
    const history = (await viewer.get('/v1/pricing/history')).body.data;
    expect(history.length).toBeGreaterThanOrEqual(EXPECTED_MODELS.length);
    for (const version of history) {
      const rates = [...Object.values(version.prices), ...Object.values(version.image_prices ?? {})] as string[];
      expect({
        model: `${version.provider}/${version.model}`,
        zero: rates.filter((r) => /^0(\.0+)?$/.test(r)),
      }).toEqual({ model: `${version.provider}/${version.model}`, zero: [] });
      expect(rates.length).toBeGreaterThan(0);
    }
  });

  it('imports per-image prices by size and quality, per-pixel rates times the pixels, exactly', async () => {
    const azure = await priceOf('azure', 'dall-e-3');
    expect(azure.prices).toEqual({});
    expect(azure.image_prices).toEqual({
      // Per-pixel rate x pixels, to the precision the rate is written with (the shortest decimal within
      // half a unit of the rate's last digit x pixels): 7.629e-8 x 1,048,576 = 0.07999586304 +- 0.0000052 -> 0.08;
      // 6.539e-8 x 1,835,008 = 0.11999117312 +- 0.0000092 -> 0.12; 3.81469e-8 x 1,048,576 = 0.0399999238144
      // +- 0.000000052 -> 0.0399999; 4.359e-8 x 1,835,008 = 0.07998799872 +- 0.0000092 -> 0.07999.
      'hd/1024x1024': '0.08',
      'hd/1024x1792': '0.12',
      'hd/1792x1024': '0.12',
      'standard/1024x1024': '0.0399999',
      'standard/1024x1792': '0.07999',
      'standard/1792x1024': '0.07999',
      // The file gives no price for a call without a quality: the catalog's (standard, the API's default) is kept.
      '*/1024x1024': '0.04',
      '*/1024x1792': '0.08',
      '*/1792x1024': '0.08',
    });
    const dalle2 = await priceOf('openai', 'dall-e-2');
    // `dall-e-2`: input_cost_per_image 0.02; 1.9e-8 x 1,048,576 = 0.019922944 +- 0.00052 -> 0.02;
    // 2.4414e-7 x 65,536 = 0.01599995904 +- 0.00000033 -> 0.016; 6.86e-8 x 262,144 = 0.0179830784 +- 0.000013 ->
    // 0.01798. The file gives no `standard/` price: the catalog's (OpenAI's $0.02, $0.016, $0.018) are kept.
    expect(dalle2.prices).toEqual({ per_image: '0.02' });
    expect(dalle2.image_prices).toEqual({
      '*/1024x1024': '0.02',
      '*/256x256': '0.016',
      '*/512x512': '0.01798',
      'standard/1024x1024': '0.02',
      'standard/256x256': '0.016',
      'standard/512x512': '0.018',
    });
    const gptImage1 = await priceOf('openai', 'gpt-image-1');
    expect(gptImage1.image_prices).toMatchObject({
      'low/1024x1024': '0.011',
      'medium/1024x1536': '0.063',
      'high/1024x1024': '0.167',
      'high/1536x1024': '0.25',
    });
    const gptImage15 = await priceOf('openai', 'gpt-image-1.5');
    expect(gptImage15.image_prices).toMatchObject({
      '*/1024x1024': '0.009',
      'standard/1024x1536': '0.013',
      'high/1024x1024': '0.133',
    });
  });

  it('imports Gemini image models at their token rates, with the per-image price for images not counted in tokens', async () => {
    // gemini/gemini-2.5-flash-image: 3e-7, 3e-8, 2.5e-6, 3e-5 per token; 0.039 per image. The file has no image input
    // rate: the catalog's (Google's $0.30 for text and image input) is kept.
    expect((await priceOf('google', 'gemini-2.5-flash-image')).prices).toEqual({
      input_text: '0.30',
      cached_input_text: '0.03',
      input_image: '0.30',
      output_image: '30.00',
      output_text: '2.50',
      per_image: '0.039',
    });
    // OpenRouter: prompt 0.0000003, completion 0.0000025, input_cache_read 0.00000003, image_output 0.00003 per token
    expect((await priceOf('openrouter', 'gemini-2.5-flash-image')).prices).toEqual({
      input: '0.30',
      cached_input: '0.03',
      output: '2.50',
      output_image: '30.00',
    });
    expect((await priceOf('google', 'gemini-2.0-flash-exp-image-generation')).prices).toEqual({ per_image: '0.039' });
  });

  it('never drops a rate: a snapshot priced by the file keeps the cached-image rate of its base model, and says where each rate came from', async () => {
    const base = await priceOf('openai', 'gpt-image-2');
    // Same figures as the catalog: no new version, the cached-image rate ($2) kept.
    expect(base).toMatchObject({
      source: 'catalog',
      prices: {
        input_text: '5.00',
        cached_input_text: '1.25',
        input_image: '8.00',
        cached_input_image: '2.00',
        output_image: '30.00',
        output_text: '10.00',
      },
    });
    const snapshot = await priceOf('openai', 'gpt-image-2-2026-04-21');
    expect(snapshot).toMatchObject({
      source: 'litellm',
      prices: {
        input_text: '5.00',
        cached_input_text: '1.25',
        input_image: '8.00',
        cached_input_image: '2.00',
        output_image: '30.00',
        output_text: '10.00',
      },
    });
    expect(snapshot.rate_sources).toEqual({
      input_text: 'litellm',
      cached_input_text: 'litellm',
      input_image: 'litellm',
      output_image: 'litellm',
      output_text: 'litellm',
      cached_input_image: 'catalog (base model gpt-image-2)',
    });
    // gpt-image-1: the file has no cached-image rate either; the catalog's $2.50 stays.
    expect((await priceOf('openai', 'gpt-image-1')).prices.cached_input_image).toBe('2.50');

    // A cached image token of the snapshot costs $2 per 1M after the pull, not $8.
    const after = usageEvent({
      model: 'gpt-image-2-2026-04-21',
      timestamp: minutesAgo(1),
      usage: { cached_input_image_tokens: 1_000_000, output_image_tokens: 4160 },
    });
    expect((await ingest.post('/v1/events', after)).body.results[0]).toMatchObject({
      cost_usd: '2.124800',
      pricing: 'priced',
    });
    // Re-pricing the range restates nothing upward: the event before the pull keeps its base model's price.
    const restated = (await admin.post('/v1/pricing/reprice', { from: minutesAgo(60), to: new Date().toISOString() }))
      .body;
    expect(restated).toMatchObject({ events_changed: 0 });
    expect((await storedCost(snapshotBefore.event_id)).cost_usd).toBe('2.124800');

    const coverage = (await viewer.get('/v1/pricing/coverage')).body;
    const kinds = coverage.rate_sources.find((m: any) => m.model === 'gpt-image-2-2026-04-21').kinds;
    expect(kinds).toEqual([
      {
        kind: 'cached_input_image',
        quantity: 2_000_000,
        priced_with: 'cached_input_image',
        basis: 'own',
        rate_usd: '2.000000',
        source: 'catalog (base model gpt-image-2)',
      },
      {
        kind: 'output_image',
        quantity: 8320,
        priced_with: 'output_image',
        basis: 'own',
        rate_usd: '30.000000',
        source: 'litellm',
      },
    ]);
  });

  it('prices azure dall-e-3 per image by size and quality, never $0, also the events stored before the pull', async () => {
    // Priced by the catalog before the pull; the pull (whose azure dall-e-3 keys carry output_cost_per_token 0.0) never
    // restates it to $0.
    await eventually(async () =>
      expect(await storedCost(azureDalleBefore.event_id)).toMatchObject({ cost_usd: '0.080000', pricing: 'priced' }),
    );
    const res = await ingest.post('/v1/events', {
      events: [
        // Made after the pull, so priced by the file's figures (an image made before it is priced by the catalog's
        // whole-cent $0.08, the version in effect then).
        usageEvent({
          provider: 'azure',
          model: 'dall-e-3',
          timestamp: new Date().toISOString(),
          usage: null,
          images: 2,
          image_size: '1792x1024',
          image_quality: 'standard',
        }),
        // The old trap: a text-output token on azure dall-e-3 (the file's output_cost_per_token 0.0) is no $0 call.
        usageEvent({
          provider: 'azure',
          model: 'dall-e-3',
          timestamp: minutesAgo(1),
          usage: { output_text_tokens: 10 },
          images: 0,
          image_size: null,
          image_quality: null,
        }),
        // No size: azure has no any-size price for dall-e-3.
        usageEvent({
          provider: 'azure',
          model: 'dall-e-3',
          timestamp: minutesAgo(1),
          usage: null,
          images: 1,
          image_size: null,
          image_quality: null,
        }),
      ],
    });
    expect(res.body.results.map((r: any) => [r.cost_usd, r.pricing, r.unpriced_kinds ?? null])).toEqual([
      // 2 x 0.07999
      ['0.159980', 'priced', null],
      [null, 'unpriced', ['output_text']],
      [null, 'unpriced', ['per_image']],
    ]);
  });

  it('prices a call made before the pull with the per-image price the pull brought (a rate that arrives late)', async () => {
    // low/1024-x-1536/gpt-image-1.5: input_cost_per_image 0.013, two images
    await eventually(async () =>
      expect(await storedCost(lowImageBefore.event_id)).toMatchObject({ cost_usd: '0.026000', pricing: 'priced' }),
    );
  });

  it('a second pull of the same files changes nothing', async () => {
    const run = (await admin.post('/v1/pricing/refresh')).body;
    expect(run).toMatchObject({ status: 'succeeded', prices_changed: 0, prices_pending: 0 });
  });
});
