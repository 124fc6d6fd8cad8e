import { Controller, Get, Inject, Query } from '@nestjs/common';
import { z } from 'zod';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, Principal, Roles } from '@tokentally/auth';
import { dateTimeParam, parseOrThrow, wholeNumberParam } from '@tokentally/common';
import { ALERT_SQL } from './alerts.sql';

const alertsQuerySchema = z
  .object({
    type: z
      .enum(['budget.threshold_reached', 'budget.forecast_exceeded', 'spend.anomaly'], {
        error: 'must be budget.threshold_reached, budget.forecast_exceeded or spend.anomaly',
      })
      .optional(),
    budget_id: z.uuid('must be a budget id (UUID)').optional(),
    before: dateTimeParam().optional(),
    limit: wholeNumberParam(1, 200, 50),
  })
  .strict();

/**
 * GET /v1/alerts: the alerts that fired, newest first, with how their
 * deliveries went. A key limited to projects sees the alerts about one of
 * them (ALERT_SQL.latest says how an alert names its project).
 */
@Controller('v1/alerts')
@Roles('viewer')
export class AlertsController {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  @Get()
  async list(@Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const q = parseOrThrow(alertsQuerySchema, query);
    const rows = await this.db.query(ALERT_SQL.latest, [
      q.type ?? null,
      q.budget_id ?? null,
      q.before ?? null,
      q.limit,
      principal.projectIds,
    ]);
    const data = rows.map((row: Record<string, any>) => ({
      id: row.id,
      type: row.type,
      budget_id: row.budget_id,
      summary: row.summary,
      data: row.data,
      created_at: new Date(row.created_at).toISOString(),
      deliveries: { delivered: row.delivered, pending: row.pending, failed: row.failed, retrying: row.retrying },
    }));
    return { data, next_before: rows.length === q.limit ? data[data.length - 1].created_at : null };
  }
}
