import { Body, Controller, Get, Inject, Post, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { CurrentPrincipal, Principal, Roles } from '@tokentally/auth';
import { parseOrThrow } from '@tokentally/common';
import { Decimal, formatUsd, normalizeModelName, normalizeProviderSlug } from '@tokentally/core';
import { RESTATEMENT_SQL as SQL } from './restatement.sql';
import { RestatementService } from './restatement.service';

const dateTime = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time' });

const repriceSchema = z
  .object({
    from: dateTime,
    to: dateTime,
    provider: z.string().min(1).max(100).transform(normalizeProviderSlug).optional(),
    model: z.string().min(1).max(200).transform(normalizeModelName).optional(),
  })
  .strict()
  .refine((r) => Date.parse(r.from) < Date.parse(r.to), { path: ['to'], message: 'must be after from' });

const coverageSchema = z
  .object({ from: dateTime.optional(), to: dateTime.optional() })
  .strict();

const share = (part: bigint, whole: bigint) => (whole === 0n ? '1.0000' : (Number((part * 1_000_000n) / whole) / 1_000_000).toFixed(4));

/** Restatements and pricing coverage: they read and correct stored events, so they live with ingest. */
@Controller('v1/pricing')
export class RestatementController {
  constructor(
    @Inject(RestatementService) private readonly restatements: RestatementService,
    @Inject(DataSource) private readonly db: DataSource,
  ) {}

  /** Re-prices a range with the versions in effect at each event's time; recorded as a restatement. */
  @Post('reprice')
  reprice(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    const r = parseOrThrow(repriceSchema, body);
    return this.restatements.repriceRange({ from: new Date(r.from), to: new Date(r.to), provider: r.provider, model: r.model }, principal.keyId);
  }

  @Get('restatements')
  @Roles('viewer')
  async list() {
    return { data: await this.restatements.list() };
  }

  /** How much of a period's usage was fully priced, what was not, and what was priced by fallback. */
  @Get('coverage')
  @Roles('viewer')
  async coverage(@Query() query: unknown) {
    const q = parseOrThrow(coverageSchema, query);
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * 24 * 3600 * 1000);
    const [totals] = await this.db.query(SQL.coverageTotals, [from, to]);
    const notPriced: Array<Record<string, any>> = await this.db.query(SQL.coverageNotPriced, [from, to]);
    const kinds = await this.db.query(SQL.coverageKinds, [from, to]);
    const events = BigInt(totals.events);
    const unpricedEvents = BigInt(totals.unpriced_events);
    const partialEvents = BigInt(totals.partial_events);
    const pricedEvents = events - unpricedEvents - partialEvents;
    const tokens = BigInt(totals.tokens);
    const unpriced = notPriced.filter((row) => row.pricing === 'unpriced');
    const unpricedTokens = unpriced.reduce((sum, row) => sum + BigInt(row.tokens ?? 0), 0n);
    const models = (rows: Array<Record<string, any>>) =>
      rows.map((row) => ({
        provider: row.provider,
        model: row.model,
        events: Number(row.events),
        tokens: Number(row.tokens),
        ...(row.pricing === 'partial' ? { cost_usd: formatUsd(Decimal.parse(row.cost_usd)) } : {}),
        unpriced_kinds: [...new Set(String(row.missing ?? '').split(',').filter(Boolean))].sort(),
        first_seen_at: row.first_seen_at && new Date(row.first_seen_at).toISOString(),
      }));
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      events: {
        total: Number(events),
        priced: Number(pricedEvents),
        partial: Number(partialEvents),
        unpriced: Number(unpricedEvents),
        priced_share: share(pricedEvents, events),
      },
      cost_usd: formatUsd(Decimal.parse(totals.cost_usd)),
      partial_cost_usd: formatUsd(Decimal.parse(totals.partial_cost_usd)),
      tokens: { total: Number(tokens), in_priced_events: Number(tokens - unpricedTokens), priced_share: share(tokens - unpricedTokens, tokens) },
      unpriced_models: models(unpriced),
      partial_models: models(notPriced.filter((row) => row.pricing === 'partial')),
      rate_sources: this.restatements.rateSources(kinds),
      fallback_kinds: this.restatements.fallbackKinds(kinds),
    };
  }
}
