import OpenAI, { toFile } from 'openai';
import { tokenTallyOf, withTokenTally } from '@tokentally/openai';
import { DEFAULT_IMAGE_TOOL_MODEL } from '../../libs/sdk/src/usage';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, viewerClient } from '../support/factories';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http';
import { FakeOpenAI, startFakeOpenAI, TINY_PNG_B64 } from '../fakes/openai-server';
import { OPENAPI_SOURCE, propertiesOf, realSizeImageB64, requiredOf, schema, violations } from './openai-schema';

/**
 * "The SDK follows OpenAI's published schema, field by field." Every answer
 * below is built exactly per a schema of OpenAI's OpenAPI document (the fixture
 * test/fixtures/real/openai-openapi-images.json: every required field, nothing
 * the schema does not declare, checked by `violations`), with image payloads at
 * real size, served by the local fake OpenAI to the real `openai` client wrapped
 * with withTokenTally, and checked in what the real TokenTally server recorded.
 *
 * Costs are worked by hand from the built-in catalog, gpt-image-2 on openai, USD
 * per 1M tokens: text in 5, cached text 1.25, image in 8, cached image 2,
 * image out 30, text out 10.
 */

type Event = Record<string, any> & { ingest: Record<string, any> };

const KINDS = [
  'input_text',
  'cached_input_text',
  'input_image',
  'cached_input_image',
  'output_image',
  'output_text',
] as const;
/** All six token kinds, zero unless given. */
function sixKinds(given: Partial<Record<(typeof KINDS)[number], number>> = {}): Record<string, number> {
  return Object.fromEntries(KINDS.map((kind) => [`${kind}_tokens`, given[kind] ?? 0]));
}

/** Real answers carry 1-3 MB of base64 per image. */
const IMAGE_A = realSizeImageB64(1_500_000);
const IMAGE_B = realSizeImageB64(1_600_000);
const PARTIAL = realSizeImageB64(1_400_000);
const CREATED = 1_764_400_000;

function expectPerSchema(name: string, value: unknown) {
  expect(violations(name, value)).toEqual([]);
}

/** A Responses API `response` object as the API returns it (the Response schema is not in the fixture; its output items
 * are). */
function responseObject(output: unknown[], extra: Record<string, unknown> = {}) {
  return {
    id: 'resp_68d2f1c9a0b48190a1c2e3f4a5b6c7d8',
    object: 'response',
    created_at: CREATED,
    status: 'completed',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: 'gpt-5-2025-08-07',
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: 'medium', summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: {
      input_tokens: 2100,
      input_tokens_details: { cached_tokens: 1000 },
      output_tokens: 180,
      output_tokens_details: { reasoning_tokens: 64 },
      total_tokens: 2280,
    },
    user: null,
    metadata: {},
    ...extra,
  };
}

const message = {
  type: 'message',
  id: 'msg_68d2f1d0c3e48190b2c3d4e5f6a7b8c9',
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'output_text', text: 'Here is your image.', annotations: [], logprobs: [] }],
};

/** An `image_generation_call` output item, exactly ImageGenToolCall: type, id, status, result. Nothing else. */
function imageCall(id: string, status: 'completed' | 'failed', result: string | null) {
  const item = { type: 'image_generation_call', id, status, result };
  expectPerSchema('ImageGenToolCall', item);
  return item;
}

/** The main model's event of every Responses case: gpt-5 has no price in the built-in catalog. */
const MAIN_MODEL_EVENT = {
  model: 'gpt-5-2025-08-07',
  operation: 'responses.create',
  status: 'ok',
  usage: sixKinds({ input_text: 1100, cached_input_text: 1000, output_text: 180 }),
  cost_usd: null,
  priced: false,
};

/** A streamed Responses answer carrying `response`, event by event as the API sends them. */
function responseStream(response: ReturnType<typeof responseObject>) {
  const events: Array<Record<string, unknown>> = [];
  let seq = 0;
  const push = (event: Record<string, unknown>) => events.push({ ...event, sequence_number: seq++ });
  const inProgress = { ...response, status: 'in_progress', output: [], usage: null };
  push({ type: 'response.created', response: inProgress });
  push({ type: 'response.in_progress', response: inProgress });
  (response.output as Array<Record<string, any>>).forEach((item, output_index) => {
    if (item.type === 'image_generation_call') {
      push({
        type: 'response.output_item.added',
        output_index,
        item: { ...item, status: 'in_progress', result: null },
      });
      push({ type: 'response.image_generation_call.in_progress', output_index, item_id: item.id });
      push({ type: 'response.image_generation_call.generating', output_index, item_id: item.id });
      if (item.result) {
        push({
          type: 'response.image_generation_call.partial_image',
          output_index,
          item_id: item.id,
          partial_image_index: 0,
          partial_image_b64: PARTIAL,
        });
        push({ type: 'response.image_generation_call.completed', output_index, item_id: item.id });
      }
      push({ type: 'response.output_item.done', output_index, item });
    } else {
      push({ type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress', content: [] } });
      push({
        type: 'response.output_text.delta',
        output_index,
        item_id: item.id,
        content_index: 0,
        delta: 'Here is your image.',
        logprobs: [],
      });
      push({
        type: 'response.output_text.done',
        output_index,
        item_id: item.id,
        content_index: 0,
        text: 'Here is your image.',
        logprobs: [],
      });
      push({ type: 'response.output_item.done', output_index, item });
    }
  });
  push({ type: 'response.completed', response });
  return events;
}

describe(`SDK conformance with OpenAI's published image schemas (${OPENAPI_SOURCE})`, () => {
  let t: TestApp;
  let fake: FakeOpenAI;
  let viewer: HttpClient;
  let ingestKey: string;
  let projectId: string;
  /** What the ingest answered for each event (pricing state, cost). */
  const ingested = new Map<string, Record<string, any>>();

  const deliveryFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (response.ok) {
      const body = (await response.clone().json()) as { results?: Array<Record<string, any>> };
      for (const result of body.results ?? []) ingested.set(result.event_id, result);
    }
    return response;
  };

  beforeAll(async () => {
    [t, fake] = await Promise.all([startTestApp(), startFakeOpenAI()]);
    ({ key: ingestKey, projectId } = await projectWithIngestKey(t.http));
    viewer = await viewerClient(t.http);
  });
  afterAll(async () => {
    await fake?.close();
    await t?.close();
  });

  function instrumented(run: string) {
    return withTokenTally(new OpenAI({ baseURL: fake.url, apiKey: 'x', maxRetries: 0 }), {
      endpoint: t.url,
      apiKey: ingestKey,
      provider: 'openai',
      flushOnExit: false,
      tags: { run },
      deliveryFetch,
    });
  }

  /** The events the server stored for one run (exactly `count`: never one twice), each with what the ingest answered.
   * */
  async function recorded(openai: OpenAI, run: string, count: number): Promise<Event[]> {
    const tally = tokenTallyOf(openai)!;
    await eventually(async () => expect(tally.stats.queued).toBeGreaterThanOrEqual(count));
    await tally.flush();
    expect(tally.stats).toMatchObject({ queued: count, delivered: count, rejected: 0, failed: 0 });
    const res = await viewer.get(`/v1/events?project=${projectId}&limit=1000&tag:run=${run}`);
    expect(res.status).toBe(200);
    const events = res.body.data as Array<Record<string, any>>;
    expect(events).toHaveLength(count);
    return events.map((event) => ({ ...event, ingest: ingested.get(event.event_id)! }));
  }

  const byPart = (events: Event[]) => ({
    main: events.find((e) => !e.event_id.endsWith(':image_generation'))!,
    tool: events.find((e) => e.event_id.endsWith(':image_generation'))!,
  });

  it('the schema says what the SDK relies on', () => {
    // Images API: no model in the answer; output details optional on the JSON answer, absent from streamed usage.
    expect(propertiesOf('ImagesResponse')).toEqual([
      'background',
      'created',
      'data',
      'output_format',
      'quality',
      'size',
      'usage',
    ]);
    expect(requiredOf('ImagesResponse')).toEqual(['created']);
    expect(schema('ImagesResponse').properties.usage.$ref).toBe('#/components/schemas/ImageGenUsage');
    expect(propertiesOf('ImageGenUsage')).toEqual([
      'input_tokens',
      'input_tokens_details',
      'output_tokens',
      'output_tokens_details',
      'total_tokens',
    ]);
    expect(requiredOf('ImageGenUsage')).not.toContain('output_tokens_details');
    expect(requiredOf('ImageGenOutputTokensDetails')).toEqual(['image_tokens', 'text_tokens']);
    expect(propertiesOf('ImagesUsage')).toEqual([
      'input_tokens',
      'input_tokens_details',
      'output_tokens',
      'total_tokens',
    ]);
    // Streaming: completed events carry usage (required), partial images none.
    for (const name of ['ImageGenCompletedEvent', 'ImageEditCompletedEvent']) {
      expect(requiredOf(name)).toEqual([
        'b64_json',
        'background',
        'created_at',
        'output_format',
        'quality',
        'size',
        'type',
        'usage',
      ]);
      expect(schema(name).properties.usage.$ref).toBe('#/components/schemas/ImagesUsage');
    }
    for (const name of ['ImageGenPartialImageEvent', 'ImageEditPartialImageEvent'])
      expect(propertiesOf(name)).not.toContain('usage');
    // Responses: the tool call item is type/id/status/result; size, quality and model are the tool config's.
    expect(propertiesOf('ImageGenToolCall')).toEqual(['id', 'result', 'status', 'type']);
    expect(requiredOf('ImageGenToolCall')).toEqual(['id', 'result', 'status', 'type']);
    expect(propertiesOf('ImageGenTool')).toEqual(expect.arrayContaining(['model', 'quality', 'size']));
    expect(schema('ImageGenTool').properties.model.anyOf[1].default).toBe(DEFAULT_IMAGE_TOOL_MODEL);
    // The checker is strict: an undeclared field or a missing required one is a violation.
    expect(
      violations('ImageGenToolCall', {
        type: 'image_generation_call',
        id: 'ig_1',
        status: 'completed',
        result: 'x',
        size: '1024x1024',
      }),
    ).toEqual(['$.size: not in the schema']);
    expect(violations('ImagesUsage', { input_tokens: 1, output_tokens: 1, total_tokens: 2 })).toEqual([
      '$.input_tokens_details: required, missing',
    ]);
  });

  it('ImagesResponse with output_tokens_details: image and text output split, model from the request, exact cost $0.18742', async () => {
    const answer = {
      created: CREATED,
      data: [{ b64_json: IMAGE_A }],
      background: 'opaque',
      output_format: 'png',
      size: '1536x1024',
      quality: 'high',
      usage: {
        input_tokens: 52,
        input_tokens_details: { text_tokens: 52, image_tokens: 0 },
        output_tokens: 6300,
        output_tokens_details: { image_tokens: 6208, text_tokens: 92 },
        total_tokens: 6352,
      },
    };
    expectPerSchema('ImagesResponse', answer);
    fake.serveNext({ json: answer });
    const openai = instrumented('images-details');
    const image = await openai.images.generate({
      model: 'gpt-image-2',
      prompt: 'a red fox',
      size: '1536x1024',
      quality: 'high',
      output_format: 'png',
      background: 'opaque',
    });
    expect(image.data?.[0].b64_json).toBe(IMAGE_A);
    const [event] = await recorded(openai, 'images-details', 1);
    expect(event).toMatchObject({
      provider: 'openai',
      model: 'gpt-image-2',
      operation: 'images.generate',
      status: 'ok',
      images: 1,
      image_size: '1536x1024',
      image_quality: 'high',
    });
    expect(event.usage).toEqual(sixKinds({ input_text: 52, output_image: 6208, output_text: 92 }));
    // 52 x $5 + 6,208 x $30 + 92 x $10 per 1M = 0.000260 + 0.186240 + 0.000920
    expect(event).toMatchObject({ cost_usd: '0.187420', priced: true });
    expect(event.ingest).toMatchObject({ status: 'accepted', cost_usd: '0.187420', priced: true, pricing: 'priced' });
  });

  it('ImagesResponse without output_tokens_details (n=2): output tokens are image output, size and quality from the answer, exact cost $0.06347', async () => {
    const answer = {
      created: CREATED,
      data: [{ b64_json: IMAGE_A }, { b64_json: IMAGE_B }],
      background: 'transparent',
      output_format: 'webp',
      size: '1024x1024',
      quality: 'medium',
      usage: {
        input_tokens: 22,
        input_tokens_details: { text_tokens: 22, image_tokens: 0 },
        output_tokens: 2112,
        total_tokens: 2134,
      },
    };
    expectPerSchema('ImagesResponse', answer);
    fake.serveNext({ json: answer });
    const openai = instrumented('images-no-details');
    const images = await openai.images.generate({
      model: 'gpt-image-2',
      prompt: 'two owls',
      n: 2,
      size: 'auto',
      quality: 'auto',
      output_format: 'webp',
      background: 'transparent',
    });
    expect(images.data?.map((d) => d.b64_json)).toEqual([IMAGE_A, IMAGE_B]);
    const [event] = await recorded(openai, 'images-no-details', 1);
    expect(event).toMatchObject({
      model: 'gpt-image-2',
      operation: 'images.generate',
      images: 2,
      image_size: '1024x1024',
      image_quality: 'medium',
    });
    expect(event.usage).toEqual(sixKinds({ input_text: 22, output_image: 2112 }));
    // 22 x $5 + 2,112 x $30 per 1M (never the $10 text-output rate)
    expect(event).toMatchObject({ cost_usd: '0.063470', priced: true });
    expect(event.ingest).toMatchObject({ pricing: 'priced', cost_usd: '0.063470' });
  });

  it('images.edit ImagesResponse with image input tokens: exact cost $0.13552', async () => {
    const answer = {
      created: CREATED,
      data: [{ b64_json: IMAGE_A }],
      background: 'opaque',
      output_format: 'png',
      size: '1024x1024',
      quality: 'high',
      usage: {
        input_tokens: 1370,
        input_tokens_details: { text_tokens: 80, image_tokens: 1290 },
        output_tokens: 4160,
        output_tokens_details: { image_tokens: 4160, text_tokens: 0 },
        total_tokens: 5530,
      },
    };
    expectPerSchema('ImagesResponse', answer);
    fake.serveNext({ json: answer });
    const openai = instrumented('edit');
    const source = await toFile(Buffer.from(IMAGE_B, 'base64'), 'in.png', { type: 'image/png' });
    const edited = await openai.images.edit({
      model: 'gpt-image-2',
      image: source,
      prompt: 'make the sky purple',
      size: '1024x1024',
      quality: 'high',
    });
    expect(edited.data?.[0].b64_json).toBe(IMAGE_A);
    const [event] = await recorded(openai, 'edit', 1);
    expect(event).toMatchObject({
      model: 'gpt-image-2',
      operation: 'images.edit',
      images: 1,
      image_size: '1024x1024',
      image_quality: 'high',
    });
    expect(event.usage).toEqual(sixKinds({ input_text: 80, input_image: 1290, output_image: 4160 }));
    // 80 x $5 + 1,290 x $8 + 4,160 x $30 per 1M
    expect(event).toMatchObject({ cost_usd: '0.135520', priced: true });
  });

  it('ImagesResponse with only what the schema requires besides the images (no usage): images, size, quality, zero tokens, unpriced per image', async () => {
    const answer = { created: CREATED, data: [{ b64_json: IMAGE_A }] };
    expectPerSchema('ImagesResponse', answer);
    fake.serveNext({ json: answer });
    const openai = instrumented('images-no-usage');
    await openai.images.generate({ model: 'gpt-image-2', prompt: 'a kettle', size: '1024x1024', quality: 'high' });
    const [event] = await recorded(openai, 'images-no-usage', 1);
    expect(event).toMatchObject({ model: 'gpt-image-2', images: 1, image_size: '1024x1024', image_quality: 'high' });
    expect(event.usage).toEqual(sixKinds());
    // No per-image price for gpt-image-2 in the built-in catalog: unpriced, never a priced $0.
    expect(event).toMatchObject({ cost_usd: null, priced: false });
    expect(event.ingest).toMatchObject({
      pricing: 'unpriced',
      unpriced_kinds: ['per_image'],
      cost_usd: null,
      priced: false,
    });
  });

  it('streamed image_generation: partial images carry no usage, the completed event is recorded once: $0.053565', async () => {
    const common = {
      created_at: CREATED,
      size: '1024x1536',
      quality: 'medium',
      background: 'opaque',
      output_format: 'png',
    } as const;
    const partials = [0, 1].map((i) => ({
      type: 'image_generation.partial_image',
      b64_json: PARTIAL,
      ...common,
      partial_image_index: i,
    }));
    const completed = {
      type: 'image_generation.completed',
      b64_json: IMAGE_A,
      ...common,
      usage: {
        total_tokens: 1793,
        input_tokens: 9,
        output_tokens: 1784,
        input_tokens_details: { text_tokens: 9, image_tokens: 0 },
      },
    };
    partials.forEach((p) => expectPerSchema('ImageGenPartialImageEvent', p));
    expectPerSchema('ImageGenCompletedEvent', completed);
    fake.serveNext({ sse: [...partials, completed] });
    const openai = instrumented('stream-generate');
    const stream = await openai.images.generate({
      model: 'gpt-image-2',
      prompt: 'a lighthouse',
      stream: true,
      partial_images: 2,
      size: '1024x1536',
      quality: 'medium',
    });
    const seen: Array<{ type: string; b64: number }> = [];
    for await (const event of stream) seen.push({ type: event.type, b64: event.b64_json.length });
    expect(seen).toEqual([
      { type: 'image_generation.partial_image', b64: PARTIAL.length },
      { type: 'image_generation.partial_image', b64: PARTIAL.length },
      { type: 'image_generation.completed', b64: IMAGE_A.length },
    ]);
    const [event] = await recorded(openai, 'stream-generate', 1);
    expect(event).toMatchObject({
      model: 'gpt-image-2',
      operation: 'images.generate',
      images: 1,
      image_size: '1024x1536',
      image_quality: 'medium',
    });
    expect(event.usage).toEqual(sixKinds({ input_text: 9, output_image: 1784 }));
    // 9 x $5 + 1,784 x $30 per 1M (the completed usage already counts the partial images)
    expect(event).toMatchObject({ cost_usd: '0.053565', priced: true });
  });

  it('streamed image_edit: a partial image, then the completed event with image input: $0.02153', async () => {
    const common = {
      created_at: CREATED,
      size: '1024x1024',
      quality: 'low',
      background: 'transparent',
      output_format: 'png',
    } as const;
    const partial = { type: 'image_edit.partial_image', b64_json: PARTIAL, ...common, partial_image_index: 0 };
    const completed = {
      type: 'image_edit.completed',
      b64_json: IMAGE_A,
      ...common,
      usage: {
        total_tokens: 1672,
        input_tokens: 1300,
        output_tokens: 372,
        input_tokens_details: { text_tokens: 10, image_tokens: 1290 },
      },
    };
    expectPerSchema('ImageEditPartialImageEvent', partial);
    expectPerSchema('ImageEditCompletedEvent', completed);
    fake.serveNext({ sse: [partial, completed] });
    const openai = instrumented('stream-edit');
    const source = await toFile(Buffer.from(TINY_PNG_B64, 'base64'), 'in.png', { type: 'image/png' });
    const stream = await openai.images.edit({
      model: 'gpt-image-2',
      image: source,
      prompt: 'add a moon',
      stream: true,
      partial_images: 1,
      size: '1024x1024',
      quality: 'low',
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(['image_edit.partial_image', 'image_edit.completed']);
    const [event] = await recorded(openai, 'stream-edit', 1);
    expect(event).toMatchObject({
      model: 'gpt-image-2',
      operation: 'images.edit',
      images: 1,
      image_size: '1024x1024',
      image_quality: 'low',
    });
    expect(event.usage).toEqual(sixKinds({ input_text: 10, input_image: 1290, output_image: 372 }));
    // 10 x $5 + 1,290 x $8 + 372 x $30 per 1M
    expect(event).toMatchObject({ cost_usd: '0.021530', priced: true });
  });

  it('streamed generation with n=2: one completed event per image, each image and its usage counted once: $0.02241', async () => {
    // The schema has no image index and no request total: each completed event is one final image with its own usage.
    const common = {
      created_at: CREATED,
      size: '1024x1024',
      quality: 'low',
      background: 'opaque',
      output_format: 'png',
    } as const;
    const usage = {
      total_tokens: 381,
      input_tokens: 9,
      output_tokens: 372,
      input_tokens_details: { text_tokens: 9, image_tokens: 0 },
    };
    const events = [
      { type: 'image_generation.partial_image', b64_json: PARTIAL, ...common, partial_image_index: 0 },
      { type: 'image_generation.completed', b64_json: IMAGE_A, ...common, usage },
      { type: 'image_generation.partial_image', b64_json: PARTIAL, ...common, partial_image_index: 0 },
      { type: 'image_generation.completed', b64_json: IMAGE_B, ...common, usage },
    ];
    events.forEach((e) =>
      expectPerSchema(
        e.type === 'image_generation.completed' ? 'ImageGenCompletedEvent' : 'ImageGenPartialImageEvent',
        e,
      ),
    );
    fake.serveNext({ sse: events });
    const openai = instrumented('stream-n2');
    const stream = await openai.images.generate({
      model: 'gpt-image-2',
      prompt: 'two cats',
      n: 2,
      stream: true,
      partial_images: 1,
      size: '1024x1024',
      quality: 'low',
    });
    const completedImages: string[] = [];
    for await (const event of stream)
      if (event.type === 'image_generation.completed') completedImages.push(event.b64_json);
    expect(completedImages).toEqual([IMAGE_A, IMAGE_B]);
    const [event] = await recorded(openai, 'stream-n2', 1);
    expect(event).toMatchObject({ model: 'gpt-image-2', images: 2, image_size: '1024x1024', image_quality: 'low' });
    expect(event.usage).toEqual(sixKinds({ input_text: 18, output_image: 744 }));
    // (9 + 9) x $5 + (372 + 372) x $30 per 1M
    expect(event).toMatchObject({ cost_usd: '0.022410', priced: true });
  });

  it('a caller that breaks out of the stream at the completed event is recorded once; one that leaves before it, as an error with no tokens', async () => {
    const common = {
      created_at: CREATED,
      size: '1024x1024',
      quality: 'high',
      background: 'opaque',
      output_format: 'png',
    } as const;
    const partial = { type: 'image_generation.partial_image', b64_json: PARTIAL, ...common, partial_image_index: 0 };
    const completed = {
      type: 'image_generation.completed',
      b64_json: IMAGE_A,
      ...common,
      usage: {
        total_tokens: 4167,
        input_tokens: 7,
        output_tokens: 4160,
        input_tokens_details: { text_tokens: 7, image_tokens: 0 },
      },
    };
    expectPerSchema('ImageGenCompletedEvent', completed);
    fake.serveNext({ sse: [partial, completed] });
    fake.serveNext({ sse: [partial, completed] });
    const openai = instrumented('stream-break');
    const first = await openai.images.generate({
      model: 'gpt-image-2',
      prompt: 'a fox',
      stream: true,
      partial_images: 1,
      size: '1024x1024',
      quality: 'high',
    });
    for await (const event of first) if (event.type === 'image_generation.completed') break; // the openai client cancels the body here
    const second = await openai.images.generate({
      model: 'gpt-image-2',
      prompt: 'a wolf',
      stream: true,
      partial_images: 1,
      size: '1024x1024',
      quality: 'high',
    });
    for await (const event of second) if (event.type === 'image_generation.partial_image') break; // left before the final image
    const events = await recorded(openai, 'stream-break', 2);
    const done = events.find((e) => e.status === 'ok')!;
    const left = events.find((e) => e.status === 'error')!;
    expect(done).toMatchObject({
      images: 1,
      image_size: '1024x1024',
      image_quality: 'high',
      usage: sixKinds({ input_text: 7, output_image: 4160 }),
      cost_usd: '0.124835',
    });
    expect(left).toMatchObject({ model: 'gpt-image-2', usage: sixKinds() });
    expect(left.images ?? 0).toBe(0);
  });

  describe('Responses API with the hosted image_generation tool', () => {
    const withoutToolUsage = () =>
      responseObject([imageCall('ig_68d2f1cc0a9c8190aa11bb22cc33dd44', 'completed', IMAGE_A), message], {
        tools: [
          {
            type: 'image_generation',
            model: 'gpt-image-2',
            size: '1024x1536',
            quality: 'low',
            background: 'auto',
            output_format: 'png',
            moderation: 'auto',
            output_compression: 100,
            partial_images: 0,
          },
        ],
      });
    const withToolUsage = () =>
      responseObject([imageCall('ig_68d2f1cc0a9c8190aa11bb22cc33dd55', 'completed', IMAGE_A), message], {
        tools: [
          {
            type: 'image_generation',
            model: 'gpt-image-2',
            size: '1024x1024',
            quality: 'high',
            background: 'auto',
            output_format: 'png',
            moderation: 'auto',
            output_compression: 100,
            partial_images: 0,
          },
        ],
        // Seen in real traffic, not in the schema: the tool's own tokens.
        tool_usage: {
          image_gen: {
            input_tokens: 40,
            input_tokens_details: { text_tokens: 40, image_tokens: 0 },
            output_tokens: 4160,
            output_tokens_details: { image_tokens: 4160, text_tokens: 0 },
            total_tokens: 4200,
          },
        },
      });

    const noUsageTool = {
      model: 'gpt-image-2',
      operation: 'responses.create',
      status: 'ok',
      images: 1,
      image_size: '1024x1536',
      image_quality: 'low',
      usage: sixKinds(),
      cost_usd: null,
      priced: false,
    };
    const pricedTool = {
      model: 'gpt-image-2',
      operation: 'responses.create',
      status: 'ok',
      images: 1,
      image_size: '1024x1024',
      image_quality: 'high',
      usage: sixKinds({ input_text: 40, output_image: 4160 }),
      // 40 x $5 + 4,160 x $30 per 1M
      cost_usd: '0.125000',
      priced: true,
    };

    it('an image_generation_call without tool usage: images, size and quality from the tool config, zero tokens, unpriced per image', async () => {
      fake.serveNext({ json: withoutToolUsage() });
      const openai = instrumented('responses-no-tool-usage');
      const response = await openai.responses.create({
        model: 'gpt-5',
        input: 'Draw a heron at dawn',
        tools: [{ type: 'image_generation', model: 'gpt-image-2', size: '1024x1536', quality: 'low' }],
      });
      expect(response.output_text).toBe('Here is your image.');
      expect((response.output[0] as { result: string }).result).toBe(IMAGE_A);
      const { main, tool } = byPart(await recorded(openai, 'responses-no-tool-usage', 2));
      expect(main).toMatchObject(MAIN_MODEL_EVENT);
      expect(main.ingest).toMatchObject({ pricing: 'unpriced', cost_usd: null });
      expect(tool).toMatchObject(noUsageTool);
      expect(tool.event_id).toBe(`${main.event_id}:image_generation`);
      // No per-image price for gpt-image-2 in the built-in catalog: unpriced, never a priced $0.
      expect(tool.ingest).toMatchObject({
        pricing: 'unpriced',
        unpriced_kinds: ['per_image'],
        cost_usd: null,
        priced: false,
      });
    });

    it('tool_usage.image_gen (real traffic): the tool event is priced by its tokens, $0.125', async () => {
      fake.serveNext({ json: withToolUsage() });
      const openai = instrumented('responses-tool-usage');
      await openai.responses.create({
        model: 'gpt-5',
        input: 'Draw a heron at noon',
        tools: [{ type: 'image_generation', model: 'gpt-image-2', size: '1024x1024', quality: 'high' }],
      });
      const { main, tool } = byPart(await recorded(openai, 'responses-tool-usage', 2));
      expect(main).toMatchObject(MAIN_MODEL_EVENT);
      expect(tool).toMatchObject(pricedTool);
      expect(tool.ingest).toMatchObject({ pricing: 'priced', cost_usd: '0.125000', priced: true });
    });

    it('counts only image_generation_call items with a result (a failed call has none); the tool model defaults to gpt-image-1', async () => {
      const answer = responseObject(
        [
          imageCall('ig_68d2f1cc0a9c8190aa11bb22cc33dd66', 'completed', IMAGE_A),
          imageCall('ig_68d2f1cc0a9c8190aa11bb22cc33dd77', 'failed', null),
          imageCall('ig_68d2f1cc0a9c8190aa11bb22cc33dd88', 'completed', IMAGE_B),
          message,
        ],
        {
          tools: [
            {
              type: 'image_generation',
              background: 'auto',
              model: 'gpt-image-1',
              moderation: 'auto',
              output_compression: 100,
              output_format: 'png',
              partial_images: 0,
              quality: 'auto',
              size: 'auto',
            },
          ],
        },
      );
      fake.serveNext({ json: answer });
      const openai = instrumented('responses-failed-call');
      await openai.responses.create({
        model: 'gpt-5',
        input: 'Draw three herons',
        tools: [{ type: 'image_generation' }],
      });
      const { main, tool } = byPart(await recorded(openai, 'responses-failed-call', 2));
      expect(main).toMatchObject(MAIN_MODEL_EVENT);
      // Neither the items nor the request say a size or quality: none is made up.
      expect(tool).toMatchObject({
        model: 'gpt-image-1',
        status: 'ok',
        images: 2,
        image_size: null,
        image_quality: null,
        usage: sixKinds(),
        cost_usd: null,
        priced: false,
      });
      expect(tool.ingest).toMatchObject({ pricing: 'unpriced', unpriced_kinds: ['per_image'], cost_usd: null });
    });

    it('a tool call that made no image is recorded as a failed part, with no tokens and no images', async () => {
      fake.serveNext({
        json: responseObject([imageCall('ig_68d2f1cc0a9c8190aa11bb22cc33dd99', 'failed', null), message]),
      });
      const openai = instrumented('responses-no-image');
      await openai.responses.create({
        model: 'gpt-5',
        input: 'Draw nothing',
        tools: [{ type: 'image_generation', model: 'gpt-image-2', size: '1024x1024', quality: 'high' }],
      });
      const { main, tool } = byPart(await recorded(openai, 'responses-no-image', 2));
      expect(main).toMatchObject(MAIN_MODEL_EVENT);
      expect(tool).toMatchObject({ model: 'gpt-image-2', status: 'error', images: 0, usage: sixKinds() });
    });

    it('reads the tool config of a request that carries an inline input image at real size: $0.05804', async () => {
      const answer = responseObject([imageCall('ig_68d2f1cc0a9c8190aa11bb22cc33ddaa', 'completed', IMAGE_A), message], {
        tools: [
          {
            type: 'image_generation',
            model: 'gpt-image-2',
            size: '1024x1536',
            quality: 'medium',
            action: 'edit',
            background: 'auto',
            output_format: 'png',
            moderation: 'auto',
            output_compression: 100,
            partial_images: 0,
          },
        ],
        tool_usage: {
          image_gen: {
            input_tokens: 1330,
            input_tokens_details: { text_tokens: 40, image_tokens: 1290 },
            output_tokens: 1584,
            output_tokens_details: { image_tokens: 1584, text_tokens: 0 },
            total_tokens: 2914,
          },
        },
      });
      fake.serveNext({ json: answer });
      const openai = instrumented('responses-large-request');
      await openai.responses.create({
        model: 'gpt-5',
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'Make the sky purple' },
              { type: 'input_image', image_url: `data:image/png;base64,${IMAGE_B}`, detail: 'auto' },
            ],
          },
        ],
        tools: [
          { type: 'image_generation', model: 'gpt-image-2', size: '1024x1536', quality: 'medium', action: 'edit' },
        ],
      });
      expect(fake.received[fake.received.length - 1].body.length).toBeGreaterThan(1_600_000);
      const { tool } = byPart(await recorded(openai, 'responses-large-request', 2));
      expect(tool).toMatchObject({ model: 'gpt-image-2', images: 1, image_size: '1024x1536', image_quality: 'medium' });
      expect(tool.usage).toEqual(sixKinds({ input_text: 40, input_image: 1290, output_image: 1584 }));
      // 40 x $5 + 1,290 x $8 + 1,584 x $30 per 1M
      expect(tool).toMatchObject({ cost_usd: '0.058040', priced: true });
    });

    it.each([
      [
        'without tool usage',
        withoutToolUsage,
        { model: 'gpt-image-2', size: '1024x1536', quality: 'low' },
        noUsageTool,
        { pricing: 'unpriced', unpriced_kinds: ['per_image'] },
      ],
      [
        'with tool_usage.image_gen',
        withToolUsage,
        { model: 'gpt-image-2', size: '1024x1024', quality: 'high' },
        pricedTool,
        { pricing: 'priced' },
      ],
    ])(
      'streamed (response.completed) %s gives the same events as the JSON answer',
      async (name, build, tool, expectedTool, toolPricing) => {
        const run = `responses-stream-${name.replace(/\W+/g, '-')}`;
        fake.serveNext({ sse: responseStream(build()) });
        const openai = instrumented(run);
        const stream = await openai.responses.create({
          model: 'gpt-5',
          input: 'Draw a heron',
          stream: true,
          tools: [{ type: 'image_generation', partial_images: 1, ...tool } as any],
        });
        let completed: any = null;
        let partialImages = 0;
        for await (const event of stream) {
          if (event.type === 'response.image_generation_call.partial_image') partialImages++;
          if (event.type === 'response.completed') completed = event.response;
        }
        expect(partialImages).toBe(1);
        expect(completed.output[0].result).toBe(IMAGE_A);
        const { main, tool: toolEvent } = byPart(await recorded(openai, run, 2));
        expect(main).toMatchObject(MAIN_MODEL_EVENT);
        expect(toolEvent).toMatchObject(expectedTool);
        expect(toolEvent.ingest).toMatchObject(toolPricing);
      },
    );
  });

  it('stored events carry the pricing state of the contract (pricing, unpriced_kinds)', async () => {
    // DESIGN.md "Contract additions": every result, event and export carries `pricing`.
    const usage = {
      input_tokens: 22,
      input_tokens_details: { text_tokens: 22, image_tokens: 0 },
      output_tokens: 272,
      total_tokens: 294,
    };
    fake.serveNext({
      json: { created: CREATED, data: [{ b64_json: IMAGE_A }], size: '1024x1024', quality: 'low', usage },
    });
    fake.serveNext({ json: { created: CREATED, data: [{ b64_json: IMAGE_A }] } });
    const openai = instrumented('pricing-state');
    await openai.images.generate({ model: 'gpt-image-2', prompt: 'priced', size: '1024x1024', quality: 'low' });
    await openai.images.generate({ model: 'gpt-image-2', prompt: 'per image', size: '1024x1024', quality: 'low' });
    const events = await recorded(openai, 'pricing-state', 2);
    const priced = events.find((e) => e.usage.output_image_tokens > 0);
    const perImage = events.find((e) => e.usage.output_image_tokens === 0);
    // 22 x $5 + 272 x $30 per 1M
    expect(priced).toMatchObject({ pricing: 'priced', cost_usd: '0.008270' });
    expect(perImage).toMatchObject({ pricing: 'unpriced', unpriced_kinds: ['per_image'], cost_usd: null });
  });
});
