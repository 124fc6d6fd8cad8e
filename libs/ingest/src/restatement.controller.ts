import { Body, Controller, Get, Inject, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal, Principal, Roles } from '@tokentally/auth';
import { ApiOperation, hasNoNul, NUL_MESSAGE, parseOrThrow } from '@tokentally/common';
import {
  addDays,
  dateOrDateTimeProblem,
  normalizeModelName,
  normalizeProviderSlug,
  parseLocalDate,
  startOfLocalDate,
} from '@tokentally/core';
import { RestatementService } from './restatement.service';
import { RESTATEMENT_API } from './ingest.api';

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

/** Restatements and pricing coverage: they read and correct stored events, so they live with ingest. */
@Controller('v1/pricing')
export class RestatementController {
  constructor(@Inject(RestatementService) private readonly restatements: RestatementService) {}

  /** Re-prices a range with the versions in effect at each event's time; recorded as a restatement. */
  @Post('reprice')
  @ApiOperation({ ...RESTATEMENT_API.reprice, body: repriceSchema })
  reprice(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    const r = parseOrThrow(repriceSchema, body);
    return this.restatements.repriceRange(
      { from: r.from, to: r.to, provider: r.provider, model: r.model },
      principal.keyId,
    );
  }

  @Get('restatements')
  @ApiOperation(RESTATEMENT_API.list)
  @Roles('viewer')
  async list() {
    return { data: await this.restatements.list() };
  }

  /** How much of a period's usage was fully priced, what was not, and what was priced by fallback. */
  @Get('coverage')
  @ApiOperation({ ...RESTATEMENT_API.coverage, query: coverageSchema })
  @Roles('viewer')
  async coverage(@Query() query: unknown) {
    return this.restatements.coverage(parseOrThrow(coverageSchema, query));
  }
}
