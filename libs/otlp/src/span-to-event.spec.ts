import { EventTimeWindow, UsageEventInput } from '@tokentally/ingest';
import { isImageModel as sdkIsImageModel } from '../../sdk/src/usage';
import { OtlpAttributes, OtlpSpan, OtlpValue } from './otlp-model';
import { isImageModel, PROVIDER_SLUGS, SpanOutcome, spanToUsageEvent } from './span-to-event';

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';
/** 2026-11-27T10:15:00Z */
const T0 = 1_795_774_500_000_000_000n;
const WINDOW: EventTimeWindow = { now: Date.parse('2026-11-28T00:00:00Z'), keptSince: null };

type Plain = string | number | bigint | boolean | OtlpValue;
const valueOf = (v: Plain): OtlpValue =>
  typeof v === 'string'
    ? { kind: 'string', value: v }
    : typeof v === 'bigint'
      ? { kind: 'int', value: v }
      : typeof v === 'number'
        ? Number.isInteger(v)
          ? { kind: 'int', value: BigInt(v) }
          : { kind: 'double', value: v }
        : typeof v === 'boolean'
          ? { kind: 'bool', value: v }
          : v;
const attrs = (values: Record<string, Plain>): OtlpAttributes =>
  new Map(Object.entries(values).map(([k, v]) => [k, valueOf(v)]));

/** A gpt-image-2 call on openai that took 8.123456 s, with `over` attributes on top (undefined removes one). */
function span(over: Record<string, Plain | undefined> = {}, fields: Partial<OtlpSpan> = {}): OtlpSpan {
  const base: Record<string, Plain | undefined> = {
    'gen_ai.provider.name': 'openai',
    'gen_ai.operation.name': 'generate_content',
    'gen_ai.request.model': 'gpt-image-2',
    'gen_ai.usage.input_tokens': 120,
    'gen_ai.usage.output_tokens': 4160,
    ...over,
  };
  const defined = Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<string, Plain>;
  return {
    traceId: TRACE,
    spanId: SPAN,
    name: 'generate_content gpt-image-2',
    startTimeUnixNano: T0,
    endTimeUnixNano: T0 + 8_123_456_789n,
    statusCode: 1,
    attributes: attrs(defined),
    problems: [],
    ...fields,
  };
}

const map = (s: OtlpSpan, resource: Record<string, Plain> = {}, window = WINDOW) =>
  spanToUsageEvent(s, attrs(resource), window);

function eventOf(outcome: SpanOutcome): UsageEventInput {
  if (outcome.kind !== 'event') throw new Error(`not an event: ${JSON.stringify(outcome)}`);
  return outcome.event;
}
function errorsOf(outcome: SpanOutcome): string[] {
  if (outcome.kind !== 'rejected') throw new Error(`not rejected: ${JSON.stringify(outcome)}`);
  return outcome.errors;
}

const ZERO_USAGE = {
  input_text: 0,
  cached_input_text: 0,
  input_image: 0,
  cached_input_image: 0,
  output_image: 0,
  output_text: 0,
};

describe('spanToUsageEvent', () => {
  it('makes a GenAI span an event: ids, time, model, usage, status, latency, dimensions and tags', () => {
    const event = eventOf(
      map(
        span({
          'gen_ai.response.model': 'gpt-image-2-2026-04-21',
          'enduser.id': 'u_42',
          'tokentally.tag.campaign': 'black-friday',
          'tokentally.images': 1,
          'tokentally.image_size': '1024x1024',
          'tokentally.image_quality': 'high',
        }),
        {
          'service.name': 'avatars',
          'deployment.environment.name': 'prod',
          'tokentally.team': 'growth',
          'tokentally.tag.region': 'eu',
          'host.name': 'box-1',
        },
      ),
    );
    expect(event).toEqual({
      eventId: `otel:${TRACE}:${SPAN}`,
      occurredAt: Date.parse('2026-11-27T10:15:08.123Z'),
      timestamp: '2026-11-27T10:15:08.123456Z',
      provider: 'openai',
      model: 'gpt-image-2-2026-04-21',
      operation: 'generate_content',
      usage: { ...ZERO_USAGE, input_text: 120, output_image: 4160 },
      images: 1,
      imageSize: '1024x1024',
      imageQuality: 'high',
      status: 'ok',
      latencyMs: 8123,
      team: 'growth',
      user: 'u_42',
      feature: 'avatars',
      environment: 'prod',
      tags: { campaign: 'black-friday', region: 'eu' },
      providerCostUsd: null,
    });
  });

  describe('which spans are model calls', () => {
    it('skips spans without GenAI attributes (HTTP, database, the AI SDK outer spans)', () => {
      const plain: OtlpSpan = {
        ...span(),
        attributes: attrs({ 'http.request.method': 'POST', 'ai.usage.promptTokens': 5 }),
      };
      expect(map(plain)).toEqual({ kind: 'skipped' });
      const operationOnly: OtlpSpan = { ...span(), attributes: attrs({ 'gen_ai.operation.name': 'chat' }) };
      expect(map(operationOnly)).toEqual({ kind: 'skipped' });
    });

    it.each(['invoke_agent', 'create_agent', 'invoke_workflow', 'execute_tool', 'retrieval'])(
      'skips %s spans: their usage is the sum of the model calls under them',
      (operation) => {
        expect(map(span({ 'gen_ai.operation.name': operation }))).toEqual({ kind: 'skipped' });
      },
    );

    it.each(['gen_ai.provider.name', 'gen_ai.system', 'gen_ai.request.model', 'gen_ai.usage.output_tokens'])(
      'takes a span with only %s as a model call (and says what it lacks)',
      (key) => {
        const only: OtlpSpan = { ...span(), attributes: attrs({ [key]: key.includes('tokens') ? 5 : 'openai' }) };
        expect(map(only).kind).not.toBe('skipped');
      },
    );
  });

  describe('provider', () => {
    it.each([
      ...Object.entries(PROVIDER_SLUGS),
      ['OpenAI', 'openai'],
      [' Azure.AI.OpenAI ', 'azure'],
      ['openai.chat', 'openai'],
      ['openai.responses', 'openai'],
      ['openai.image', 'openai'],
      ['azure.chat', 'azure'],
      ['google.generative-ai', 'google'],
      ['google.vertex.chat', 'google'],
      ['openrouter.chat', 'openrouter'],
      ['anthropic', 'anthropic'],
      ['aws.bedrock', 'aws.bedrock'],
      ['x_ai', 'x_ai'],
      ['My-Proxy', 'my-proxy'],
    ])('gen_ai.provider.name %j is provider %j', (value, slug) => {
      expect(eventOf(map(span({ 'gen_ai.provider.name': value }))).provider).toBe(slug);
      // The deprecated gen_ai.system, with the same values.
      const system = span({ 'gen_ai.provider.name': undefined, 'gen_ai.system': value });
      expect(eventOf(map(system)).provider).toBe(slug);
    });

    it('prefers gen_ai.provider.name to gen_ai.system, and tokentally.provider (span, then resource) to both', () => {
      expect(eventOf(map(span({ 'gen_ai.system': 'az.ai.openai' }))).provider).toBe('openai');
      expect(eventOf(map(span(), { 'tokentally.provider': 'Vercel' })).provider).toBe('vercel');
      expect(
        eventOf(map(span({ 'tokentally.provider': 'openrouter' }), { 'tokentally.provider': 'vercel' })).provider,
      ).toBe('openrouter');
    });

    it('rejects a model call without a provider, or with one that is not a string', () => {
      expect(errorsOf(map(span({ 'gen_ai.provider.name': undefined })))).toEqual([
        'no provider: the span has neither gen_ai.provider.name nor gen_ai.system (nor tokentally.provider)',
      ]);
      expect(errorsOf(map(span({ 'gen_ai.provider.name': 7 })))).toEqual(['gen_ai.provider.name must be a string']);
      expect(errorsOf(map(span({ 'gen_ai.provider.name': ' ' })))).toEqual([
        'no provider: the span has neither gen_ai.provider.name nor gen_ai.system (nor tokentally.provider)',
      ]);
    });
  });

  describe('model', () => {
    it('is gen_ai.response.model (what answered), else gen_ai.request.model', () => {
      expect(eventOf(map(span({ 'gen_ai.response.model': 'gpt-image-2-2026-04-21' }))).model).toBe(
        'gpt-image-2-2026-04-21',
      );
      expect(eventOf(map(span())).model).toBe('gpt-image-2');
      expect(eventOf(map(span({ 'gen_ai.request.model': undefined, 'gen_ai.response.model': 'x' }))).model).toBe('x');
    });

    it('rejects a model call without a model, or with one that is not a string', () => {
      expect(errorsOf(map(span({ 'gen_ai.request.model': undefined })))).toEqual([
        'no model: the span has neither gen_ai.response.model nor gen_ai.request.model',
      ]);
      expect(errorsOf(map(span({ 'gen_ai.response.model': true })))).toEqual([
        'gen_ai.response.model must be a string',
      ]);
      expect(errorsOf(map(span({ 'gen_ai.request.model': 'x'.repeat(201) })))).toEqual([
        'gen_ai.request.model (event model): must be at most 200 characters',
      ]);
    });
  });

  describe('usage', () => {
    const usage = (over: Record<string, Plain | undefined>) => eventOf(map(span(over))).usage;

    it("bills an image model's output as image output when the span does not split it (as the SDK does)", () => {
      expect(usage({})).toEqual({ ...ZERO_USAGE, input_text: 120, output_image: 4160 });
      expect(usage({ 'gen_ai.request.model': 'openai/gpt-image-1.5' })).toEqual({
        ...ZERO_USAGE,
        input_text: 120,
        output_image: 4160,
      });
    });

    it("bills any other model's output as text output", () => {
      expect(usage({ 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.output_tokens': 100 })).toEqual({
        ...ZERO_USAGE,
        input_text: 120,
        output_text: 100,
      });
    });

    it('takes cached input out of the input total (the conventions count it in gen_ai.usage.input_tokens)', () => {
      const expected = { ...ZERO_USAGE, input_text: 600, cached_input_text: 400, output_image: 4160 };
      expect(usage({ 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.cache_read.input_tokens': 400 })).toEqual(
        expected,
      );
      expect(usage({ 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.cache_read_input_tokens': 400 })).toEqual(
        expected,
      );
    });

    it('reads the deprecated prompt and completion token names when the current ones are absent', () => {
      expect(
        usage({
          'gen_ai.usage.input_tokens': undefined,
          'gen_ai.usage.output_tokens': undefined,
          'gen_ai.usage.prompt_tokens': 50,
          'gen_ai.usage.completion_tokens': 1000,
        }),
      ).toEqual({ ...ZERO_USAGE, input_text: 50, output_image: 1000 });
      expect(usage({ 'gen_ai.usage.prompt_tokens': 50 })).toEqual({
        ...ZERO_USAGE,
        input_text: 120,
        output_image: 4160,
      });
    });

    it('splits input and cached input into text and image by the tokentally image attributes', () => {
      expect(
        usage({
          'gen_ai.usage.input_tokens': 1530,
          'gen_ai.usage.cache_read.input_tokens': 300,
          'tokentally.usage.image.input_tokens': 1290,
          'tokentally.usage.image.cache_read.input_tokens': 200,
        }),
      ).toEqual({
        input_text: 140,
        cached_input_text: 100,
        input_image: 1090,
        cached_input_image: 200,
        output_image: 4160,
        output_text: 0,
      });
    });

    it('splits output by tokentally.usage.image.output_tokens, for any model', () => {
      const split = { 'gen_ai.usage.output_tokens': 4300, 'tokentally.usage.image.output_tokens': 4160 };
      const expected = { ...ZERO_USAGE, input_text: 120, output_image: 4160, output_text: 140 };
      expect(usage(split)).toEqual(expected);
      expect(usage({ ...split, 'gen_ai.request.model': 'gpt-5' })).toEqual(expected);
    });

    it('counts nothing when the span reports no usage (ingest stores a successful one unpriced)', () => {
      expect(usage({ 'gen_ai.usage.input_tokens': undefined, 'gen_ai.usage.output_tokens': undefined })).toEqual(
        ZERO_USAGE,
      );
    });

    it('takes a double that holds a whole number, and the image parts from the resource too', () => {
      expect(
        usage({ 'gen_ai.usage.input_tokens': 120.0, 'gen_ai.usage.output_tokens': { kind: 'double', value: 4160 } }),
      ).toEqual({ ...ZERO_USAGE, input_text: 120, output_image: 4160 });
      const fromResource = eventOf(
        map(span({ 'gen_ai.usage.input_tokens': 1000 }), { 'tokentally.usage.image.input_tokens': 1000 }),
      );
      expect(fromResource.usage).toEqual({ ...ZERO_USAGE, input_image: 1000, output_image: 4160 });
    });

    it.each([
      ['gen_ai.usage.input_tokens', -5, 'gen_ai.usage.input_tokens must not be negative (it is -5)'],
      [
        'gen_ai.usage.output_tokens',
        9007199254740993n,
        'gen_ai.usage.output_tokens must be at most 1000000000 (it is 9007199254740993)',
      ],
      [
        'gen_ai.usage.output_tokens',
        1_000_000_001,
        'gen_ai.usage.output_tokens must be at most 1000000000 (it is 1000000001)',
      ],
      ['gen_ai.usage.input_tokens', '120', 'gen_ai.usage.input_tokens must be a whole number (an int attribute)'],
      ['gen_ai.usage.input_tokens', 1.5, 'gen_ai.usage.input_tokens must be a whole number (an int attribute)'],
      ['gen_ai.usage.input_tokens', true, 'gen_ai.usage.input_tokens must be a whole number (an int attribute)'],
      [
        'gen_ai.usage.input_tokens',
        { kind: 'invalid', problem: 'intValue is beyond 2^53 as a JSON number and was rounded' } as OtlpValue,
        'gen_ai.usage.input_tokens: intValue is beyond 2^53 as a JSON number and was rounded',
      ],
      [
        'gen_ai.usage.cache_read.input_tokens',
        -1,
        'gen_ai.usage.cache_read.input_tokens must not be negative (it is -1)',
      ],
      [
        'tokentally.usage.image.input_tokens',
        { kind: 'other' } as OtlpValue,
        'tokentally.usage.image.input_tokens must be a whole number (an int attribute)',
      ],
    ])('rejects %s = %p', (key, value, message) => {
      // With parts beside it: no follow-on error about the invalid count standing as 0.
      expect(
        errorsOf(
          map(
            span({
              'gen_ai.usage.cache_read.input_tokens': 10,
              'tokentally.usage.image.input_tokens': 5,
              [key]: value as Plain,
            }),
          ),
        ).filter((e) => e.includes('(0)')),
      ).toEqual([]);
      expect(errorsOf(map(span({ [key]: value as Plain })))).toEqual([message]);
    });

    it.each([
      [
        { 'gen_ai.usage.cache_read.input_tokens': 121 },
        'gen_ai.usage.cache_read.input_tokens (121) must not exceed gen_ai.usage.input_tokens (120)',
      ],
      [
        {
          'gen_ai.usage.input_tokens': undefined,
          'gen_ai.usage.prompt_tokens': 10,
          'gen_ai.usage.cache_read_input_tokens': 11,
        },
        'gen_ai.usage.cache_read_input_tokens (11) must not exceed gen_ai.usage.prompt_tokens (10)',
      ],
      [
        { 'tokentally.usage.image.input_tokens': 121 },
        'tokentally.usage.image.input_tokens (121) must not exceed gen_ai.usage.input_tokens (120)',
      ],
      [
        {
          'gen_ai.usage.cache_read.input_tokens': 10,
          'tokentally.usage.image.input_tokens': 20,
          'tokentally.usage.image.cache_read.input_tokens': 11,
        },
        'tokentally.usage.image.cache_read.input_tokens (11) must not exceed gen_ai.usage.cache_read.input_tokens (10)',
      ],
      [
        { 'gen_ai.usage.cache_read.input_tokens': 100, 'tokentally.usage.image.cache_read.input_tokens': 10 },
        'tokentally.usage.image.cache_read.input_tokens (10) must not exceed tokentally.usage.image.input_tokens (0)',
      ],
      [
        { 'gen_ai.usage.cache_read.input_tokens': 100, 'tokentally.usage.image.input_tokens': 30 },
        'tokentally.usage.image.input_tokens - tokentally.usage.image.cache_read.input_tokens (30) must not exceed gen_ai.usage.input_tokens - gen_ai.usage.cache_read.input_tokens (20)',
      ],
      [
        { 'tokentally.usage.image.output_tokens': 5000 },
        'tokentally.usage.image.output_tokens (5000) must not exceed gen_ai.usage.output_tokens (4160)',
      ],
    ])('rejects parts larger than their whole: %j', (over, message) => {
      expect(errorsOf(map(span(over)))).toContain(message);
    });
  });

  describe('time, latency and status', () => {
    it('is the end of the span (to the microsecond), else its start; latency is end - start to the millisecond', () => {
      const noEnd = eventOf(map(span({}, { endTimeUnixNano: 0n })));
      expect([noEnd.timestamp, noEnd.latencyMs]).toEqual(['2026-11-27T10:15:00.000000Z', null]);
      const halfMs = eventOf(map(span({}, { endTimeUnixNano: T0 + 1_500_000n })));
      expect([halfMs.timestamp, halfMs.latencyMs]).toEqual(['2026-11-27T10:15:00.001500Z', 2]);
      const noStart = eventOf(map(span({}, { startTimeUnixNano: 0n })));
      expect([noStart.timestamp, noStart.latencyMs]).toEqual(['2026-11-27T10:15:08.123456Z', null]);
    });

    it.each([
      [
        { startTimeUnixNano: 0n, endTimeUnixNano: 0n },
        'the span has neither end_time_unix_nano nor start_time_unix_nano',
      ],
      [{ endTimeUnixNano: T0 - 1n }, `end_time_unix_nano (${T0 - 1n}) is before start_time_unix_nano (${T0})`],
      [
        { endTimeUnixNano: T0 + 86_400_001_000_000n },
        'the span lasts 86400001 ms, longer than a day (latency_ms is at most 86400000)',
      ],
      [
        { startTimeUnixNano: 2n ** 64n - 2n, endTimeUnixNano: 2n ** 64n - 1n },
        'end_time_unix_nano (event timestamp): is more than 5 minutes in the future',
      ],
      [
        { startTimeUnixNano: 1_000_000n, endTimeUnixNano: 2_000_000n },
        'end_time_unix_nano (event timestamp): must not be before 2000-01-01T00:00:00Z',
      ],
      [
        { endTimeUnixNano: BigInt(Date.parse('2026-11-28T00:06:00Z')) * 1_000_000n },
        'end_time_unix_nano (event timestamp): is more than 5 minutes in the future',
      ],
    ])('rejects a span with impossible times (%j)', (fields, message) => {
      expect(errorsOf(map(span({}, fields as Partial<OtlpSpan>)))).toEqual([message]);
    });

    it('is an error when the span status is ERROR or error.type is set', () => {
      expect(eventOf(map(span({}, { statusCode: 2 }))).status).toBe('error');
      expect(eventOf(map(span({ 'error.type': 'timeout' }))).status).toBe('error');
      expect(eventOf(map(span({}, { statusCode: 0 }))).status).toBe('ok');
    });

    it('keeps the operation name as sent', () => {
      expect(eventOf(map(span({ 'gen_ai.operation.name': 'chat' }))).operation).toBe('chat');
      expect(eventOf(map(span({ 'gen_ai.operation.name': undefined }))).operation).toBeNull();
      expect(eventOf(map(span({ 'gen_ai.operation.name': '  ' }))).operation).toBeNull();
      expect(errorsOf(map(span({ 'gen_ai.operation.name': 3 })))).toEqual(['gen_ai.operation.name must be a string']);
    });
  });

  describe('ids', () => {
    it('makes the event id of the trace and span ids, so a re-export is the same event', () => {
      expect(eventOf(map(span())).eventId).toBe(eventOf(map(span({ 'gen_ai.usage.input_tokens': 5 }))).eventId);
      expect(eventOf(map(span({}, { traceId: 'ab'.repeat(16) }))).eventId).toBe(`otel:${'ab'.repeat(16)}:${SPAN}`);
    });

    it('rejects spans with ids that could not be read or are all zeros', () => {
      expect(map(span({}, { traceId: '', problems: ['trace_id must be 16 bytes, not 3'] }))).toEqual({
        kind: 'rejected',
        eventId: null,
        errors: ['trace_id must be 16 bytes, not 3'],
      });
      expect(errorsOf(map(span({}, { spanId: '0'.repeat(16) })))).toEqual(['span_id must not be all zeros']);
      expect(errorsOf(map(span({}, { traceId: '0'.repeat(32) })))).toEqual(['trace_id must not be all zeros']);
    });
  });

  describe('dimensions and tags', () => {
    const dims = (s: Record<string, Plain>, resource: Record<string, Plain> = {}) => {
      const e = eventOf(map(span(s), resource));
      return { team: e.team, user: e.user, feature: e.feature, environment: e.environment };
    };

    it('reads each dimension from the first of its attributes found, on the span then on its resource', () => {
      expect(
        dims(
          {},
          { 'tokentally.team': 'growth', 'user.id': 'u1', 'service.name': 'svc', 'deployment.environment': 'staging' },
        ),
      ).toEqual({
        team: 'growth',
        user: 'u1',
        feature: 'svc',
        environment: 'staging',
      });
      expect(
        dims(
          { 'enduser.id': 'u_span', 'tokentally.feature': 'avatars' },
          {
            'tokentally.user': 'u_resource',
            'user.id': 'u1',
            'service.name': 'svc',
            'deployment.environment.name': 'prod',
            'deployment.environment': 'staging',
          },
        ),
      ).toEqual({ team: '', user: 'u_resource', feature: 'avatars', environment: 'prod' });
      expect(dims({ 'tokentally.environment': 'dev' }, { 'deployment.environment.name': 'prod' }).environment).toBe(
        'dev',
      );
    });

    it("leaves the SDK's placeholder service name out, and writes numbers and booleans as text", () => {
      expect(dims({}, { 'service.name': 'unknown_service:node' }).feature).toBe('');
      expect(dims({}, { 'service.name': 'unknown_service' }).feature).toBe('');
      expect(dims({ 'enduser.id': 42, 'tokentally.team': true }).user).toBe('42');
      expect(dims({ 'tokentally.team': true }).team).toBe('true');
    });

    it('rejects a dimension that is a list, or that ingest would refuse, naming its attribute', () => {
      expect(errorsOf(map(span({ 'enduser.id': { kind: 'other' } })))).toEqual([
        'enduser.id must be a string, a number or a boolean',
      ]);
      expect(errorsOf(map(span({ 'enduser.id': 'x'.repeat(201) })))).toEqual([
        'enduser.id (event dimensions.user): must be at most 200 characters',
      ]);
      expect(errorsOf(map(span(), { 'service.name': 'a\u0000b' }))).toEqual([
        'service.name (event dimensions.feature): must not contain NUL characters',
      ]);
    });

    it('takes tokentally.tag.* of the resource and the span (the span wins) as tags, and refuses more than 20', () => {
      const e = eventOf(
        map(span({ 'tokentally.tag.campaign': 'span', 'tokentally.tag.n': 3 }), {
          'tokentally.tag.campaign': 'res',
          'tokentally.tag.region': 'eu',
        }),
      );
      expect(e.tags).toEqual({ campaign: 'span', region: 'eu', n: '3' });
      // A hostile tag name is a tag like any other for the checks of POST /v1/events, never the object's prototype.
      const proto = map(span({ 'tokentally.tag.__proto__': 'x' }));
      expect(proto.kind === 'event' ? Object.getPrototypeOf(proto.event.tags) : null).toBe(Object.prototype);
      const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`tokentally.tag.t${i}`, 'x']));
      expect(errorsOf(map(span(many)))).toEqual(['tokentally.tag.* (event tags): must have at most 20 tags']);
    });

    it('reads images, image size and quality, refusing impossible counts', () => {
      expect(errorsOf(map(span({ 'tokentally.images': 10_001 })))).toEqual([
        'tokentally.images must be at most 10000 (it is 10001)',
      ]);
      expect(eventOf(map(span(), { 'tokentally.image_quality': 'low' })).imageQuality).toBe('low');
    });
  });

  it('decides image models as the SDK does (libs/sdk isImageModel)', () => {
    const models = [
      'gpt-image-2',
      'gpt-image-2-2026-04-21',
      'openai/gpt-image-2',
      'chatgpt-image-latest',
      'dall-e-3',
      'imagen-4.0-generate-001',
      'gemini-2.5-flash-image',
      'gemini-3-pro-image-preview',
      'openai/gpt-5-image',
      'gpt-4o',
      'gpt-5',
      'gemini-2.5-flash',
      'image-model',
      'my-imagery',
    ];
    expect(models.map(isImageModel)).toEqual(models.map(sdkIsImageModel));
    expect(models.filter(isImageModel).length).toBe(9);
  });
});
