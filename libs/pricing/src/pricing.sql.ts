import { PRICE_UNITS } from '@tokentally/core';

const UNIT_COLUMNS = PRICE_UNITS.join(', ');

/** Every statement on price_versions, in one place. */
export const SQL = {
  allVersions: `
    SELECT id, provider, model, kind, source, source_ref, effective_from, effective_to, ${UNIT_COLUMNS}
    FROM price_versions`,
  insertVersionIfAbsent: `
    INSERT INTO price_versions (provider, model, kind, source, source_ref, effective_from, ${UNIT_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, ${PRICE_UNITS.map((_, i) => `$${i + 7}`).join(', ')})
    ON CONFLICT (provider, model, kind, effective_from) DO NOTHING
    RETURNING id`,
  // Each version closes where the next one of the same provider, model and kind starts.
  rechainVersions: `
    UPDATE price_versions p SET effective_to = chain.next_from
    FROM (
      SELECT id, lead(effective_from) OVER (ORDER BY effective_from) AS next_from
      FROM price_versions WHERE provider = $1 AND model = $2 AND kind = $3
    ) chain
    WHERE p.id = chain.id AND p.effective_to IS DISTINCT FROM chain.next_from`,
} as const;
