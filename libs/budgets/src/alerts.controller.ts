import { Controller, Get, Inject, Query } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal, Principal, Roles } from '@tokentally/auth';
import { ApiOperation, dateTimeParam, parseOrThrow, wholeNumberParam } from '@tokentally/common';
import { ALERT_EVENT_TYPES } from '@tokentally/core';
import { AlertsService } from './alerts.service';
import { ALERTS_API } from './budgets.api';

const alertsQuerySchema = z
  .object({
    type: z
      .enum(ALERT_EVENT_TYPES, {
        error: `must be ${ALERT_EVENT_TYPES.slice(0, -1).join(', ')} or ${ALERT_EVENT_TYPES[ALERT_EVENT_TYPES.length - 1]}`,
      })
      .optional(),
    budget_id: z.uuid('must be a budget id (UUID)').optional(),
    before: dateTimeParam().optional(),
    before_id: z.uuid('must be an alert id (UUID): the next_before_id of the page before').optional(),
    limit: wholeNumberParam(1, 200, 50),
  })
  .strict();

/**
 * GET /v1/alerts: the alerts that fired, newest first, with how their
 * deliveries went. A key limited to projects sees the alerts about one of
 * them (ALERT_SQL.latest in alerts.sql.ts says how an alert names its project).
 */
@Controller('v1/alerts')
@Roles('viewer')
export class AlertsController {
  constructor(@Inject(AlertsService) private readonly alerts: AlertsService) {}

  @Get()
  @ApiOperation({ ...ALERTS_API.list, query: alertsQuerySchema })
  async list(@Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const q = parseOrThrow(alertsQuerySchema, query);
    return this.alerts.list({
      type: q.type ?? null,
      budgetId: q.budget_id ?? null,
      before: q.before ?? null,
      beforeId: q.before_id ?? null,
      limit: q.limit,
      projectIds: principal.projectIds,
    });
  }
}
