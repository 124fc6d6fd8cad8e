import OpenAI, { toFile } from 'openai';
import { tokentally, tokenTallyFetch, tokenTallyOf, withTokenTally, TokenTallyClient } from '@tokentally/openai';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, viewerClient } from '../support/factories';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http';
import { FakeOpenAI, startFakeOpenAI, TINY_PNG_B64 } from '../fakes/openai-server';
import { b64, IMAGE_EVENT_FIELDS, IMAGE_USAGE, imageAnswer } from '../fakes/openai-image-answers';

/** The real `openai` package, talking to a local fake OpenAI, feeding a real TokenTally. */
describe('@tokentally/openai with the openai client', () => {
  let t: TestApp;
  let fake: FakeOpenAI;
  let viewer: HttpClient;
  let ingestKey: string;
  let projectId: string;

  beforeAll(async () => {
    [t, fake] = await Promise.all([startTestApp(), startFakeOpenAI()]);
    ({ key: ingestKey, projectId } = await projectWithIngestKey(t.http));
    viewer = await viewerClient(t.http);
  });
  afterAll(async () => {
    await fake?.close();
    await t?.close();
  });

  function instrumented(extra: Record<string, unknown> = {}) {
    return withTokenTally(new OpenAI({ apiKey: 'sk-fake', baseURL: fake.url, maxRetries: 0 }), {
      endpoint: t.url,
      apiKey: ingestKey,
      provider: 'openai',
      flushOnExit: false,
      dimensions: { team: 'growth', environment: 'test' },
      ...extra,
    });
  }

  async function storedEvents(count: number, filter = '') {
    return eventually(async () => {
      const res = await viewer.get(`/v1/events?project=${projectId}&limit=1000${filter}`);
      if (res.body.data.length < count) throw new Error(`${res.body.data.length} of ${count} events so far`);
      return res.body.data as Array<Record<string, any>>;
    });
  }

  it('records images.generate with tokens, size, quality, dimensions and the exact cost', async () => {
    const openai = instrumented({ tags: { run: 'generate' } });
    const image = await openai.images.generate({
      model: 'gpt-image-2',
      prompt: 'a watercolor fox in the snow',
      size: '1024x1024',
      quality: 'high',
    });
    expect(image.data?.[0].b64_json).toBe(TINY_PNG_B64); // the caller's response is intact
    await tokenTallyOf(openai)!.flush();
    expect(tokenTallyOf(openai)!.stats.delivered).toBe(1); // flush() waited for the usage still being read
    const [event] = await storedEvents(1, '&tag:run=generate');
    expect(event).toMatchObject({
      provider: 'openai',
      model: 'gpt-image-2',
      operation: 'images.generate',
      usage: { input_text_tokens: 7, input_image_tokens: 0, output_image_tokens: 4160, output_text_tokens: 0 },
      images: 1,
      image_size: '1024x1024',
      image_quality: 'high',
      status: 'ok',
      dimensions: { team: 'growth', environment: 'test' },
      tags: { run: 'generate' },
      cost_usd: '0.124835', // 7 x $5 + 4,160 x $30 per 1M
      priced: true,
    });
    expect(event.latency_ms).toEqual(expect.any(Number));
  });

  it('records real-size answers (2 MB of base64, as JSON and as a stream of partial images), the caller’s images intact', async () => {
    const openai = instrumented({ tags: { run: 'real-size' } });
    const image = (seed: number) => b64(2 * 1024 * 1024, seed);
    fake.serveNext({
      json: JSON.parse(imageAnswer(image(1))),
    });
    const answer = await openai.images.generate({
      model: 'gpt-image-2',
      prompt: 'a fox',
      size: '1024x1024',
      quality: 'high',
    });
    expect(answer.data?.[0].b64_json).toBe(image(1));
    fake.serveNext({
      sse: [
        { type: 'image_generation.partial_image', b64_json: image(2), ...IMAGE_EVENT_FIELDS, partial_image_index: 0 },
        { type: 'image_generation.completed', b64_json: image(3), ...IMAGE_EVENT_FIELDS, usage: IMAGE_USAGE },
      ],
      chunkBytes: 64 * 1024,
    });
    const stream = await openai.images.generate({
      model: 'gpt-image-2',
      prompt: 'a fox',
      stream: true,
      partial_images: 1,
    });
    const images: string[] = [];
    for await (const event of stream) images.push(event.b64_json);
    expect(images).toEqual([image(2), image(3)]);
    await tokenTallyOf(openai)!.flush();
    const events = await storedEvents(2, '&tag:run=real-size');
    expect(events.map((e) => [e.status, e.usage.output_image_tokens, e.images, e.cost_usd])).toEqual([
      ['ok', 4160, 1, '0.124860'], // 12 x $5 + 4,160 x $30 per 1M
      ['ok', 4160, 1, '0.124860'],
    ]);
  });

  it('records an images.edit upload (multipart) with its image input tokens: $0.13572', async () => {
    const openai = instrumented({ tags: { run: 'edit' } });
    const prompt = 'x'.repeat(480); // 120 text tokens in the fake
    await openai.images.edit({
      model: 'gpt-image-2',
      image: await toFile(Buffer.from(TINY_PNG_B64, 'base64'), 'in.png', { type: 'image/png' }),
      prompt,
      quality: 'high',
      size: '1024x1024',
    });
    await tokenTallyOf(openai)!.flush();
    const [event] = await storedEvents(1, '&tag:run=edit');
    expect(event).toMatchObject({
      operation: 'images.edit',
      model: 'gpt-image-2',
      usage: { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 },
      cost_usd: '0.135720',
    });
  });

  it('passes a streamed generation through untouched and records the usage of its completed event', async () => {
    const openai = instrumented({ tags: { run: 'stream' } });
    const stream = await openai.images.generate({
      model: 'gpt-image-2',
      prompt: 'a lighthouse at dusk',
      stream: true,
      partial_images: 2,
      quality: 'medium',
      size: '1024x1536',
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual([
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
    ]);
    await eventually(async () => expect(tokenTallyOf(openai)!.stats.queued).toBe(1));
    await tokenTallyOf(openai)!.flush();
    const [event] = await storedEvents(1, '&tag:run=stream');
    expect(event).toMatchObject({
      operation: 'images.generate',
      usage: { output_image_tokens: 1584 },
      image_size: '1024x1536',
      image_quality: 'medium',
      images: 1,
    });
  });

  it('records a Responses call with the image_generation tool as the model call and the image call', async () => {
    const openai = instrumented({ tags: { run: 'responses' } });
    const response = await openai.responses.create({
      model: 'gpt-5',
      input: 'Draw a cat in a hat',
      tools: [{ type: 'image_generation', model: 'gpt-image-2', quality: 'high', size: '1024x1024' } as any],
    });
    expect(response.output_text).toBe('Here is your image.');
    await tokenTallyOf(openai)!.flush();
    const events = await storedEvents(2, '&tag:run=responses');
    const byModel = Object.fromEntries(events.map((e) => [e.model, e]));
    expect(byModel['gpt-5']).toMatchObject({
      operation: 'responses.create',
      usage: { input_text_tokens: 1100, cached_input_text_tokens: 1000, output_text_tokens: 180 },
      priced: false,
    });
    expect(byModel['gpt-image-2']).toMatchObject({
      operation: 'responses.create',
      usage: { input_text_tokens: 4, output_image_tokens: 4160 },
      images: 1,
      cost_usd: '0.124820',
      priced: true,
    });
    expect(byModel['gpt-image-2'].event_id).toBe(`${byModel['gpt-5'].event_id}:image_generation`);
  });

  it('records streamed Responses and Chat Completions usage', async () => {
    const openai = instrumented({ tags: { run: 'text-streams' } });
    const responseStream = await openai.responses.create({
      model: 'gpt-5',
      input: 'hi',
      stream: true,
      tools: [{ type: 'image_generation', model: 'gpt-image-2' } as any],
    });
    for await (const _ of responseStream) void _;
    const chatStream = await openai.chat.completions.create({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of chatStream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello');
    await eventually(async () => expect(tokenTallyOf(openai)!.stats.queued).toBe(3));
    await tokenTallyOf(openai)!.flush();
    const events = await storedEvents(3, '&tag:run=text-streams');
    const chat = events.find((e) => e.operation === 'chat.completions.create')!;
    expect(chat).toMatchObject({
      model: 'gpt-4.1',
      usage: { input_text_tokens: 176, cached_input_text_tokens: 1024, output_text_tokens: 90 },
    });
    expect(
      events
        .filter((e) => e.operation === 'responses.create')
        .map((e) => e.model)
        .sort(),
    ).toEqual(['gpt-5', 'gpt-image-2']);
  });

  it('attributes calls per call through tokentally.run and through headers it strips before they leave', async () => {
    const openai = instrumented({ tags: { run: 'attribution' } });
    await tokentally.run({ user: 'u_7', feature: 'avatars', tags: { plan: 'pro' } }, () =>
      openai.images.generate({ model: 'gpt-image-2', prompt: 'one' }),
    );
    const before = fake.received.length;
    await openai.images.generate(
      { model: 'gpt-image-2', prompt: 'two' },
      { headers: { 'X-TokenTally-User': 'u_8', 'X-TokenTally-Feature': 'banners', 'X-TokenTally-Tags': 'plan=free' } },
    );
    const sent = fake.received[before];
    expect(Object.keys(sent.headers).filter((h) => h.startsWith('x-tokentally'))).toEqual([]);
    expect(sent.headers.authorization).toBe('Bearer sk-fake');
    await tokenTallyOf(openai)!.flush();
    const events = await storedEvents(2, '&tag:run=attribution');
    const byUser = Object.fromEntries(events.map((e) => [e.dimensions.user, e]));
    expect(byUser.u_7).toMatchObject({
      dimensions: { team: 'growth', environment: 'test', user: 'u_7', feature: 'avatars' },
      tags: { run: 'attribution', plan: 'pro' },
    });
    expect(byUser.u_8).toMatchObject({
      dimensions: { user: 'u_8', feature: 'banners' },
      tags: { run: 'attribution', plan: 'free' },
    });
  });

  it('counts a call whose attribution passes the server limits (cut to them) or carries a malformed escape (headers still stripped)', async () => {
    const openai = instrumented({ tags: { run: 'limits' } });
    const before = fake.received.length;
    await tokentally.run({ user: 'u'.repeat(10_000), tags: { note: 'n'.repeat(5_000) } }, () =>
      openai.images.generate({ model: 'gpt-image-2', prompt: 'long' }),
    );
    await openai.images.generate(
      { model: 'gpt-image-2', prompt: 'escape' },
      { headers: { 'X-TokenTally-Tags': 'plan=%E0%A4%A', 'X-TokenTally-User': 'u_9' } },
    );
    for (const sent of fake.received.slice(before))
      expect(Object.keys(sent.headers).filter((h) => h.startsWith('x-tokentally'))).toEqual([]);
    await tokenTallyOf(openai)!.flush();
    expect(tokenTallyOf(openai)!.stats.rejected).toBe(0);
    const events = await storedEvents(2, '&tag:run=limits');
    const byPrompt = events.sort((a, b) => a.dimensions.user.length - b.dimensions.user.length);
    expect(byPrompt.map((e) => [e.dimensions.user.length, e.tags.note?.length ?? null, e.tags.plan ?? null])).toEqual([
      [3, null, '%E0%A4%A'],
      [200, 200, null],
    ]);
    for (const e of events) expect(e.cost_usd).not.toBeNull();
  });

  it('records a failed call as an error with no tokens, and the caller gets the usual error', async () => {
    const openai = instrumented({ tags: { run: 'failure' } });
    fake.failNext(1, 400);
    await expect(openai.images.generate({ model: 'gpt-image-2', prompt: 'bad' })).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    );
    await eventually(async () => expect(tokenTallyOf(openai)!.stats.queued).toBe(1));
    await tokenTallyOf(openai)!.flush();
    const [event] = await storedEvents(1, '&tag:run=failure');
    expect(event).toMatchObject({
      status: 'error',
      model: 'gpt-image-2',
      usage: { output_image_tokens: 0 },
      cost_usd: '0.000000',
    });
  });

  it('works as a fetch option, and the plain client tracks calls made without openai', async () => {
    const tally = new TokenTallyClient({ endpoint: t.url, apiKey: ingestKey, flushOnExit: false });
    const openai = new OpenAI({
      apiKey: 'sk-fake',
      baseURL: fake.url,
      fetch: tokenTallyFetch({
        endpoint: t.url,
        apiKey: ingestKey,
        client: tally,
        provider: 'vercel',
        tags: { run: 'fetch-option' },
      }),
    });
    await openai.images.generate({ model: 'openai/gpt-image-2', prompt: 'x'.repeat(480), quality: 'high' });
    tally.track({
      provider: 'vercel',
      model: 'gpt-image-2',
      operation: 'images.generate',
      usage: { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 },
      tags: { run: 'fetch-option' },
    });
    await eventually(async () => expect(tally.stats.queued).toBe(2));
    await tally.flush();
    const events = await storedEvents(2, '&tag:run=fetch-option');
    expect(events.map((e) => [e.provider, e.model, e.cost_usd]).sort()).toEqual([
      ['vercel', 'gpt-image-2', '0.125400'], // (120 + 0) x $5 + 4,160 x $30 per 1M
      ['vercel', 'gpt-image-2', '0.131850'],
    ]);
  });

  it('instruments a client only once', () => {
    const openai = instrumented();
    const first = (openai as any).fetch;
    withTokenTally(openai, { endpoint: t.url, apiKey: ingestKey });
    expect((openai as any).fetch).toBe(first);
  });
});
