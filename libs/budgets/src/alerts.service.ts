import { Inject, Injectable } from '@nestjs/common';
import { AlertFilter, AlertRow, AlertsRepository } from './alerts.sql';

/** An alert as GET /v1/alerts shows it. */
export interface AlertView {
  id: string;
  type: AlertRow['type'];
  budget_id: string | null;
  summary: string;
  data: Record<string, unknown>;
  created_at: string;
  deliveries: { delivered: number; pending: number; failed: number; retrying: number };
}

/** The alerts that fired, newest first, with how their deliveries went. */
@Injectable()
export class AlertsService {
  constructor(@Inject(AlertsRepository) private readonly repository: AlertsRepository) {}

  /**
   * A page of alerts; `next_before` and `next_before_id` continue the list (null on its last page): the last
   * alert's time to the microsecond and its id, so alerts written in the same transaction (the same time) are
   * neither skipped nor repeated at a page boundary.
   */
  async list(
    filter: AlertFilter,
  ): Promise<{ data: AlertView[]; next_before: string | null; next_before_id: string | null }> {
    const rows = await this.repository.latest(filter);
    const last = rows.length === filter.limit ? rows[rows.length - 1] : null;
    return { data: rows.map(toView), next_before: last?.created_at_cursor ?? null, next_before_id: last?.id ?? null };
  }
}

function toView(row: AlertRow): AlertView {
  return {
    id: row.id,
    type: row.type,
    budget_id: row.budget_id,
    summary: row.summary,
    data: row.data,
    created_at: new Date(row.created_at).toISOString(),
    deliveries: { delivered: row.delivered, pending: row.pending, failed: row.failed, retrying: row.retrying },
  };
}
