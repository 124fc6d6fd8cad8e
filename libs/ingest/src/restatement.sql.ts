import { rollupDeltaCtes } from './ingest.sql';

const EVENT_COLUMNS = `project_id, event_id, occurred_at, provider, model, status, images, cost_usd, priced,
  input_text_tokens, cached_input_text_tokens, input_image_tokens, cached_input_image_tokens, output_image_tokens, output_text_tokens`;

/** Statements of restatements (re-pricing stored events), in one place with the rest of ingest's SQL. */
/** A restatement moves cost (and the unpriced count) only: events, tokens and images stay. */
const RESTATED_MEASURES = `0, sum(CASE WHEN changed.old_priced AND NOT changed.priced THEN 1 WHEN NOT changed.old_priced AND changed.priced THEN -1 ELSE 0 END), 0, 0,
  0, 0, 0, 0, 0, 0, sum(coalesce(changed.cost_usd, 0) - coalesce(changed.old_cost, 0)), 0`;

export const RESTATEMENT_SQL = {
  /** Unpriced events, in keyset pages (the partial index on NOT priced serves it). */
  unpricedPage: `
    SELECT ${EVENT_COLUMNS} FROM usage_events
    WHERE NOT priced AND (project_id, event_id) > ($1::uuid, $2::text)
    ORDER BY project_id, event_id LIMIT $3`,
  /** Events of a time range, in keyset pages. */
  rangePage: `
    SELECT ${EVENT_COLUMNS} FROM usage_events
    WHERE occurred_at >= $1 AND occurred_at < $2
      AND ($3::text IS NULL OR provider = $3) AND ($4::text IS NULL OR model = $4)
      AND (occurred_at, project_id, event_id) > ($5::timestamptz, $6::uuid, $7::text)
    ORDER BY occurred_at, project_id, event_id LIMIT $8`,
  /**
   * Sets new costs and moves the rollup by the difference, in one statement:
   * the old values are read in the snapshot the update replaces, so the rollup
   * moves by exactly what the events moved. Restatements hold
   * `restatementLock` (ingest never changes a stored cost), so no other
   * writer changes these rows between that snapshot and the update.
   */
  applyCosts: `
    WITH c AS (
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::numeric[], $4::uuid[]) AS c(project_id, event_id, cost_usd, price_version_id)
    ), old AS (
      SELECT e.project_id, e.event_id, e.cost_usd AS old_cost, e.priced AS old_priced
      FROM usage_events e JOIN c USING (project_id, event_id)
    ), upd AS (
      UPDATE usage_events e
      SET cost_usd = c.cost_usd, priced = c.cost_usd IS NOT NULL, price_version_id = c.price_version_id
      FROM c WHERE e.project_id = c.project_id AND e.event_id = c.event_id
      RETURNING e.project_id, e.event_id, e.occurred_at, e.provider, e.model, e.team, e.user_id, e.feature, e.environment,
                e.image_size, e.image_quality, e.cost_usd, e.priced, e.tags, e.status
    ), changed AS (
      SELECT u.*, o.old_cost, o.old_priced FROM upd u JOIN old o USING (project_id, event_id)
    ),
    ${rollupDeltaCtes('changed', 'changed', RESTATED_MEASURES)}
    SELECT count(*)::int AS changed FROM upd`,
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
      coalesce(sum(input_text_tokens + cached_input_text_tokens + input_image_tokens + cached_input_image_tokens + output_image_tokens + output_text_tokens), 0)::bigint AS tokens
    FROM usage_rollup_live WHERE bucket >= $1 AND bucket < $2`,
  coverageKinds: `
    SELECT provider, model,
      sum(input_text_tokens)::bigint AS input_text, sum(cached_input_text_tokens)::bigint AS cached_input_text,
      sum(input_image_tokens)::bigint AS input_image, sum(cached_input_image_tokens)::bigint AS cached_input_image,
      sum(output_image_tokens)::bigint AS output_image, sum(output_text_tokens)::bigint AS output_text
    FROM usage_rollup_live WHERE bucket >= $1 AND bucket < $2
    GROUP BY provider, model`,
  coverageUnpriced: `
    SELECT e.provider, e.model, count(*)::bigint AS events,
      sum(input_text_tokens + cached_input_text_tokens + input_image_tokens + cached_input_image_tokens + output_image_tokens + output_text_tokens)::bigint AS tokens,
      min(m.first_seen_at) AS first_seen_at
    FROM usage_events e LEFT JOIN unpriced_models m USING (provider, model)
    WHERE NOT e.priced AND e.occurred_at >= $1 AND e.occurred_at < $2
    GROUP BY e.provider, e.model ORDER BY count(*) DESC`,
} as const;
