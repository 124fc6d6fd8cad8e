import type { FieldError } from '@tokentally/common';
import type { Dimension } from '@tokentally/core';
import { checkUsageEvent, EventTimeWindow, MAX_TOKENS, UsageEventInput } from '@tokentally/ingest';
import { OtlpAttributes, OtlpSpan, OtlpValue, STATUS_CODE_ERROR } from './otlp-model';

/**
 * One span of an OTLP trace as a usage event of POST /v1/events, following
 * the OpenTelemetry GenAI semantic conventions (docs/otlp.md has the table).
 * Pure: the span and its resource in, the event (checked by the same
 * checkUsageEvent as POST /v1/events) or the reasons it cannot be one out.
 */

/** GenAI semantic-convention attributes read from a span. */
export const GEN_AI = {
  providerName: 'gen_ai.provider.name',
  /** Deprecated for gen_ai.provider.name; still sent by many instrumentations (the Vercel AI SDK among them). */
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  operationName: 'gen_ai.operation.name',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  /** Deprecated names of the two above (semantic conventions before 1.27). */
  promptTokens: 'gen_ai.usage.prompt_tokens',
  completionTokens: 'gen_ai.usage.completion_tokens',
  cacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  /** The earlier spelling of the cache-read attribute in the conventions' history. */
  cacheReadInputTokensOld: 'gen_ai.usage.cache_read_input_tokens',
  errorType: 'error.type',
} as const;

/**
 * TokenTally's own attributes, on the span or its resource (the span's value
 * wins). The conventions have no image token attributes yet: these carry the
 * split an image model's usage needs, as parts of the GenAI totals.
 */
export const TOKENTALLY = {
  provider: 'tokentally.provider',
  /** Of gen_ai.usage.input_tokens, the image tokens (cached ones included). */
  imageInputTokens: 'tokentally.usage.image.input_tokens',
  /** Of gen_ai.usage.cache_read.input_tokens, the image tokens. */
  imageCacheReadInputTokens: 'tokentally.usage.image.cache_read.input_tokens',
  /** Of gen_ai.usage.output_tokens, the image tokens; the rest is text output. */
  imageOutputTokens: 'tokentally.usage.image.output_tokens',
  images: 'tokentally.images',
  imageSize: 'tokentally.image_size',
  imageQuality: 'tokentally.image_quality',
  tagPrefix: 'tokentally.tag.',
} as const;

/** The dimensions an event carries (the rest, provider, model and project, come from elsewhere). */
type EventDimension = Exclude<Dimension, 'provider' | 'model' | 'project'>;

/** Where each dimension comes from: the first attribute found, each looked up on the span, then on its resource. */
export const DIMENSION_ATTRIBUTES: Readonly<Record<EventDimension, readonly string[]>> = {
  team: ['tokentally.team'],
  user: ['tokentally.user', 'enduser.id', 'user.id'],
  feature: ['tokentally.feature', 'service.name'],
  environment: ['tokentally.environment', 'deployment.environment.name', 'deployment.environment'],
};

/** What the OpenTelemetry SDKs put in service.name when the application set none: no feature. */
const UNKNOWN_SERVICE = /^unknown_service(:|$)/;

/**
 * GenAI operations that are not a call to a model: an agent's or workflow's
 * span sums the usage of the model calls under it (counting both would count
 * twice), a tool runs code, a retrieval searches a store.
 */
export const NOT_MODEL_CALLS: ReadonlySet<string> = new Set([
  'create_agent',
  'invoke_agent',
  'invoke_workflow',
  'execute_tool',
  'retrieval',
]);

/** Attributes of which any one makes a span a model call (unless its operation is one of NOT_MODEL_CALLS). */
const MODEL_CALL_MARKERS = [
  GEN_AI.providerName,
  GEN_AI.system,
  GEN_AI.requestModel,
  GEN_AI.responseModel,
  GEN_AI.inputTokens,
  GEN_AI.outputTokens,
  GEN_AI.promptTokens,
  GEN_AI.completionTokens,
];

/**
 * The conventions' provider values (gen_ai.provider.name, and gen_ai.system's
 * older ones) as TokenTally's provider slugs. A value not listed here is kept,
 * lower-cased, as a custom slug (unpriced until prices exist for it).
 */
export const PROVIDER_SLUGS: Readonly<Record<string, string>> = {
  openai: 'openai',
  'azure.ai.openai': 'azure',
  'az.ai.openai': 'azure',
  'azure.ai.inference': 'azure',
  'az.ai.inference': 'azure',
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  'gcp.gen_ai': 'google',
  gemini: 'google',
  vertex_ai: 'google',
  // The Vercel AI SDK names its providers `<provider>.<api>` (below) and its AI Gateway `gateway`.
  gateway: 'vercel',
  vercel: 'vercel',
  openrouter: 'openrouter',
};

/** `openai.chat`, `azure.responses`, `google.vertex.chat` (Vercel AI SDK): the provider before the first dot. */
const API_SUFFIXED = /^(openai|azure|google|openrouter)\./;

export function providerSlugOf(value: string): string {
  const slug = value.trim().toLowerCase();
  return PROVIDER_SLUGS[slug] ?? API_SUFFIXED.exec(slug)?.[1] ?? slug;
}

/**
 * For an image model, output tokens are image output unless the span splits
 * them: the rule of the SDK (libs/sdk/src/usage.ts, isImageModel, which the
 * server cannot import), kept equal to it by span-to-event.spec.ts.
 */
export function isImageModel(model: string): boolean {
  return /(^|\/)(gpt-image|chatgpt-image|dall-e|imagen)|-image(-|$)/i.test(model);
}

/** The event id of a span: its trace and span ids, so a retried export is one event and two traces never meet. */
export function eventIdOf(traceId: string, spanId: string): string {
  return `otel:${traceId}:${spanId}`;
}

export type SpanOutcome =
  | { kind: 'skipped' }
  | { kind: 'event'; event: UsageEventInput }
  | { kind: 'rejected'; eventId: string | null; errors: string[] };

const NANOS_PER_MS = 1_000_000n;
const MAX_LATENCY_MS = 86_400_000n;

/**
 * The usage event of one span, or why it has none. `window` is the time
 * range events are taken in (as for POST /v1/events).
 */
export function spanToUsageEvent(span: OtlpSpan, resource: OtlpAttributes, window: EventTimeWindow): SpanOutcome {
  const attributes = span.attributes;
  const declared = attributes.get(GEN_AI.operationName);
  if (!MODEL_CALL_MARKERS.some((key) => attributes.has(key))) return { kind: 'skipped' };
  if (declared?.kind === 'string' && NOT_MODEL_CALLS.has(declared.value)) return { kind: 'skipped' };

  const errors: string[] = [...span.problems];
  if (/^0+$/.test(span.traceId)) errors.push('trace_id must not be all zeros');
  if (/^0+$/.test(span.spanId)) errors.push('span_id must not be all zeros');
  const eventId = span.traceId && span.spanId ? eventIdOf(span.traceId, span.spanId) : null;
  /** For each event field, the attribute it came from: errors of the event are told in the span's terms. */
  const sources: Record<string, string> = {};
  const read = new AttributeReader(attributes, resource, errors, sources);

  const provider =
    read.text(TOKENTALLY.provider, 'provider', 'both', (v) => v.trim().toLowerCase()) ??
    read.text(GEN_AI.providerName, 'provider', 'span', providerSlugOf) ??
    read.text(GEN_AI.system, 'provider', 'span', providerSlugOf);
  if (provider === null && !read.failed('provider'))
    errors.push(
      `no provider: the span has neither ${GEN_AI.providerName} nor ${GEN_AI.system} (nor ${TOKENTALLY.provider})`,
    );
  const model = read.text(GEN_AI.responseModel, 'model', 'span') ?? read.text(GEN_AI.requestModel, 'model', 'span');
  if (model === null && !read.failed('model'))
    errors.push(`no model: the span has neither ${GEN_AI.responseModel} nor ${GEN_AI.requestModel}`);

  const operation = read.text(GEN_AI.operationName, 'operation', 'span');
  const usage = usageOf(read, model ?? '', errors);
  const { timestamp, latencyMs } = timesOf(span, errors, sources);

  const dimensions: Partial<Record<EventDimension, string>> = {};
  for (const [dimension, keys] of Object.entries(DIMENSION_ATTRIBUTES) as Array<[EventDimension, readonly string[]]>) {
    for (const key of keys) {
      const value = read.label(key, `dimensions.${dimension}`);
      if (value === null || (key === 'service.name' && UNKNOWN_SERVICE.test(value))) continue;
      dimensions[dimension] = value;
      break;
    }
  }
  // Own properties whatever the name (`__proto__` included), checked below as POST /v1/events checks them.
  const tagEntries: Array<[string, string]> = [];
  for (const key of tagKeys(attributes, resource)) {
    const name = key.slice(TOKENTALLY.tagPrefix.length);
    const value = read.label(key, `tags.${name}`);
    if (value !== null) tagEntries.push([name, value]);
  }
  const tags = Object.fromEntries(tagEntries);
  sources.tags = `${TOKENTALLY.tagPrefix}*`;

  const images = read.count(TOKENTALLY.images, 'images', 10_000, 'both');
  const imageSize = read.text(TOKENTALLY.imageSize, 'image_size', 'both');
  const imageQuality = read.text(TOKENTALLY.imageQuality, 'image_quality', 'both');
  const failed = attributes.has(GEN_AI.errorType) || span.statusCode === STATUS_CODE_ERROR;
  if (errors.length > 0) return { kind: 'rejected', eventId, errors };

  // The same checks as POST /v1/events (text that PostgreSQL can store, lengths, tags, the time window).
  const check = checkUsageEvent(
    {
      event_id: eventId,
      timestamp,
      provider,
      model,
      operation,
      usage,
      images,
      image_size: imageSize,
      image_quality: imageQuality,
      status: failed ? 'error' : 'ok',
      latency_ms: latencyMs,
      dimensions,
      tags,
    },
    '',
    window,
  );
  if (check.ok) return { kind: 'event', event: check.event };
  return { kind: 'rejected', eventId, errors: check.errors.map((error) => inSpanTerms(error, sources)) };
}

/** `enduser.id (dimensions.user): must be at most 200 characters`. */
function inSpanTerms(error: FieldError, sources: Record<string, string>): string {
  const top = error.path.split(/[.[]/)[0];
  const source = sources[error.path] ?? sources[top];
  return source ? `${source} (event ${error.path}): ${error.message}` : `event ${error.path}: ${error.message}`;
}

/**
 * The six token kinds from the GenAI totals (cached tokens are part of
 * gen_ai.usage.input_tokens, as the conventions say) and TokenTally's image
 * parts of them. Output without an image part is image output for an image
 * model and text output otherwise.
 */
function usageOf(read: AttributeReader, model: string, errors: string[]): Record<string, number> {
  const errorsBefore = errors.length;
  const input = read.tokens(GEN_AI.inputTokens) ?? read.tokens(GEN_AI.promptTokens);
  const output = read.tokens(GEN_AI.outputTokens) ?? read.tokens(GEN_AI.completionTokens);
  const cached = read.tokens(GEN_AI.cacheReadInputTokens) ?? read.tokens(GEN_AI.cacheReadInputTokensOld);
  const imageInput = read.tokens(TOKENTALLY.imageInputTokens, 'both');
  const imageCached = read.tokens(TOKENTALLY.imageCacheReadInputTokens, 'both');
  const imageOutput = read.tokens(TOKENTALLY.imageOutputTokens, 'both');
  const inputKey = read.sourceOf('input') ?? GEN_AI.inputTokens;
  const cachedKey = read.sourceOf('cached') ?? GEN_AI.cacheReadInputTokens;
  const outputKey = read.sourceOf('output') ?? GEN_AI.outputTokens;
  const i = input ?? 0;
  const c = cached ?? 0;
  const ii = imageInput ?? 0;
  const ic = imageCached ?? 0;
  const o = output ?? 0;
  // A count that was invalid stands as 0 and has its own error: comparing it would only add errors about that 0.
  const countsValid = errors.length === errorsBefore;
  const part = (what: string, whole: string, value: number, total: number) => {
    if (countsValid && value > total) errors.push(`${what} (${value}) must not exceed ${whole} (${total})`);
  };
  part(cachedKey, inputKey, c, i);
  part(TOKENTALLY.imageInputTokens, inputKey, ii, i);
  part(TOKENTALLY.imageCacheReadInputTokens, cachedKey, ic, c);
  part(TOKENTALLY.imageCacheReadInputTokens, TOKENTALLY.imageInputTokens, ic, ii);
  part(
    `${TOKENTALLY.imageInputTokens} - ${TOKENTALLY.imageCacheReadInputTokens}`,
    `${inputKey} - ${cachedKey}`,
    ii - ic,
    i - c,
  );
  part(TOKENTALLY.imageOutputTokens, outputKey, imageOutput ?? 0, o);
  const outputImage = imageOutput ?? (isImageModel(model) ? o : 0);
  return {
    input_text_tokens: Math.max(0, i - c - (ii - ic)),
    cached_input_text_tokens: Math.max(0, c - ic),
    input_image_tokens: Math.max(0, ii - ic),
    cached_input_image_tokens: ic,
    output_image_tokens: Math.min(outputImage, o),
    output_text_tokens: Math.max(0, o - outputImage),
  };
}

/** The event's time is the span's end (when the call was answered), else its start; latency is end - start. */
function timesOf(
  span: OtlpSpan,
  errors: string[],
  sources: Record<string, string>,
): { timestamp: string | null; latencyMs: number | null } {
  const { startTimeUnixNano: start, endTimeUnixNano: end } = span;
  const at = end > 0n ? end : start;
  sources.timestamp = end > 0n ? 'end_time_unix_nano' : 'start_time_unix_nano';
  sources.latency_ms = 'end_time_unix_nano - start_time_unix_nano';
  if (at === 0n) {
    errors.push('the span has neither end_time_unix_nano nor start_time_unix_nano');
    return { timestamp: null, latencyMs: null };
  }
  // A fixed64 of nanoseconds ends in 2554: always a time a Date holds (ingest refuses one in the future).
  const ms = at / NANOS_PER_MS;
  const micros = String((at / 1000n) % 1000n).padStart(3, '0');
  const timestamp = `${new Date(Number(ms)).toISOString().slice(0, -1)}${micros}Z`;
  if (start === 0n || end === 0n) return { timestamp, latencyMs: null };
  if (end < start) {
    errors.push(`end_time_unix_nano (${end}) is before start_time_unix_nano (${start})`);
    return { timestamp, latencyMs: null };
  }
  const latency = (end - start + NANOS_PER_MS / 2n) / NANOS_PER_MS;
  if (latency > MAX_LATENCY_MS) {
    errors.push(`the span lasts ${latency} ms, longer than a day (latency_ms is at most ${MAX_LATENCY_MS})`);
    return { timestamp, latencyMs: null };
  }
  return { timestamp, latencyMs: Number(latency) };
}

/** `tokentally.tag.*` keys of the resource and the span, each once. */
function tagKeys(span: OtlpAttributes, resource: OtlpAttributes): string[] {
  const keys = new Set<string>();
  for (const attributes of [resource, span])
    for (const key of attributes.keys()) if (key.startsWith(TOKENTALLY.tagPrefix)) keys.add(key);
  return [...keys];
}

/**
 * Reads attributes of a span (and, for `both`, of its resource when the span
 * has none), recording each problem in `errors` and each field's source.
 */
class AttributeReader {
  private readonly failedFields = new Set<string>();
  private readonly tokenSources = new Map<string, string>();

  constructor(
    private readonly span: OtlpAttributes,
    private readonly resource: OtlpAttributes,
    private readonly errors: string[],
    private readonly sources: Record<string, string>,
  ) {}

  failed(field: string): boolean {
    return this.failedFields.has(field);
  }

  /** The token attribute that gave the input, cached or output total. */
  sourceOf(total: 'input' | 'cached' | 'output'): string | undefined {
    return this.tokenSources.get(total);
  }

  private lookup(key: string, where: 'span' | 'both'): OtlpValue | undefined {
    return this.span.get(key) ?? (where === 'both' ? this.resource.get(key) : undefined);
  }

  /** A string attribute (blank is absent), or null; anything else is an error. */
  text(key: string, field: string, where: 'span' | 'both', map: (v: string) => string = (v) => v): string | null {
    const value = this.lookup(key, where);
    if (value === undefined || this.failedFields.has(field)) return null;
    if (value.kind !== 'string') {
      this.errors.push(`${key} must be a string`);
      this.failedFields.add(field);
      return null;
    }
    if (value.value.trim() === '') return null;
    this.sources[field] = key;
    return map(value.value);
  }

  /** A dimension or tag value: a string, or a number or boolean written as text. */
  label(key: string, field: string): string | null {
    const value = this.lookup(key, 'both');
    if (value === undefined) return null;
    this.sources[field] = key;
    switch (value.kind) {
      case 'string':
        return value.value.trim() === '' ? null : value.value;
      case 'int':
      case 'double':
      case 'bool':
        return String(value.value);
      case 'invalid':
        this.errors.push(`${key}: ${value.problem}`);
        return null;
      default:
        this.errors.push(`${key} must be a string, a number or a boolean`);
        return null;
    }
  }

  /** A whole number in [0, max] (an int, or a double holding a whole number), or null when absent. */
  count(key: string, field: string, max: number, where: 'span' | 'both'): number | null {
    const value = this.lookup(key, where);
    if (value === undefined) return null;
    this.sources[field] = key;
    let whole: bigint | null = null;
    if (value.kind === 'int') whole = value.value;
    else if (value.kind === 'double' && Number.isInteger(value.value)) whole = BigInt(value.value);
    if (value.kind === 'invalid') this.errors.push(`${key}: ${value.problem}`);
    else if (whole === null) this.errors.push(`${key} must be a whole number (an int attribute)`);
    else if (whole < 0n) this.errors.push(`${key} must not be negative (it is ${whole})`);
    else if (whole > BigInt(max)) this.errors.push(`${key} must be at most ${max} (it is ${whole})`);
    else return Number(whole);
    return null;
  }

  /** A token count, remembered as the source of its total. */
  tokens(key: string, where: 'span' | 'both' = 'span'): number | null {
    if (this.lookup(key, where) === undefined) return null;
    const total =
      key === GEN_AI.inputTokens || key === GEN_AI.promptTokens
        ? 'input'
        : key === GEN_AI.outputTokens || key === GEN_AI.completionTokens
          ? 'output'
          : key === GEN_AI.cacheReadInputTokens || key === GEN_AI.cacheReadInputTokensOld
            ? 'cached'
            : null;
    if (total) this.tokenSources.set(total, key);
    // 0 stands in for an invalid count so that the usage sums go on; the span is rejected by the error.
    return this.count(key, `tokens:${key}`, MAX_TOKENS, where) ?? 0;
  }
}
