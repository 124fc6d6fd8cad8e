import type { DomainEventType } from '@tokentally/core';
import { Queryable } from './rows';

/** The statement of the outbox that every feature writes to (libs/webhooks fans it out and delivers it). */
export const OUTBOX_SQL = {
  insert: `INSERT INTO outbox_events (type, payload) VALUES ($1, $2::jsonb)`,
} as const;

/** Writes a domain event to the outbox with `db`: the caller's transaction, so it commits with its change. */
export async function insertOutboxEvent(
  db: Queryable,
  type: DomainEventType,
  payload: Record<string, unknown>,
): Promise<void> {
  await db.query(OUTBOX_SQL.insert, [type, JSON.stringify(payload)]);
}
