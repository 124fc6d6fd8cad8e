import { z } from 'zod';
import { FieldError, field, fieldErrorsOf, storableText, textProblem } from '@tokentally/common';
import { dateOrDateTimeProblem, TOKEN_KINDS, TokenUsage } from '@tokentally/core';

export const MAX_EVENTS_PER_REQUEST = 1000;
export const MAX_TOKENS = 1_000_000_000;
export const MAX_TAGS = 20;
export const MAX_TAG_VALUE_LENGTH = 200;
/** Clocks drift; an event stamped further ahead than this is a bug at the sender. */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;
/** Older than any image model; also keeps years PostgreSQL cannot store (0000) out. */
export const EARLIEST_TIMESTAMP = '2000-01-01T00:00:00Z';
const EARLIEST_MS = Date.parse(EARLIEST_TIMESTAMP);

/**
 * A cost a provider reported for the call itself (OpenRouter's `usage.cost`), in USD: a non-negative decimal
 * string, read exactly. A JSON number is refused: money is never carried in a float. 24 decimals: providers
 * compute costs in floats, and the SDK sends the shortest decimal of the double they wrote
 * (5.833333333333334e-7 is 0.0000005833333333333334).
 */
const PROVIDER_COST = /^\d{1,12}(\.\d{1,24})?$/;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

const tokenCount = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must not be negative')
  .max(MAX_TOKENS, `must be at most ${MAX_TOKENS}`)
  .nullish();

/** The six token kinds, as `<kind>_tokens`; anything else is refused, not guessed at. */
const usageSchema = z
  .object(
    Object.fromEntries(TOKEN_KINDS.map((kind) => [`${kind}_tokens`, tokenCount])) as Record<
      `${(typeof TOKEN_KINDS)[number]}_tokens`,
      typeof tokenCount
    >,
  )
  .strict();

const optionalText = field.optionalString;

const dimensionsSchema = z
  .object({
    team: optionalText(200),
    user: optionalText(200),
    feature: optionalText(200),
    environment: optionalText(200),
  })
  .strict();

const tagsSchema = z
  .record(
    storableText(z.string().min(1, 'tag names must not be empty').max(64, 'tag names must be at most 64 characters')),
    storableText(
      z
        .string({ error: 'must be a string' })
        .max(MAX_TAG_VALUE_LENGTH, `must be at most ${MAX_TAG_VALUE_LENGTH} characters`),
    ),
    { error: 'must be an object of string values' },
  )
  .refine((tags) => Object.keys(tags).length <= MAX_TAGS, `must have at most ${MAX_TAGS} tags`);

export const usageEventSchema = z.object({
  event_id: field.string(200),
  timestamp: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be an RFC 3339 date-time string') })
    .superRefine((value, ctx) => {
      if (!RFC3339.test(value))
        ctx.addIssue({ code: 'custom', message: 'must be an RFC 3339 date-time such as 2026-11-27T10:15:00Z' });
      // Real dates only, as PostgreSQL takes them: Date.parse reads 2026-02-29 as March 1 and +16:00 as an offset
      // PostgreSQL refuses.
      else if (dateOrDateTimeProblem(value)) ctx.addIssue({ code: 'custom', message: dateOrDateTimeProblem(value)! });
    }),
  provider: field.string(100),
  model: field.string(200),
  operation: optionalText(100),
  usage: usageSchema.nullish(),
  images: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(10_000, 'must be at most 10000')
    .nullish(),
  image_size: optionalText(50),
  image_quality: optionalText(50),
  status: z.enum(['ok', 'error'], { error: 'must be ok or error' }).nullish(),
  latency_ms: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(86_400_000, 'must be at most 86400000 (a day)')
    .nullish(),
  dimensions: dimensionsSchema.nullish(),
  tags: tagsSchema.nullish(),
  provider_cost_usd: z
    .string({ error: 'must be a decimal string such as "0.0387" (USD; a JSON number would carry money in a float)' })
    .regex(PROVIDER_COST, {
      error: 'must be a non-negative decimal such as "0.0387", with at most 12 digits before the point and 24 after',
    })
    .nullish(),
});
// Unknown top-level fields are ignored (a newer SDK may send more); unknown
// token kinds in `usage` are refused, because they would be billed wrongly.

/**
 * The body of POST /v1/events as the OpenAPI document shows it: one event,
 * `{"events": [...]}` or a bare array. checkIngestBody splits a body so by
 * hand (a batch keeps its valid events) and checks each event with
 * usageEventSchema.
 */
export const ingestBodySchema = z.union([
  usageEventSchema,
  z.object({ events: z.array(usageEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST) }),
  z.array(usageEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST),
]);

export interface UsageEventInput {
  eventId: string;
  occurredAt: number;
  timestamp: string;
  provider: string;
  model: string;
  operation: string | null;
  usage: TokenUsage;
  images: number;
  imageSize: string | null;
  imageQuality: string | null;
  status: 'ok' | 'error';
  latencyMs: number | null;
  team: string;
  user: string;
  feature: string;
  environment: string;
  tags: Record<string, string>;
  /** What the provider reported the call cost, as sent (a decimal string), or null. */
  providerCostUsd: string | null;
}

/** An event as usageEventSchema parses it. */
export type ParsedUsageEvent = z.infer<typeof usageEventSchema>;

/** Each token kind with its field in `usage`, named once (a name made per event is hashed per event). */
const USAGE_FIELD_OF_KIND = TOKEN_KINDS.map((kind) => [kind, `${kind}_tokens` as const] as const);
const USAGE_FIELDS = new Set<string>(USAGE_FIELD_OF_KIND.map(([, field]) => field));
const DIMENSION_FIELDS = new Set(['team', 'user', 'feature', 'environment']);

/** `value` is a string of `min` to `max` UTF-16 units that PostgreSQL text can hold. */
function isStorable(value: unknown, max: number, min = 0): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max && textProblem(value) === null;
}
const isOptionalStorable = (value: unknown, max: number) =>
  value === undefined || value === null || isStorable(value, max);
const isWhole = (value: unknown, max: number) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max;
const isOptionalWhole = (value: unknown, max: number) => value === undefined || value === null || isWhole(value, max);
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The common shape of a valid event, checked by hand: what usageEventSchema
 * accepts, without building zod's intermediate objects (ingest validates
 * tens of thousands of events a second; zod was a fifth of its CPU,
 * bench/RESULTS.md). Anything unusual, valid or not, answers null and goes
 * through the schema, which is the reference and writes every error message.
 * A property test holds the two to the same answer (usage-event.dto.spec.ts).
 */
export function commonEventShape(raw: Record<string, unknown>): ParsedUsageEvent | null {
  const { usage, dimensions, tags, status } = raw;
  if (!isStorable(raw.event_id, 200, 1) || !isStorable(raw.provider, 100, 1) || !isStorable(raw.model, 200, 1))
    return null;
  if (typeof raw.timestamp !== 'string' || !RFC3339.test(raw.timestamp) || dateOrDateTimeProblem(raw.timestamp))
    return null;
  if (!isOptionalStorable(raw.operation, 100) || !isOptionalStorable(raw.image_size, 50)) return null;
  if (!isOptionalStorable(raw.image_quality, 50)) return null;
  if (!isOptionalWhole(raw.images, 10_000) || !isOptionalWhole(raw.latency_ms, 86_400_000)) return null;
  if (status !== undefined && status !== null && status !== 'ok' && status !== 'error') return null;
  const providerCost = raw.provider_cost_usd;
  if (providerCost !== undefined && providerCost !== null) {
    if (typeof providerCost !== 'string' || !PROVIDER_COST.test(providerCost)) return null;
  }
  if (usage !== undefined && usage !== null) {
    if (!isPlainObject(usage)) return null;
    for (const key of Object.keys(usage))
      if (!USAGE_FIELDS.has(key) || !isOptionalWhole(usage[key], MAX_TOKENS)) return null;
  }
  if (dimensions !== undefined && dimensions !== null) {
    if (!isPlainObject(dimensions)) return null;
    for (const key of Object.keys(dimensions))
      if (!DIMENSION_FIELDS.has(key) || !isOptionalStorable(dimensions[key], 200)) return null;
  }
  if (tags !== undefined && tags !== null) {
    if (!isPlainObject(tags)) return null;
    let count = 0;
    for (const key of Object.keys(tags)) {
      // zod drops a `__proto__` key from a record: the schema decides about it.
      if (++count > MAX_TAGS || key === '__proto__' || !isStorable(key, 64, 1)) return null;
      if (!isStorable(tags[key], MAX_TAG_VALUE_LENGTH)) return null;
    }
  }
  return raw as ParsedUsageEvent;
}

export type EventCheck =
  { ok: true; event: UsageEventInput } | { ok: false; eventId: string | null; errors: FieldError[] };

/**
 * How far back and forward an event's time may be: `now` for the future skew, and the retention's start
 * (`keptSince`, from RETENTION_MONTHS; null when every month is kept): an older event's month is no longer stored.
 */
export interface EventTimeWindow {
  now: number;
  keptSince: Date | null;
  retentionMonths?: number;
}

/** Validates one event; `prefix` is its place in the body (`events[3]`), for error paths. */
export function checkUsageEvent(raw: unknown, prefix: string, window: EventTimeWindow): EventCheck {
  const rawId =
    raw && typeof raw === 'object' && typeof (raw as { event_id?: unknown }).event_id === 'string'
      ? (raw as { event_id: string }).event_id
      : null;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, eventId: null, errors: [{ path: prefix || '(body)', message: 'must be an event object' }] };
  }
  let e = commonEventShape(raw as Record<string, unknown>);
  if (!e) {
    const parsed = usageEventSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, eventId: rawId, errors: fieldErrorsOf(parsed.error, prefix) };
    e = parsed.data;
  }
  const occurredAt = Date.parse(e.timestamp);
  const { now, keptSince } = window;
  const timestampProblem =
    occurredAt > now + MAX_FUTURE_SKEW_MS
      ? 'is more than 5 minutes in the future'
      : occurredAt < EARLIEST_MS
        ? `must not be before ${EARLIEST_TIMESTAMP}`
        : keptSince && occurredAt < keptSince.getTime()
          ? `must not be before ${keptSince.toISOString().replace('.000Z', 'Z')}: this server keeps the raw events of ` +
            `the current month and the ${window.retentionMonths} before it (RETENTION_MONTHS), and older months are ` +
            'dropped'
          : null;
  if (timestampProblem) {
    return {
      ok: false,
      eventId: rawId,
      errors: [{ path: prefix ? `${prefix}.timestamp` : 'timestamp', message: timestampProblem }],
    };
  }
  return { ok: true, event: usageEventInput(e, occurredAt) };
}

/**
 * An RFC 3339 time cut (never rounded) to the microsecond: PostgreSQL keeps microseconds and rounds the rest
 * (23:59:59.9999999 would become the next day). Most times have no fraction or a short one, and are kept as sent.
 */
function atMicroseconds(timestamp: string): string {
  const dot = timestamp.indexOf('.', 19);
  if (dot < 0) return timestamp;
  let end = dot + 1;
  while (end < timestamp.length && timestamp.charCodeAt(end) >= 48 && timestamp.charCodeAt(end) <= 57) end++;
  return end - dot - 1 > 6 ? timestamp.slice(0, dot + 7) + timestamp.slice(end) : timestamp;
}

/** A parsed event as ingest stores it: every token kind, defaults for what was absent. */
export function usageEventInput(e: ParsedUsageEvent, occurredAt: number): UsageEventInput {
  const usage = {} as TokenUsage;
  for (const [kind, field] of USAGE_FIELD_OF_KIND) usage[kind] = e.usage?.[field] ?? 0;
  return {
    eventId: e.event_id,
    occurredAt,
    timestamp: atMicroseconds(e.timestamp),
    provider: e.provider,
    model: e.model,
    operation: e.operation ?? null,
    usage,
    images: e.images ?? 0,
    imageSize: e.image_size ?? null,
    imageQuality: e.image_quality ?? null,
    status: e.status ?? 'ok',
    latencyMs: e.latency_ms ?? null,
    team: e.dimensions?.team ?? '',
    user: e.dimensions?.user ?? '',
    feature: e.dimensions?.feature ?? '',
    environment: e.dimensions?.environment ?? '',
    tags: e.tags ?? {},
    providerCostUsd: e.provider_cost_usd ?? null,
  };
}

export interface RejectedEvent {
  index: number;
  event_id: string | null;
  errors: FieldError[];
}

export type BatchCheck =
  | {
      kind: 'ok';
      events: Array<{ index: number; event: UsageEventInput }>;
      rejected: RejectedEvent[];
      batched: boolean;
    }
  | { kind: 'too_many'; count: number }
  | { kind: 'malformed'; errors: FieldError[] };

/** Splits a body (one event, `{events: [...]}` or a bare array) into valid and rejected events. */
export function checkIngestBody(body: unknown, window: EventTimeWindow): BatchCheck {
  let items: unknown[];
  let batched: boolean;
  let field = 'events';
  if (Array.isArray(body)) {
    items = body;
    batched = true;
    field = '';
  } else if (body && typeof body === 'object' && 'events' in body) {
    const events = (body as { events: unknown }).events;
    if (!Array.isArray(events))
      return { kind: 'malformed', errors: [{ path: 'events', message: 'must be an array of events' }] };
    items = events;
    batched = true;
  } else if (body && typeof body === 'object') {
    items = [body];
    batched = false;
  } else {
    return { kind: 'malformed', errors: [{ path: '(body)', message: 'must be an event object or {"events": [...]}' }] };
  }
  if (batched && items.length === 0)
    return { kind: 'malformed', errors: [{ path: 'events', message: 'must hold at least one event' }] };
  if (items.length > MAX_EVENTS_PER_REQUEST) return { kind: 'too_many', count: items.length };

  const events: Array<{ index: number; event: UsageEventInput }> = [];
  const rejected: RejectedEvent[] = [];
  items.forEach((item, index) => {
    const check = checkUsageEvent(item, batched ? `${field}[${index}]` : '', window);
    if (check.ok) events.push({ index, event: check.event });
    else rejected.push({ index, event_id: check.eventId, errors: check.errors });
  });
  return { kind: 'ok', events, rejected, batched };
}
