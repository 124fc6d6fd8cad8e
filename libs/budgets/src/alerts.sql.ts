import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AlertEventType } from '@tokentally/core';
import { isoMicroseconds, newestFirstAfter, queryRows } from '@tokentally/db';

/**
 * The one project an alert is about, from what it recorded when it fired: a
 * budget alert the project of the budget's scope then (data.scope.project), a
 * spend anomaly of a project that project (data.key). NULL when it is about
 * several projects (a budget without a project, an anomaly of a model): a key
 * limited to projects does not see those.
 */
const ALERT_PROJECT = `CASE WHEN a.type = 'spend.anomaly' THEN CASE WHEN a.data->>'dimension' = 'project' THEN a.data->>'key' END ELSE a.data->'scope'->>'project' END`;

/** Statements of alerts: one per budget, period and threshold (or forecast, or anomaly day), ever. */
export const ALERT_SQL = {
  /**
   * The alert and its outbox event in one statement: the unique dedupe key
   * decides, across replicas and restarts, that it fires exactly once; the
   * outbox row exists only if the alert row does.
   */
  fireOnce: `
    WITH alert AS (
      INSERT INTO alerts (type, dedupe_key, budget_id, summary, data, event_id)
      VALUES ($1, $2, $3, $4, $5::jsonb, gen_random_uuid())
      ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
      RETURNING event_id
    )
    INSERT INTO outbox_events (id, type, payload, audience)
    SELECT event_id, $1, $5::jsonb, $6::uuid[] FROM alert
    RETURNING id`,
  /** Which of these keys have fired already (spares the insert attempts every minute). */
  fired: `SELECT dedupe_key FROM alerts WHERE dedupe_key = ANY ($1::text[])`,
  /** Newest first; $5 the projects of a key limited to them (NULL: every alert). */
  latest: `
    SELECT a.id, a.type, a.budget_id, a.summary, a.data, a.created_at,
           ${isoMicroseconds('a.created_at')} AS created_at_cursor,
           count(d.id) FILTER (WHERE d.status = 'delivered')::int AS delivered,
           count(d.id) FILTER (WHERE d.status IN ('pending', 'sending'))::int AS pending,
           count(d.id) FILTER (WHERE d.status = 'failed')::int AS failed,
           -- Still pending, but an attempt has failed already: the endpoint is failing, retries are scheduled.
           count(d.id) FILTER (WHERE d.status IN ('pending', 'sending') AND d.last_error IS NOT NULL)::int AS retrying
    FROM alerts a LEFT JOIN webhook_deliveries d ON d.event_id = a.event_id
    WHERE ($1::text IS NULL OR a.type = $1) AND ($2::uuid IS NULL OR a.budget_id = $2) AND ${newestFirstAfter('a', '$3', '$6')}
      AND ($5::text[] IS NULL OR lower(${ALERT_PROJECT}) = ANY ($5::text[]))
    GROUP BY a.id
    ORDER BY a.created_at DESC, a.id DESC
    LIMIT $4`,
} as const;

/** An alert about to fire: one per dedupe key, ever. */
export interface NewAlert {
  type: AlertEventType;
  dedupeKey: string;
  budgetId: string | null;
  /** One sentence for people (payloads.ts describeEvent). */
  summary: string;
  /** The payload of its outbox event, kept with the alert. */
  data: Record<string, unknown>;
  /** Webhooks that receive it; null = every endpoint subscribed to the type. */
  audience: string[] | null;
}

/** A row of ALERT_SQL.latest: the alert and how its deliveries went. */
export interface AlertRow {
  id: string;
  type: AlertEventType;
  budget_id: string | null;
  summary: string;
  data: Record<string, unknown>;
  created_at: Date;
  /** created_at to the microsecond, for the next page's `before`. */
  created_at_cursor: string;
  delivered: number;
  pending: number;
  failed: number;
  retrying: number;
}

/** Which alerts `latest` lists, newest first. */
export interface AlertFilter {
  type: AlertEventType | null;
  budgetId: string | null;
  /** Older than this time; with `beforeId`, the alerts after that one in the list's order. */
  before: string | null;
  beforeId: string | null;
  limit: number;
  /** The projects of a key limited to them; null: every alert. */
  projectIds: string[] | null;
}

/** Alerts: the statements above, with typed rows. */
@Injectable()
export class AlertsRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Which of these keys have fired already. */
  async firedKeys(keys: string[]): Promise<Set<string>> {
    const rows = await queryRows<{ dedupe_key: string }>(this.db, ALERT_SQL.fired, [keys]);
    return new Set(rows.map((r) => r.dedupe_key));
  }

  /** Writes the alert and its outbox event; false when its key has fired already. */
  async fireOnce(alert: NewAlert): Promise<boolean> {
    const inserted = await queryRows<{ id: string }>(this.db, ALERT_SQL.fireOnce, [
      alert.type,
      alert.dedupeKey,
      alert.budgetId,
      alert.summary,
      JSON.stringify(alert.data),
      alert.audience,
    ]);
    return inserted.length > 0;
  }

  latest(filter: AlertFilter): Promise<AlertRow[]> {
    return queryRows<AlertRow>(this.db, ALERT_SQL.latest, [
      filter.type,
      filter.budgetId,
      filter.before,
      filter.limit,
      filter.projectIds,
      filter.beforeId,
    ]);
  }
}
