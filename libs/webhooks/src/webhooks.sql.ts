import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DomainEventType } from '@tokentally/core';
import { isoMicroseconds, newestFirstAfter, Queryable, queryRows } from '@tokentally/db';

/** Every attempt of delivery `d`, oldest first, as a JSON array. */
const ATTEMPT_LOG = `
  COALESCE((SELECT json_agg(json_build_object(
              'attempt', a.attempt, 'started_at', a.started_at, 'duration_ms', a.duration_ms,
              'status_code', a.status_code, 'error', a.error, 'response_excerpt', a.response_excerpt) ORDER BY a.id)
            FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]') AS attempt_log`;

/** Every statement of the webhooks feature. */
export const SQL = {
  insert: `
    INSERT INTO webhooks (url, description, events, format, enabled, secret)
    VALUES ($1, $2, $3::text[], $4, $5, $6) RETURNING *`,
  list: `SELECT * FROM webhooks ORDER BY created_at, id`,
  byId: `SELECT * FROM webhooks WHERE id = $1`,
  update: `
    UPDATE webhooks SET
      url = COALESCE($2, url),
      description = CASE WHEN $3::boolean THEN $4 ELSE description END,
      events = COALESCE($5::text[], events),
      format = COALESCE($6, format),
      enabled = COALESCE($7, enabled),
      -- Turning an endpoint on again forgets its failures.
      disabled_reason = CASE WHEN $7 IS TRUE THEN NULL ELSE disabled_reason END,
      consecutive_failures = CASE WHEN $7 IS TRUE THEN 0 ELSE consecutive_failures END,
      failing_since = CASE WHEN $7 IS TRUE THEN NULL ELSE failing_since END,
      updated_at = now()
    WHERE id = $1 RETURNING *`,
  remove: `DELETE FROM webhooks WHERE id = $1 RETURNING id`,
  rotateSecret: `
    UPDATE webhooks SET previous_secret = secret, previous_secret_until = now() + make_interval(secs => $3), secret = $2, updated_at = now()
    WHERE id = $1 RETURNING *`,

  deliveries: `
    SELECT d.*, e.type AS event_type, e.created_at AS event_created_at,
           ${isoMicroseconds('d.created_at')} AS created_at_cursor,
           ${ATTEMPT_LOG}
    FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
    WHERE d.webhook_id = $1 AND ($2::text IS NULL OR d.status = $2)
      AND ${newestFirstAfter('d', '$3', '$5')}
    ORDER BY d.created_at DESC, d.id DESC LIMIT $4`,
  deliveryById: `
    SELECT d.*, e.type AS event_type, e.created_at AS event_created_at, w.enabled AS webhook_enabled,
           ${ATTEMPT_LOG}
    FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
    WHERE d.id = $1`,
  // A resend starts a fresh round of the retry schedule; the attempts log keeps the earlier rounds.
  resend: `
    UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = NULL
    WHERE id = $1 AND status <> 'sending' RETURNING id`,
  insertTestEvent: `
    INSERT INTO outbox_events (type, payload, audience, fanned_out_at) VALUES ('webhook.test', $1::jsonb, ARRAY[$2::uuid], now()) RETURNING id`,
  insertDelivery: `INSERT INTO webhook_deliveries (webhook_id, event_id) VALUES ($1, $2) RETURNING id`,

  /**
   * Turns new outbox events into one delivery per receiving endpoint. Rows
   * are claimed with SKIP LOCKED, so replicas share the work and never fan an
   * event out twice (the unique (webhook, event) pair backs that up).
   */
  fanOut: `
    WITH due AS (
      SELECT id, type, audience FROM outbox_events WHERE fanned_out_at IS NULL
      ORDER BY created_at LIMIT 500 FOR UPDATE SKIP LOCKED
    ), created AS (
      INSERT INTO webhook_deliveries (webhook_id, event_id)
      SELECT w.id, due.id FROM due JOIN webhooks w
        ON w.enabled AND due.type = ANY (w.events) AND (due.audience IS NULL OR w.id = ANY (due.audience))
      ON CONFLICT ON CONSTRAINT webhook_deliveries_once DO NOTHING
      RETURNING 1
    )
    UPDATE outbox_events e SET fanned_out_at = now() FROM due WHERE e.id = due.id
    RETURNING (SELECT count(*) FROM created)::int AS deliveries`,

  /**
   * Claims due deliveries (or ones whose sender died: lease expired) for one
   * send each. SKIP LOCKED lets replicas claim side by side without waiting;
   * the lease, not a held transaction, keeps others off while we send, so a
   * slow receiver never holds a database connection.
   */
  claim: `
    WITH claimable AS (
      SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
      WHERE w.enabled AND ($3::uuid IS NULL OR d.id = $3)
        AND ((d.status = 'pending' AND d.next_attempt_at <= now()) OR (d.status = 'sending' AND d.lease_until < now()))
      ORDER BY d.next_attempt_at LIMIT $1
      FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries d SET status = 'sending', attempts = d.attempts + 1, lease_until = now() + make_interval(secs => $2)
    FROM claimable c, webhooks w, outbox_events e
    WHERE d.id = c.id AND w.id = d.webhook_id AND e.id = d.event_id
    RETURNING d.id, d.attempts, w.id AS webhook_id, w.url, w.format, w.secret,
              CASE WHEN w.previous_secret_until > now() THEN w.previous_secret END AS previous_secret,
              e.id AS event_id, e.type, e.payload, e.created_at`,
  insertAttempt: `
    INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt)
    VALUES ($1, $2, $3, $4, $5, $6, $7)`,
  // Each outcome applies only if this sender still holds the claim (same attempt number, still sending).
  markDelivered: `
    UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), lease_until = NULL, last_status_code = $3, last_error = NULL
    WHERE id = $1 AND attempts = $2 AND status = 'sending'`,
  markRetry: `
    UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now() + make_interval(secs => $5), lease_until = NULL, last_status_code = $3, last_error = $4
    WHERE id = $1 AND attempts = $2 AND status = 'sending'`,
  markFailed: `
    UPDATE webhook_deliveries SET status = 'failed', lease_until = NULL, last_status_code = $3, last_error = $4
    WHERE id = $1 AND attempts = $2 AND status = 'sending'`,
  endpointSucceeded: `
    UPDATE webhooks SET consecutive_failures = 0, failing_since = NULL WHERE id = $1 AND consecutive_failures > 0`,
  // Disabled after $2 failed attempts in a row that span at least $3 seconds.
  endpointFailed: `
    UPDATE webhooks SET
      consecutive_failures = consecutive_failures + 1,
      failing_since = COALESCE(failing_since, now()),
      enabled = enabled AND NOT (consecutive_failures + 1 >= $2 AND COALESCE(failing_since, now()) <= now() - make_interval(secs => $3)),
      disabled_reason = CASE
        WHEN enabled AND consecutive_failures + 1 >= $2 AND COALESCE(failing_since, now()) <= now() - make_interval(secs => $3)
        THEN (consecutive_failures + 1) || ' failed attempts in a row since ' || to_char(COALESCE(failing_since, now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        ELSE disabled_reason END,
      updated_at = now()
    WHERE id = $1`,
  endpointGone: `
    UPDATE webhooks SET enabled = false, disabled_reason = 'the endpoint answered 410 Gone', updated_at = now() WHERE id = $1`,
} as const;

export type WebhookFormat = 'standard' | 'slack';
export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

/** A row of `webhooks`; the secrets are sealed (libs/common secrets.ts). */
export interface WebhookRow {
  id: string;
  url: string;
  description: string | null;
  events: DomainEventType[];
  format: WebhookFormat;
  enabled: boolean;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  consecutive_failures: number;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The fields of an endpoint that people set. */
export interface WebhookValues {
  url: string;
  description: string | null;
  events: DomainEventType[];
  format: WebhookFormat;
  enabled: boolean;
}

/** One attempt in a delivery's attempt_log (json_agg: timestamps are ISO strings there). */
export interface AttemptLogEntry {
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
}

/** A row of SQL.deliveries and SQL.deliveryById: the delivery, its event's type and time, its attempts. */
export interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  lease_until: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
  event_type: string;
  event_created_at: Date;
  attempt_log: AttemptLogEntry[];
  /** SQL.deliveryById only. */
  webhook_enabled?: boolean;
}

/** A delivery claimed for one send (SQL.claim), with what sending it needs. */
export interface ClaimedDelivery {
  id: string;
  attempts: number;
  webhook_id: string;
  url: string;
  format: WebhookFormat;
  /** Sealed. */
  secret: string;
  /** Sealed; only while the previous secret still signs. */
  previous_secret: string | null;
  event_id: string;
  type: string;
  payload: Record<string, unknown>;
  created_at: Date;
}

/** What one attempt of a delivery did, as webhook_attempts keeps it. */
export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseExcerpt: string | null;
}

/** Webhook endpoints: the statements above on `webhooks`, with typed rows. */
@Injectable()
export class WebhooksRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async insert(webhook: WebhookValues, sealedSecret: string): Promise<WebhookRow> {
    const [row] = await queryRows<WebhookRow>(this.db, SQL.insert, [
      webhook.url,
      webhook.description,
      webhook.events,
      webhook.format,
      webhook.enabled,
      sealedSecret,
    ]);
    return row;
  }

  list(): Promise<WebhookRow[]> {
    return queryRows<WebhookRow>(this.db, SQL.list);
  }

  async byId(id: string): Promise<WebhookRow | undefined> {
    const [row] = await queryRows<WebhookRow>(this.db, SQL.byId, [id]);
    return row;
  }

  /** The fields given change (a description given as null is removed); undefined when there is no such endpoint. */
  async update(id: string, patch: Partial<WebhookValues>): Promise<WebhookRow | undefined> {
    const [row] = await queryRows<WebhookRow>(this.db, SQL.update, [
      id,
      patch.url ?? null,
      patch.description !== undefined,
      patch.description ?? null,
      patch.events ?? null,
      patch.format ?? null,
      patch.enabled ?? null,
    ]);
    return row;
  }

  /** Whether there was such an endpoint. */
  async remove(id: string): Promise<boolean> {
    return (await queryRows<{ id: string }>(this.db, SQL.remove, [id])).length > 0;
  }

  /** The new (sealed) secret signs from now; the one before still does for `previousValidSeconds`. */
  async rotateSecret(id: string, sealedSecret: string, previousValidSeconds: number): Promise<WebhookRow | undefined> {
    const [row] = await queryRows<WebhookRow>(this.db, SQL.rotateSecret, [id, sealedSecret, previousValidSeconds]);
    return row;
  }

  /** A `webhook.test` event for this endpoint only and its delivery, in one transaction; the delivery's id. */
  insertTestDelivery(webhookId: string, payload: Record<string, unknown>): Promise<string> {
    return this.db.transaction(async (tx) => {
      const [event] = await queryRows<{ id: string }>(tx, SQL.insertTestEvent, [JSON.stringify(payload), webhookId]);
      const [delivery] = await queryRows<{ id: string }>(tx, SQL.insertDelivery, [webhookId, event.id]);
      return delivery.id;
    });
  }
}

/**
 * Deliveries of outbox events to endpoints: the statements above on
 * `webhook_deliveries` and `webhook_attempts` (and the endpoint's failure
 * count they move), with typed rows. The outcome statements take the
 * transaction that records an attempt.
 */
@Injectable()
export class DeliveriesRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * A page of an endpoint's deliveries, newest first: older than `before`, or, with `beforeId`, after that
   * delivery in the list's (created_at, id) order.
   */
  list(
    webhookId: string,
    filter: { status: DeliveryStatus | null; before: string | null; beforeId: string | null; limit: number },
  ): Promise<Array<DeliveryRow & { created_at_cursor: string }>> {
    return queryRows<DeliveryRow & { created_at_cursor: string }>(this.db, SQL.deliveries, [
      webhookId,
      filter.status,
      filter.before,
      filter.limit,
      filter.beforeId,
    ]);
  }

  async byId(id: string): Promise<DeliveryRow | undefined> {
    const [row] = await queryRows<DeliveryRow>(this.db, SQL.deliveryById, [id]);
    return row;
  }

  /** Makes a delivery due now with a fresh round of retries; false when it is being sent right now (or is gone). */
  async resend(id: string): Promise<boolean> {
    return (await queryRows<{ id: string }>(this.db, SQL.resend, [id])).length > 0;
  }

  /** New outbox events become deliveries to the endpoints that receive them. */
  async fanOut(): Promise<void> {
    await this.db.query(SQL.fanOut);
  }

  /** Claims up to `limit` due deliveries (or the one given) for `leaseSeconds`. */
  claim(limit: number, leaseSeconds: number, deliveryId: string | null = null): Promise<ClaimedDelivery[]> {
    return queryRows<ClaimedDelivery>(this.db, SQL.claim, [limit, leaseSeconds, deliveryId]);
  }

  async insertAttempt(tx: Queryable, attempt: AttemptRecord): Promise<void> {
    await tx.query(SQL.insertAttempt, [
      attempt.deliveryId,
      attempt.attempt,
      attempt.startedAt,
      attempt.durationMs,
      attempt.statusCode,
      attempt.error,
      attempt.responseExcerpt,
    ]);
  }

  async markDelivered(tx: Queryable, id: string, attempts: number, statusCode: number | null): Promise<void> {
    await tx.query(SQL.markDelivered, [id, attempts, statusCode]);
  }

  async markRetry(
    tx: Queryable,
    id: string,
    attempts: number,
    statusCode: number | null,
    error: string | null,
    waitSeconds: number,
  ): Promise<void> {
    await tx.query(SQL.markRetry, [id, attempts, statusCode, error, waitSeconds]);
  }

  async markFailed(
    tx: Queryable,
    id: string,
    attempts: number,
    statusCode: number | null,
    error: string | null,
  ): Promise<void> {
    await tx.query(SQL.markFailed, [id, attempts, statusCode, error]);
  }

  async endpointSucceeded(tx: Queryable, webhookId: string): Promise<void> {
    await tx.query(SQL.endpointSucceeded, [webhookId]);
  }

  /** One more failure in a row; disabled after `disableAfterFailures` of them spanning `disableAfterSeconds`. */
  async endpointFailed(
    tx: Queryable,
    webhookId: string,
    disableAfterFailures: number,
    disableAfterSeconds: number,
  ): Promise<void> {
    await tx.query(SQL.endpointFailed, [webhookId, disableAfterFailures, disableAfterSeconds]);
  }

  async endpointGone(tx: Queryable, webhookId: string): Promise<void> {
    await tx.query(SQL.endpointGone, [webhookId]);
  }
}
