/**
 * The statements behind the database gauges of GET /metrics (DatabaseGauges),
 * in one place. They read other features' tables, read-only: what an operator
 * watches (backlogs, queues, failures) is spread over them, and one statement
 * per scrape is cheaper than a round trip per feature. Each part is cheap by
 * construction: a count capped by LIMIT, a partial index (outbox events not
 * fanned out, deliveries pending or sending), a small table (webhook
 * endpoints, deliveries: one row per alert and endpoint), or a range of the
 * hourly rollup's primary key (which starts with `bucket`).
 *
 * Pricing freshness is not here: it comes from PricingRefreshService, which
 * owns the meaning of "a source was read".
 */

/** The rollup delta tables the compactor folds (libs/ingest, ingest.sql.ts ROLLUPS). */
export const ROLLUP_DELTA_TABLES = [
  'usage_rollup_deltas',
  'usage_rollup_tag_deltas',
  'usage_rollup_user_deltas',
] as const;

/** A delta backlog is counted up to this many rows (the gauge then stays at the cap: far behind either way). */
export const DELTA_COUNT_CAP = 1_000_000;

export const SQL = {
  /** One row; $1 = DELTA_COUNT_CAP. Ages in seconds (0 when nothing waits), counts as bigint. */
  gauges: `
    WITH outbox AS (
      SELECT count(*)::bigint AS pending,
             coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_age_s
      FROM outbox_events WHERE fanned_out_at IS NULL
    ), open_deliveries AS (
      SELECT count(*) FILTER (WHERE status = 'pending')::bigint AS pending,
             count(*) FILTER (WHERE status = 'sending')::bigint AS sending,
             count(*) FILTER (WHERE status = 'pending' AND attempts > 0)::bigint AS retrying,
             coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_age_s
      FROM webhook_deliveries WHERE status IN ('pending', 'sending')
    ), failed_deliveries AS (
      SELECT count(*)::bigint AS failed FROM webhook_deliveries WHERE status = 'failed'
    ), endpoints AS (
      SELECT count(*) FILTER (WHERE enabled AND consecutive_failures = 0)::bigint AS healthy,
             count(*) FILTER (WHERE enabled AND consecutive_failures > 0)::bigint AS failing,
             count(*) FILTER (WHERE NOT enabled)::bigint AS disabled
      FROM webhooks
    ), recent AS (
      SELECT coalesce(sum(events), 0)::bigint AS events,
             coalesce(sum(partial_events), 0)::bigint AS partial,
             coalesce(sum(unpriced_events), 0)::bigint AS unpriced
      FROM usage_rollup_live WHERE bucket >= date_trunc('hour', now(), 'UTC') - interval '23 hours'
    )
    SELECT
      ${ROLLUP_DELTA_TABLES.map((table) => `(SELECT count(*) FROM (SELECT 1 FROM ${table} LIMIT $1) d)::bigint AS "${table}"`).join(',\n      ')},
      outbox.pending AS outbox_pending, outbox.oldest_age_s AS outbox_oldest_age_s,
      open_deliveries.pending AS deliveries_pending, open_deliveries.sending AS deliveries_sending,
      open_deliveries.retrying AS deliveries_retrying, open_deliveries.oldest_age_s AS deliveries_oldest_age_s,
      failed_deliveries.failed AS deliveries_failed,
      endpoints.healthy AS endpoints_healthy, endpoints.failing AS endpoints_failing,
      endpoints.disabled AS endpoints_disabled,
      recent.events AS recent_events, recent.partial AS recent_partial, recent.unpriced AS recent_unpriced
    FROM outbox, open_deliveries, failed_deliveries, endpoints, recent`,
} as const;
