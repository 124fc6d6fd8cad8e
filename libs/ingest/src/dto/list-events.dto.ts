import { z } from 'zod';
import { DomainError, fieldErrorsOf, FieldError, hasNoNul, NUL_MESSAGE, wholeNumberParam } from '@tokentally/common';
import { dateOrDateTimeProblem, normalizeModelName, normalizeProviderSlug } from '@tokentally/core';
import { EventListFilters } from '../ingest.sql';

// Real calendar dates only: `Date.parse` takes 2026-02-30 for March 2.
const isoDate = z.string().superRefine((value, ctx) => {
  const problem = dateOrDateTimeProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});


const querySchema = z
  .object({
    from: isoDate.optional(),
    to: isoDate.optional(),
    provider: z.string().min(1).max(100).optional(),
    model: z.string().min(1).max(200).optional(),
    project: z.uuid('must be a project id (UUID)').optional(),
    team: z.string().max(200).optional(),
    user: z.string().max(200).optional(),
    feature: z.string().max(200).optional(),
    environment: z.string().max(200).optional(),
    status: z.enum(['ok', 'error'], { error: 'must be ok or error' }).optional(),
    pricing: z.enum(['priced', 'partial', 'unpriced'], { error: 'must be priced, partial or unpriced' }).optional(),
    limit: wholeNumberParam(1, 1000, 100),
    cursor: z.string().max(1000).optional(),
  })
  .strict();

/** Parses GET /v1/events query parameters; `tag:<key>=<value>` filters by tag. */
export function parseListEventsQuery(query: Record<string, string | string[] | undefined>): EventListFilters {
  // No prototype: a tag named __proto__ is a tag like any other, not the object's prototype.
  const tags: Record<string, string> = Object.create(null);
  const plain: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) {
      errors.push({ path: key, message: 'must be given once' });
      continue;
    }
    if (!hasNoNul(key) || (value !== undefined && !hasNoNul(value))) {
      // PostgreSQL text cannot hold NUL: refused here, before any query.
      errors.push({ path: key, message: NUL_MESSAGE });
      continue;
    }
    if (key.startsWith('tag:')) {
      const name = key.slice(4);
      if (name.length === 0 || name.length > 64) errors.push({ path: key, message: 'must name a tag of 1 to 64 characters (tag:<name>=<value>)' });
      else tags[name] = value ?? '';
    }
    else plain[key] = value;
  }
  const parsed = querySchema.safeParse(plain);
  if (!parsed.success) errors.push(...fieldErrorsOf(parsed.error));
  let cursor: EventListFilters['cursor'];
  if (typeof plain.cursor === 'string') {
    cursor = decodeCursor(plain.cursor);
    if (!cursor) errors.push({ path: 'cursor', message: 'is not a cursor this API gave out' });
  }
  if (errors.length > 0 || !parsed.success) throw DomainError.validation(errors);
  const q = parsed.data;
  return {
    ...q,
    provider: q.provider && normalizeProviderSlug(q.provider),
    model: q.model && normalizeModelName(q.model),
    tags,
    cursor,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(occurredAt: string, projectId: string, eventId: string): string {
  return Buffer.from(JSON.stringify([occurredAt, projectId, eventId])).toString('base64url');
}

function decodeCursor(text: string): EventListFilters['cursor'] | undefined {
  try {
    const [occurredAt, projectId, eventId] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    const parts = [occurredAt, projectId, eventId];
    // Each part goes into the query as a timestamptz, a uuid and text: a forged cursor must fail here, not there.
    if (parts.every((part) => typeof part === 'string' && hasNoNul(part)) && dateOrDateTimeProblem(occurredAt) === null && UUID.test(projectId)) {
      return { occurredAt, projectId, eventId };
    }
  } catch {
    // fall through: not ours
  }
  return undefined;
}
