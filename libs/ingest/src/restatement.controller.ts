import { Body, Controller, Get, Inject, Post, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { CurrentPrincipal, Principal, Roles } from '@tokentally/auth';
import { hasNoNul, NUL_MESSAGE, parseOrThrow } from '@tokentally/common';
import {
  addDays,
  Decimal,
  dateOrDateTimeProblem,
  formatUsd,
  normalizeModelName,
  normalizeProviderSlug,
  parseLocalDate,
  startOfLocalDate,
} from '@tokentally/core';
import { RESTATEMENT_SQL as SQL } from './restatement.sql';
import { RestatementService } from './restatement.service';

/**
 * A `from` or `to` as the reports take it: an RFC 3339 date-time with an
 * offset, or a date (real calendar dates only, libs/core's check), which is a
 * UTC day here: `from` its start, `to` its end (the next midnight, so
 * from=2026-05-01&to=2026-05-01 is that whole day).
 */
const dateOrDateTime = (edge: 'from' | 'to') =>
  z
    .string({ error: 'must be a date (2026-11-01) or an RFC 3339 date-time with an offset (2026-11-01T10:00:00Z)' })
    .transform((value, ctx): Date => {
      const problem = dateOrDateTimeProblem(value);
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      const date = parseLocalDate(value);
      if (!date) return new Date(Date.parse(value));
      return startOfLocalDate(edge === 'from' ? date : addDays(date, 1), 'UTC');
    });

/** `to` after `from`, judged only when both are dates (a bad one has its own error). */
const toAfterFrom = (r: { from?: Date; to?: Date }) =>
  !(r.from instanceof Date) || !(r.to instanceof Date) || r.from < r.to;
const afterFrom = { path: ['to'], message: 'must be after from' };

const repriceSchema = z
  .object({
    from: dateOrDateTime('from'),
    to: dateOrDateTime('to'),
    provider: z.string().min(1).max(100).refine(hasNoNul, NUL_MESSAGE).transform(normalizeProviderSlug).optional(),
    model: z.string().min(1).max(200).refine(hasNoNul, NUL_MESSAGE).transform(normalizeModelName).optional(),
  })
  .strict()
  .refine(toAfterFrom, afterFrom);

const coverageSchema = z
  .object({ from: dateOrDateTime('from').optional(), to: dateOrDateTime('to').optional() })
  .strict()
  .refine(toAfterFrom, afterFrom);

const share = (part: bigint, whole: bigint) =>
  whole === 0n ? '1.0000' : (Number((part * 1_000_000n) / whole) / 1_000_000).toFixed(4);

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
    return this.restatements.repriceRange(
      { from: r.from, to: r.to, provider: r.provider, model: r.model },
      principal.keyId,
    );
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
    const to = q.to ?? new Date();
    // From the start of its hour: the rollups are hourly, and the raw events are read over the same span.
    const HOUR_MS = 3_600_000;
    const from = new Date(
      Math.floor((q.from ?? new Date(to.getTime() - 30 * 24 * HOUR_MS)).getTime() / HOUR_MS) * HOUR_MS,
    );
    const [totals] = await this.db.query(SQL.coverageTotals, [from, to]);
    const notPriced: Array<Record<string, any>> = await this.db.query(SQL.coverageNotPriced, [from, to]);
    const kinds = await this.db.query(SQL.coverageKinds, [from, to]);
    const events = BigInt(totals.events);
    const unpricedEvents = BigInt(totals.unpriced_events);
    const partialEvents = BigInt(totals.partial_events);
    const pricedEvents = events - unpricedEvents - partialEvents;
    const tokens = BigInt(totals.tokens);
    const unpriced = notPriced.filter((row) => row.pricing === 'unpriced');
    // Tokens of events that are not fully priced (unpriced and partly priced): the priced share is of fully priced
    // events.
    const notPricedTokens = notPriced.reduce((sum, row) => sum + BigInt(row.tokens ?? 0), 0n);
    const models = (rows: Array<Record<string, any>>) =>
      rows.map((row) => ({
        provider: row.provider,
        model: row.model,
        events: Number(row.events),
        tokens: Number(row.tokens),
        ...(row.pricing === 'partial' ? { cost_usd: formatUsd(Decimal.parse(row.cost_usd)) } : {}),
        unpriced_kinds: [
          ...new Set(
            String(row.missing ?? '')
              .split(',')
              .filter(Boolean),
          ),
        ].sort(),
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
      tokens: {
        total: Number(tokens),
        in_priced_events: Number(tokens - notPricedTokens),
        priced_share: share(tokens - notPricedTokens, tokens),
      },
      unpriced_models: models(unpriced),
      partial_models: models(notPriced.filter((row) => row.pricing === 'partial')),
      rate_sources: this.restatements.rateSources(kinds),
      fallback_kinds: this.restatements.fallbackKinds(kinds),
    };
  }
}
