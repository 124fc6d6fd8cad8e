import { Body, Controller, Get, Inject, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal, Principal, Roles } from '@tokentally/auth';
import {
  ApiOperation,
  hasNoNul,
  isWellFormedUnicode,
  LONE_SURROGATE_MESSAGE,
  NUL_MESSAGE,
  parseOrThrow,
} from '@tokentally/common';
import { MONTH_PATTERN, MONTH_SHAPE_TEXT } from '@tokentally/core';
import { PERIODS_API } from './ingest.api';
import { PeriodsService } from './periods.service';

const monthParams = z.object({
  month: z.string().regex(MONTH_PATTERN, `must be ${MONTH_SHAPE_TEXT}`).meta({ example: '2026-10' }),
});

const reason = z
  .string()
  .trim()
  .max(1000)
  .refine(hasNoNul, NUL_MESSAGE)
  .refine(isWellFormedUnicode, LONE_SURROGATE_MESSAGE);
const closeBody = z.object({ reason: reason.optional() }).strict();
const reopenBody = z
  .object({ reason: reason.pipe(z.string().min(1, 'is required: say why the month is reopened')) })
  .strict();

/** Closing and reopening finance months (docs/finance.md): admin writes, viewers read. */
@Controller('v1/periods')
export class PeriodsController {
  constructor(@Inject(PeriodsService) private readonly periods: PeriodsService) {}

  @Get()
  @ApiOperation(PERIODS_API.list)
  @Roles('viewer')
  list() {
    return this.periods.list();
  }

  @Get(':month')
  @ApiOperation({ ...PERIODS_API.get, params: monthParams })
  @Roles('viewer')
  get(@Param('month') month: string) {
    return this.periods.get(this.periods.parseMonth(month));
  }

  @Post(':month/close')
  @ApiOperation({ ...PERIODS_API.close, params: monthParams, body: closeBody })
  close(@Param('month') month: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    const parsed = this.periods.parseMonth(month);
    const { reason } = parseOrThrow(closeBody, body ?? {});
    return this.periods.close(parsed, reason ?? '', principal.keyId);
  }

  @Post(':month/reopen')
  @ApiOperation({ ...PERIODS_API.reopen, params: monthParams, body: reopenBody })
  reopen(@Param('month') month: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    const parsed = this.periods.parseMonth(month);
    const { reason } = parseOrThrow(reopenBody, body ?? {});
    return this.periods.reopen(parsed, reason, principal.keyId);
  }
}
