import { rollupDeltaCtes } from './ingest.sql';

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
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::numeric[], $4::uuid[], $5::text[], $6::text[])
        AS c(project_id, event_id, cost_usd, price_version_id, pricing, unpriced_kinds)
    ), old AS (
      SELECT e.project_id, e.event_id, e.cost_usd AS old_cost, e.pricing AS old_pricing
      FROM usage_events e JOIN c USING (project_id, event_id)
    ), upd AS (
      UPDATE usage_events e
      SET cost_usd = c.cost_usd, pricing = c.pricing, priced = c.pricing = 'priced',
          unpriced_kinds = string_to_array(c.unpriced_kinds, ','), price_version_id = c.price_version_id
      FROM c WHERE e.project_id = c.project_id AND e.event_id = c.event_id
      RETURNING e.project_id, e.event_id, e.occurred_at, e.provider, e.model, e.team, e.user_id, e.feature, e.environment,
                e.image_size, e.image_quality, e.cost_usd, e.pricing, e.tags, e.status
    ), changed AS (
      SELECT u.*, o.old_cost, o.old_pricing FROM upd u JOIN old o USING (project_id, event_id)
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
} as const;
