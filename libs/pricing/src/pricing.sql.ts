import { PRICE_UNITS } from '@tokentally/core';

const UNIT_COLUMNS = PRICE_UNITS.join(', ');
const VERSION_COLUMNS = `id, provider, model, kind, source, source_ref, effective_from, effective_to, discount_pct, created_at, image_prices, rate_sources, ${UNIT_COLUMNS}`;

/** Every statement on the price book (versions, runs, pending changes), in one place. */
export const SQL = {
  allVersions: `SELECT ${VERSION_COLUMNS} FROM price_versions`,
  history: `
    SELECT ${VERSION_COLUMNS} FROM price_versions
    WHERE ($1::text IS NULL OR provider = $1) AND ($2::text IS NULL OR model = $2)
    ORDER BY provider, model, kind, effective_from`,
  insertVersionIfAbsent: `
    INSERT INTO price_versions (provider, model, kind, source, source_ref, effective_from, image_prices, ${UNIT_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, ${PRICE_UNITS.map((_, i) => `$${i + 8}`).join(', ')})
    ON CONFLICT (provider, model, kind, effective_from) DO NOTHING
    RETURNING id`,
  insertVersion: `
    INSERT INTO price_versions (provider, model, kind, source, source_ref, effective_from, discount_pct, created_by, run_id, image_prices, rate_sources, ${UNIT_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, ${PRICE_UNITS.map((_, i) => `$${i + 12}`).join(', ')})
    RETURNING id`,
  // Each version closes where the next one of the same provider, model and kind starts.
  rechainVersions: `
    UPDATE price_versions p SET effective_to = chain.next_from
    FROM (
      SELECT id, lead(effective_from) OVER (ORDER BY effective_from) AS next_from
      FROM price_versions WHERE provider = $1 AND model = $2 AND kind = $3
    ) chain
    WHERE p.id = chain.id AND chain.next_from IS NOT NULL AND p.effective_to IS DISTINCT FROM chain.next_from`,
  endOverride: `
    UPDATE price_versions SET effective_to = greatest(effective_from + interval '1 microsecond', now())
    WHERE id = $1 AND kind IN ('override', 'discount') AND (effective_to IS NULL OR effective_to > now())
    RETURNING id`,
  overrideById: `SELECT id, kind, effective_to FROM price_versions WHERE id = $1 AND kind IN ('override', 'discount')`,

  abandonStaleRuns: `
    UPDATE pricing_runs SET status = 'abandoned', finished_at = now()
    WHERE status = 'running' AND started_at < now() - interval '10 minutes'`,
  startRun: `INSERT INTO pricing_runs (trigger, triggered_by) VALUES ($1, $2) RETURNING id, started_at`,
  runningRun: `SELECT id FROM pricing_runs WHERE status = 'running'`,
  finishRun: `
    UPDATE pricing_runs SET status = $2, finished_at = now(), sources = $3::jsonb, prices_changed = $4, prices_pending = $5
    WHERE id = $1`,
  runById: `SELECT * FROM pricing_runs WHERE id = $1`,
  runs: `SELECT * FROM pricing_runs ORDER BY started_at DESC LIMIT $1`,
  lastSuccessfulRun: `SELECT * FROM pricing_runs WHERE status IN ('succeeded', 'partial') ORDER BY finished_at DESC LIMIT 1`,
  // For each source, the last finished run in which it answered: a run that read only the built-in
  // catalog is a refresh, but not one from a remote source. Runs are few (weekly, and on demand).
  lastReadPerSource: `
    SELECT DISTINCT ON (s->>'source') s->>'source' AS source, r.id AS run_id, r.finished_at
    FROM pricing_runs r
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.sources) = 'array' THEN r.sources ELSE '[]'::jsonb END) s
    WHERE r.status IN ('succeeded', 'partial') AND s->>'status' = 'ok'
    ORDER BY s->>'source', r.finished_at DESC, r.id`,

  // The same held change is not proposed twice: not while it waits, and not again once rejected
  // against the same version in force (it comes back only when that version changes).
  insertPending: `
    INSERT INTO pending_prices (provider, model, source, source_ref, run_id, current_version_id, prices, reasons, rate_sources)
    SELECT $1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb
    WHERE NOT EXISTS (
      SELECT 1 FROM pending_prices
      WHERE provider = $1 AND model = $2 AND source = $3 AND prices = $7::jsonb
        AND (status = 'pending' OR (status = 'rejected' AND current_version_id IS NOT DISTINCT FROM $6)))
    RETURNING id`,
  // A newer held change for the same model and source replaces the older one.
  supersedePending: `
    UPDATE pending_prices SET status = 'superseded', decided_at = now()
    WHERE provider = $1 AND model = $2 AND source = $3 AND status = 'pending' AND id <> $4`,
  pendingList: `SELECT * FROM pending_prices WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at DESC`,
  pendingForUpdate: `SELECT * FROM pending_prices WHERE id = $1 FOR UPDATE`,
  decidePending: `
    UPDATE pending_prices SET status = $2, decided_at = now(), decided_by = $3, version_id = $4
    WHERE id = $1`,
} as const;
