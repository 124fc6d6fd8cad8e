import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PRICE_UNITS, PriceSheet, PriceUnit, PriceVersionKind } from '@tokentally/core';
import { Queryable, queryRows } from '@tokentally/db';

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

/** A row of `price_versions` (VERSION_COLUMNS): numeric rates as strings, null where the version has none. */
export interface PriceVersionRow extends Record<PriceUnit, string | null> {
  id: string;
  provider: string;
  model: string;
  kind: PriceVersionKind;
  source: string;
  source_ref: string | null;
  effective_from: Date;
  effective_to: Date | null;
  discount_pct: string | null;
  created_at: Date;
  image_prices: Record<string, string> | null;
  rate_sources: Record<string, string> | null;
}

/** A price version to add. */
export interface NewVersion {
  provider: string;
  model: string;
  kind: PriceVersionKind;
  source: string;
  sourceRef: string | null;
  effectiveFrom: Date;
  sheet: PriceSheet;
  discountPct?: string | null;
  createdBy?: string | null;
  runId?: string | null;
  /** Which source gave each rate, when the version merges several (see PriceVersion.rateSources). */
  rateSources?: Record<string, string> | null;
}

export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed' | 'abandoned';

/** A row of `pricing_runs`. */
export interface PricingRunRow {
  id: string;
  trigger: string;
  status: RunStatus;
  started_at: Date;
  finished_at: Date | null;
  /** What each source did (pricing-refresh.service.ts SourceReport), as the run recorded it: read it with care. */
  sources: unknown;
  prices_changed: number;
  prices_pending: number;
  triggered_by: string | null;
}

export type PendingStatus = 'pending' | 'approved' | 'rejected' | 'superseded';

/** A row of `pending_prices`: a pulled change held for an admin. */
export interface PendingPriceRow {
  id: string;
  provider: string;
  model: string;
  source: string;
  source_ref: string | null;
  run_id: string | null;
  current_version_id: string | null;
  prices: PriceSheet;
  reasons: string[];
  rate_sources: Record<string, string> | null;
  status: PendingStatus;
  created_at: Date;
  decided_at: Date | null;
  decided_by: string | null;
  version_id: string | null;
}

/** A change to hold for an admin. */
export interface NewPending {
  provider: string;
  model: string;
  source: string;
  sourceRef: string;
  runId: string;
  currentVersionId: string | null;
  sheet: PriceSheet;
  reasons: string[];
  rateSources: Record<string, string>;
}

function imagePricesParam(sheet: PriceSheet): string | null {
  return sheet.image_prices && Object.keys(sheet.image_prices).length > 0 ? JSON.stringify(sheet.image_prices) : null;
}

/**
 * The price book's versions: the statements above on `price_versions`, with
 * typed rows. Writes take the caller's transaction (a version, its chain
 * and its outbox event commit together).
 */
@Injectable()
export class PriceVersionsRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  all(): Promise<PriceVersionRow[]> {
    return queryRows<PriceVersionRow>(this.db, SQL.allVersions);
  }

  /** Every version of a provider, a model, both or neither (null: any), in order. */
  history(provider: string | null, model: string | null): Promise<PriceVersionRow[]> {
    return queryRows<PriceVersionRow>(this.db, SQL.history, [provider, model]);
  }

  /** Adds a version; its id. */
  async insert(tx: Queryable, version: NewVersion): Promise<string> {
    const [{ id }] = await queryRows<{ id: string }>(tx, SQL.insertVersion, [
      version.provider,
      version.model,
      version.kind,
      version.source,
      version.sourceRef,
      version.effectiveFrom,
      version.discountPct ?? null,
      version.createdBy ?? null,
      version.runId ?? null,
      imagePricesParam(version.sheet),
      version.rateSources ? JSON.stringify(version.rateSources) : null,
      ...PRICE_UNITS.map((unit) => version.sheet[unit] ?? null),
    ]);
    return id;
  }

  /** A list version from the built-in catalog, unless one starts at the same instant; whether it was added. */
  async insertListIfAbsent(
    tx: Queryable,
    entry: {
      provider: string;
      model: string;
      source: string;
      sourceRef: string;
      effectiveFrom: string;
      sheet: PriceSheet;
    },
  ): Promise<boolean> {
    const inserted = await queryRows<{ id: string }>(tx, SQL.insertVersionIfAbsent, [
      entry.provider,
      entry.model,
      'list',
      entry.source,
      entry.sourceRef,
      entry.effectiveFrom,
      imagePricesParam(entry.sheet),
      ...PRICE_UNITS.map((unit) => entry.sheet[unit] ?? null),
    ]);
    return inserted.length > 0;
  }

  /** Closes each version of (provider, model, kind) where the next one starts. */
  async rechain(tx: Queryable, provider: string, model: string, kind: PriceVersionKind): Promise<void> {
    await tx.query(SQL.rechainVersions, [provider, model, kind]);
  }

  /** Ends an override or discount now; false when there is none in force or to come with this id. */
  async endOverride(id: string): Promise<boolean> {
    return (await queryRows<{ id: string }>(this.db, SQL.endOverride, [id])).length > 0;
  }

  async overrideExists(id: string): Promise<boolean> {
    return (await queryRows<{ id: string }>(this.db, SQL.overrideById, [id])).length > 0;
  }
}

/** The pricing pulls: the statements above on `pricing_runs`, with typed rows. */
@Injectable()
export class PricingRunsRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Marks runs that have been running for too long (their process died) as abandoned. */
  async abandonStale(): Promise<void> {
    await this.db.query(SQL.abandonStaleRuns);
  }

  /** Starts a run; fails with a unique violation (23505) while another one runs. */
  async start(trigger: string, actor: string | null): Promise<string> {
    const [{ id }] = await queryRows<{ id: string }>(this.db, SQL.startRun, [trigger, actor]);
    return id;
  }

  async runningId(): Promise<string | null> {
    const [row] = await queryRows<{ id: string }>(this.db, SQL.runningRun);
    return row?.id ?? null;
  }

  async finish(
    runId: string,
    outcome: { status: RunStatus; sources: unknown[]; changed: number; pending: number },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(SQL.finishRun, [
      runId,
      outcome.status,
      JSON.stringify(outcome.sources),
      outcome.changed,
      outcome.pending,
    ]);
  }

  async byId(id: string): Promise<PricingRunRow | undefined> {
    const [row] = await queryRows<PricingRunRow>(this.db, SQL.runById, [id]);
    return row;
  }

  /** The latest runs, newest first. */
  recent(limit: number): Promise<PricingRunRow[]> {
    return queryRows<PricingRunRow>(this.db, SQL.runs, [limit]);
  }

  async lastSuccessful(): Promise<PricingRunRow | undefined> {
    const [row] = await queryRows<PricingRunRow>(this.db, SQL.lastSuccessfulRun);
    return row;
  }

  /** For each source, the last finished run in which it answered. */
  lastReadPerSource(): Promise<Array<{ source: string; run_id: string; finished_at: Date }>> {
    return queryRows(this.db, SQL.lastReadPerSource);
  }
}

/** Pulled changes held for an admin: the statements above on `pending_prices`, with typed rows. */
@Injectable()
export class PendingPricesRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Holds a change, unless the same one waits already or was rejected against the same version; its id if held. */
  async insert(tx: Queryable, pending: NewPending): Promise<string | null> {
    const [row] = await queryRows<{ id: string }>(tx, SQL.insertPending, [
      pending.provider,
      pending.model,
      pending.source,
      pending.sourceRef,
      pending.runId,
      pending.currentVersionId,
      JSON.stringify(pending.sheet),
      JSON.stringify(pending.reasons),
      JSON.stringify(pending.rateSources),
    ]);
    return row?.id ?? null;
  }

  /** Older held changes for the same model and source are superseded by `keptId`. */
  async supersede(tx: Queryable, provider: string, model: string, source: string, keptId: string): Promise<void> {
    await tx.query(SQL.supersedePending, [provider, model, source, keptId]);
  }

  /** Newest first; null: every status. */
  list(status: string | null): Promise<PendingPriceRow[]> {
    return queryRows<PendingPriceRow>(this.db, SQL.pendingList, [status]);
  }

  /** The held change, locked in `tx` for a decision. */
  async lockForDecision(tx: Queryable, id: string): Promise<PendingPriceRow | undefined> {
    const [row] = await queryRows<PendingPriceRow>(tx, SQL.pendingForUpdate, [id]);
    return row;
  }

  async decide(
    tx: Queryable,
    id: string,
    status: 'approved' | 'rejected',
    actor: string,
    versionId: string | null,
  ): Promise<void> {
    await tx.query(SQL.decidePending, [id, status, actor, versionId]);
  }
}
