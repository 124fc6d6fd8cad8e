import { z } from 'zod';
import { DomainError, FieldError, fieldErrorsOf, isTimeZone } from '@tokentally/common';
import { normalizeModelName, normalizeProviderSlug } from '@tokentally/core';

export const GRANULARITIES = ['hour', 'day', 'week', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const DIMENSIONS = ['provider', 'model', 'project', 'team', 'user', 'feature', 'environment'] as const;
export type Dimension = (typeof DIMENSIONS)[number];
export type GroupBy = Dimension | `tag:${string}` | 'none';

export interface ReportQuery {
  from: Date;
  to: Date;
  granularity: Granularity;
  tz: string;
  groupBy: GroupBy;
  filters: Partial<Record<Dimension, string[]>>;
  tag: { key: string; value: string } | null;
  basis: 'restated' | 'ingested';
  limit: number;
  raw: boolean;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const dateOrDateTime = z
  .string()
  .refine((v) => DATE_ONLY.test(v) || (/^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v))), 'must be a date (2026-11-01) or an RFC 3339 date-time');

const schema = z
  .object({
    from: dateOrDateTime.optional(),
    to: dateOrDateTime.optional(),
    granularity: z.enum(GRANULARITIES, { error: `must be one of ${GRANULARITIES.join(', ')}` }).default('day'),
    tz: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin').default('UTC'),
    group_by: z
      .string()
      .refine((v) => v === 'none' || (DIMENSIONS as readonly string[]).includes(v) || /^tag:[^\s]{1,64}$/.test(v), `must be one of ${DIMENSIONS.join(', ')}, tag:<key> or none`)
      .default('provider'),
    basis: z.enum(['restated', 'ingested'], { error: 'must be restated or ingested' }).default('restated'),
    limit: z.coerce.number({ error: 'must be a number' }).int().min(1).max(100).default(12),
    raw: z.enum(['0', '1', 'true', 'false']).optional(),
    ...Object.fromEntries(DIMENSIONS.map((d) => [d, z.string().min(1).max(1000).optional()])),
  })
  .strict();

/** Local midnight of a date in a time zone, as an instant. */
export function localMidnight(date: string, tz: string): Date {
  // Start from UTC midnight and correct by the zone's offset at that moment (twice, for DST edges).
  let guess = Date.parse(`${date}T00:00:00Z`);
  for (let i = 0; i < 2; i++) guess = Date.parse(`${date}T00:00:00Z`) - offsetMs(new Date(guess), tz);
  return new Date(guess);
}

function offsetMs(at: Date, tz: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** Parses report query parameters; dates without a time are local days in `tz` (`to` inclusive). */
export function parseReportQuery(query: Record<string, string | string[] | undefined>, defaultDays = 30): ReportQuery {
  const plain: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  let tag: ReportQuery['tag'] = null;
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) {
      errors.push({ path: key, message: 'must be given once' });
    } else if (key.startsWith('tag:')) {
      if (tag) errors.push({ path: key, message: 'only one tag filter at a time' });
      else tag = { key: key.slice(4), value: value ?? '' };
    } else plain[key] = value;
  }
  const parsed = schema.safeParse(plain);
  if (!parsed.success) errors.push(...fieldErrorsOf(parsed.error));
  if (errors.length > 0 || !parsed.success) throw DomainError.validation(errors);
  const q = parsed.data as z.output<typeof schema> & Record<string, string | undefined>;
  const day = 24 * 3600 * 1000;
  const to = q.to ? (DATE_ONLY.test(q.to) ? new Date(localMidnight(q.to, q.tz).getTime() + day) : new Date(q.to)) : new Date();
  const from = q.from ? (DATE_ONLY.test(q.from) ? localMidnight(q.from, q.tz) : new Date(q.from)) : new Date(to.getTime() - defaultDays * day);
  if (from >= to) throw DomainError.validation([{ path: 'to', message: 'must be after from' }]);
  if (q.granularity === 'hour' && to.getTime() - from.getTime() > 31 * day) {
    throw DomainError.validation([{ path: 'granularity', message: 'hour is allowed for ranges up to 31 days' }]);
  }
  const filters: ReportQuery['filters'] = {};
  for (const d of DIMENSIONS) {
    const raw = q[d];
    if (!raw) continue;
    const values = raw.split(',').map((v) => v.trim());
    filters[d] = d === 'provider' ? values.map(normalizeProviderSlug) : d === 'model' ? values.map(normalizeModelName) : values;
  }
  const groupBy = q.group_by as GroupBy;
  if (tag && groupBy.startsWith('tag:') && groupBy !== `tag:${tag.key}`) {
    throw DomainError.validation([{ path: 'group_by', message: 'can group by the tag it filters on only' }]);
  }
  return { from, to, granularity: q.granularity, tz: q.tz, groupBy, filters, tag, basis: q.basis, limit: q.limit, raw: q.raw === '1' || q.raw === 'true' };
}
