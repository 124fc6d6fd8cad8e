import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PricingState } from '@tokentally/core';
import { isoMicroseconds, Queryable, queryRows } from '@tokentally/db';
import { rollupDeltaCtes, TokenColumns, UsageEventRow } from './ingest.sql';
import { COUNTED_IN_OPEN_MONTH } from './periods.sql';

const EVENT_COLUMNS = `project_id, event_id, occurred_at, provider, model, status, images, image_size, image_quality, cost_usd, pricing, unpriced_kinds,
  input_text_tokens, cached_input_text_tokens, input_image_tokens, cached_input_image_tokens, output_image_tokens, output_text_tokens`;

/** Statements of restatements (re-pricing stored events), in one place with the rest of ingest's SQL. */
/**
 * A restatement moves cost, the unpriced and partial counts and the partial
 * cost only: events, tokens, images and latency stay. In ROLLUP_MEASURES order.
 */
const was = (state: string) => `(changed.old_pricing = '${state}')::int`;
const is = (state: string) => `(changed.pricing = '${state}')::int`;
const RESTATED_MEASURES = `0, sum(${is('unpriced')} - ${was('unpriced')}), 0, 0,
  0, 0, 0, 0, 0, 0, sum(coalesce(changed.cost_usd, 0) - coalesce(changed.old_cost, 0)), 0,
  sum(${is('partial')} - ${was('partial')}),
  sum(CASE WHEN changed.pricing = 'partial' THEN changed.cost_usd ELSE 0 END - CASE WHEN changed.old_pricing = 'partial' THEN changed.old_cost ELSE 0 END),
  0, 0, 0`;

export const RESTATEMENT_SQL = {
  /** Unpriced events, in keyset pages (the partial index on NOT priced serves it). */
  unpricedPage: `
    SELECT ${EVENT_COLUMNS} FROM usage_events
    WHERE NOT priced AND (project_id, event_id) > ($1::uuid, $2::text) AND ${COUNTED_IN_OPEN_MONTH('usage_events')}
    ORDER BY project_id, event_id LIMIT $3`,
  /**
   * Events of a time range, in keyset pages. `occurred_at_cursor` is the time with its microseconds, for the next
   * page's cursor: a JS Date would cut them, and the page after would start again with the row this one ended on.
   */
  rangePage: `
    SELECT ${EVENT_COLUMNS}, ${isoMicroseconds('occurred_at')} AS occurred_at_cursor
    FROM usage_events
    WHERE occurred_at >= $1 AND occurred_at < $2
      AND ($3::text IS NULL OR provider = $3) AND ($4::text IS NULL OR model = $4)
      AND (occurred_at, project_id, event_id) > ($5::timestamptz, $6::uuid, $7::text)
      AND ${COUNTED_IN_OPEN_MONTH('usage_events')}
    ORDER BY occurred_at, project_id, event_id LIMIT $8`,
  /**
   * Sets new costs and moves the rollup by the difference, in one statement
   * (each event found by its time from usage_event_keys, so one month is read):
   * the old values are read in the snapshot the update replaces, so the rollup
   * moves by exactly what the events moved. An event counted in a closed month
   * is left as it is (checked here, in the statement that writes: closing a
   * month waits for it, periods.sql.ts). Restatements hold
   * `restatementLock` (ingest never changes a stored cost), so no other
   * writer changes these rows between that snapshot and the update.
   */
  applyCosts: `
    WITH c AS (
      SELECT k.occurred_at, c.*
      FROM unnest($1::uuid[], $2::text[], $3::numeric[], $4::uuid[], $5::text[], $6::text[])
        AS c(project_id, event_id, cost_usd, price_version_id, pricing, unpriced_kinds)
      JOIN usage_event_keys k USING (project_id, event_id)
    ), old AS (
      SELECT e.project_id, e.event_id, e.cost_usd AS old_cost, e.pricing AS old_pricing
      FROM usage_events e JOIN c USING (occurred_at, project_id, event_id)
    ), upd AS (
      UPDATE usage_events e
      SET cost_usd = c.cost_usd, pricing = c.pricing, priced = c.pricing = 'priced',
          unpriced_kinds = string_to_array(c.unpriced_kinds, ','), price_version_id = c.price_version_id
      FROM c WHERE e.occurred_at = c.occurred_at AND e.project_id = c.project_id AND e.event_id = c.event_id
        AND ${COUNTED_IN_OPEN_MONTH('e')}
      RETURNING e.project_id, e.event_id, e.occurred_at, e.booked_at, e.provider, e.model, e.team, e.user_id, e.feature, e.environment,
                e.image_size, e.image_quality, e.cost_usd, e.pricing, e.tags, e.status
    ), changed AS (
      SELECT u.*, o.old_cost, o.old_pricing FROM upd u JOIN old o USING (project_id, event_id)
    ),
    ${rollupDeltaCtes('changed', 'changed', RESTATED_MEASURES)}
    SELECT project_id::text AS project_id, event_id FROM upd`,
  restatementLock: `SELECT pg_advisory_xact_lock(7291003)`,
  insertRestatement: `
    INSERT INTO restatements (reason, requested_by, range_from, range_to, provider, model, events_examined, events_changed, total_before_usd, total_after_usd)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    RETURNING *`,
  restatements: `SELECT * FROM restatements ORDER BY created_at DESC LIMIT $1`,
  newUnpricedModels: `
    INSERT INTO unpriced_models (provider, model)
    SELECT * FROM unnest($1::text[], $2::text[])
    ON CONFLICT DO NOTHING
    RETURNING provider, model, first_seen_at`,

  coverageTotals: `
    SELECT coalesce(sum(events), 0)::bigint AS events, coalesce(sum(unpriced_events), 0)::bigint AS unpriced_events,
      coalesce(sum(partial_events), 0)::bigint AS partial_events, coalesce(sum(partial_cost_usd), 0)::text AS partial_cost_usd,
      coalesce(sum(cost_usd), 0)::text AS cost_usd,
      coalesce(sum(input_text_tokens + cached_input_text_tokens + input_image_tokens + cached_input_image_tokens + output_image_tokens + output_text_tokens), 0)::bigint AS tokens
    FROM usage_rollup_live WHERE bucket >= $1 AND bucket < $2`,
  coverageKinds: `
    SELECT provider, model,
      sum(input_text_tokens)::bigint AS input_text, sum(cached_input_text_tokens)::bigint AS cached_input_text,
      sum(input_image_tokens)::bigint AS input_image, sum(cached_input_image_tokens)::bigint AS cached_input_image,
      sum(output_image_tokens)::bigint AS output_image, sum(output_text_tokens)::bigint AS output_text,
      sum(per_image_images)::bigint AS per_image_images
    FROM usage_rollup_live WHERE bucket >= $1 AND bucket < $2
    GROUP BY provider, model`,
  /** Events not wholly priced, per model and state, with the units that had no rate. */
  coverageNotPriced: `
    SELECT e.provider, e.model, e.pricing, count(*)::bigint AS events,
      sum(input_text_tokens + cached_input_text_tokens + input_image_tokens + cached_input_image_tokens + output_image_tokens + output_text_tokens)::bigint AS tokens,
      coalesce(sum(e.cost_usd), 0)::text AS cost_usd,
      string_agg(DISTINCT array_to_string(e.unpriced_kinds, ','), ',') AS missing,
      min(m.first_seen_at) AS first_seen_at
    FROM usage_events e LEFT JOIN unpriced_models m USING (provider, model)
    WHERE NOT e.priced AND e.occurred_at >= $1 AND e.occurred_at < $2
    GROUP BY e.provider, e.model, e.pricing ORDER BY count(*) DESC`,

  /**
   * The restatements that covered an event: made after it was stored, over a
   * range holding its time (none: every time) and its provider and model
   * (none: every one). A restatement of newly priced events (`new_price`)
   * re-prices only events not wholly priced, so it is shown only for an event
   * that was or is not wholly priced ($5).
   */
  coveringEvent: `
    SELECT * FROM restatements
    WHERE created_at >= $1::timestamptz
      AND (range_from IS NULL OR range_from <= $2::timestamptz) AND (range_to IS NULL OR range_to > $2::timestamptz)
      AND (provider IS NULL OR provider = $3::text) AND (model IS NULL OR model = $4::text)
      AND (reason = 'manual' OR $5::boolean)
    ORDER BY created_at DESC, id
    LIMIT 100`,
} as const;

/** A stored event as a restatement reads it (EVENT_COLUMNS). */
export type StoredEvent = Pick<
  UsageEventRow,
  | 'project_id'
  | 'event_id'
  | 'occurred_at'
  | 'provider'
  | 'model'
  | 'status'
  | 'images'
  | 'image_size'
  | 'image_quality'
  | 'cost_usd'
  | 'pricing'
  | 'unpriced_kinds'
  | keyof TokenColumns
>;

/** A row of `restatements` (numeric totals as strings). */
export interface RestatementRow {
  id: string;
  reason: 'new_price' | 'manual';
  requested_by: string | null;
  created_at: Date;
  range_from: Date | null;
  range_to: Date | null;
  provider: string | null;
  model: string | null;
  events_examined: number;
  events_changed: number;
  total_before_usd: string;
  total_after_usd: string;
}

/** A restatement to record. */
export interface NewRestatement {
  reason: RestatementRow['reason'];
  requestedBy: string | null;
  range: { from?: Date; to?: Date; provider?: string; model?: string };
  examined: number;
  changed: number;
  totalBefore: string;
  totalAfter: string;
}

/** A new cost of one event (null: unpriced), and how it was priced. */
export interface CostChange {
  projectId: string;
  eventId: string;
  cost: string | null;
  versionId: string | null;
  pricing: PricingState;
  /** The units with no rate, comma-separated; null when wholly priced. */
  missing: string | null;
}

/** RESTATEMENT_SQL.coverageTotals: sums over the live rollup (bigint and numeric as strings). */
export interface CoverageTotalsRow {
  events: string;
  unpriced_events: string;
  partial_events: string;
  partial_cost_usd: string;
  cost_usd: string;
  tokens: string;
}

/** RESTATEMENT_SQL.coverageKinds: the units used per provider and model (bigint sums as strings). */
export interface UsageByKindRow {
  provider: string;
  model: string;
  input_text: string;
  cached_input_text: string;
  input_image: string;
  cached_input_image: string;
  output_image: string;
  output_text: string;
  per_image_images: string;
}

/** RESTATEMENT_SQL.coverageNotPriced: events not wholly priced, per model and state. */
export interface NotPricedRow {
  provider: string;
  model: string;
  pricing: PricingState;
  events: string;
  tokens: string | null;
  cost_usd: string;
  missing: string | null;
  first_seen_at: Date | null;
}

/**
 * Restatements, the events they re-price, and pricing coverage: the
 * statements above, with typed rows.
 */
@Injectable()
export class RestatementsRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Unpriced events after (project_id, event_id), in key order. */
  unpricedPage(after: [string, string], limit: number): Promise<StoredEvent[]> {
    return queryRows<StoredEvent>(this.db, RESTATEMENT_SQL.unpricedPage, [after[0], after[1], limit]);
  }

  /**
   * Events of a range (and provider, model) after (occurred_at, project_id, event_id), in that order; the time of
   * `after` as an instant to start after, or a row's `occurred_at_cursor`.
   */
  rangePage(
    range: { from: Date; to: Date; provider?: string; model?: string },
    after: [Date | string, string, string],
    limit: number,
  ): Promise<Array<StoredEvent & { occurred_at_cursor: string }>> {
    return queryRows<StoredEvent & { occurred_at_cursor: string }>(this.db, RESTATEMENT_SQL.rangePage, [
      range.from,
      range.to,
      range.provider ?? null,
      range.model ?? null,
      ...after,
      limit,
    ]);
  }

  /**
   * Sets new costs and moves the rollups by the difference, under the restatement lock; the events changed, as
   * `project_id` NUL `event_id` (an event counted in a month closed since it was read is left as it is).
   */
  applyCosts(changes: CostChange[]): Promise<Set<string>> {
    return this.db.transaction(async (tx) => {
      await tx.query(RESTATEMENT_SQL.restatementLock);
      const rows = await queryRows<{ project_id: string; event_id: string }>(tx, RESTATEMENT_SQL.applyCosts, [
        changes.map((c) => c.projectId),
        changes.map((c) => c.eventId),
        changes.map((c) => c.cost),
        changes.map((c) => c.versionId),
        changes.map((c) => c.pricing),
        changes.map((c) => c.missing),
      ]);
      return new Set(rows.map((r) => `${r.project_id}\u0000${r.event_id}`));
    });
  }

  async insert(restatement: NewRestatement): Promise<RestatementRow> {
    const { range } = restatement;
    const [row] = await queryRows<RestatementRow>(this.db, RESTATEMENT_SQL.insertRestatement, [
      restatement.reason,
      restatement.requestedBy,
      range.from ?? null,
      range.to ?? null,
      range.provider ?? null,
      range.model ?? null,
      restatement.examined,
      restatement.changed,
      restatement.totalBefore,
      restatement.totalAfter,
    ]);
    return row;
  }

  /** The latest restatements, newest first. */
  list(limit: number): Promise<RestatementRow[]> {
    return queryRows<RestatementRow>(this.db, RESTATEMENT_SQL.restatements, [limit]);
  }

  /** The restatements that covered a stored event (RESTATEMENT_SQL.coveringEvent). */
  coveringEvent(
    event: Pick<UsageEventRow, 'received_at' | 'provider' | 'model'> & { occurred_at_iso: string },
    notWhollyPriced: boolean,
  ): Promise<RestatementRow[]> {
    return queryRows<RestatementRow>(this.db, RESTATEMENT_SQL.coveringEvent, [
      event.received_at,
      event.occurred_at_iso,
      event.provider,
      event.model,
      notWhollyPriced,
    ]);
  }

  /** Records models seen without a price, in `tx`; those seen for the first time. */
  newUnpricedModels(
    tx: Queryable,
    models: Array<{ provider: string; model: string }>,
  ): Promise<Array<{ provider: string; model: string; first_seen_at: Date }>> {
    return queryRows(tx, RESTATEMENT_SQL.newUnpricedModels, [
      models.map((m) => m.provider),
      models.map((m) => m.model),
    ]);
  }

  async coverageTotals(from: Date, to: Date): Promise<CoverageTotalsRow> {
    const [row] = await queryRows<CoverageTotalsRow>(this.db, RESTATEMENT_SQL.coverageTotals, [from, to]);
    return row;
  }

  coverageNotPriced(from: Date, to: Date): Promise<NotPricedRow[]> {
    return queryRows<NotPricedRow>(this.db, RESTATEMENT_SQL.coverageNotPriced, [from, to]);
  }

  coverageKinds(from: Date, to: Date): Promise<UsageByKindRow[]> {
    return queryRows<UsageByKindRow>(this.db, RESTATEMENT_SQL.coverageKinds, [from, to]);
  }
}
