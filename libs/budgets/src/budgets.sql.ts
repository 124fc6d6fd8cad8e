import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { BudgetPeriod, Dimension } from '@tokentally/core';
import { queryRows } from '@tokentally/db';

/** What a budget spends on: one value of any dimension, and at most one tag (budgets.dto.ts checks it). */
export type BudgetScope = Partial<Record<Dimension, string>> & { tags?: Record<string, string> };

/** A row of `budgets` as `pg` returns it (numeric as a string, timestamptz as a Date, jsonb parsed). */
export interface BudgetRow {
  id: string;
  name: string;
  amount_usd: string;
  period: BudgetPeriod;
  timezone: string;
  scope: BudgetScope;
  thresholds_pct: number[];
  forecast_alert: boolean;
  webhook_ids: string[];
  created_at: Date;
  created_by: string | null;
}

/** The fields of a budget that people set (create: all of them; update: any). */
export interface BudgetValues {
  name: string;
  amount_usd: string;
  period: BudgetPeriod;
  timezone: string;
  scope: BudgetScope;
  thresholds_pct: number[];
  forecast_alert: boolean;
  webhook_ids: string[];
}

/** Statements of budgets. */
export const BUDGET_SQL = {
  insert: `
    INSERT INTO budgets (name, amount_usd, period, timezone, scope, thresholds_pct, forecast_alert, webhook_ids, created_by)
    VALUES ($1, $2, $3, $4, $5::jsonb, $6::int[], $7, $8::uuid[], $9) RETURNING *`,
  list: `SELECT * FROM budgets ORDER BY created_at, name`,
  byId: `SELECT * FROM budgets WHERE id = $1`,
  remove: `DELETE FROM budgets WHERE id = $1 RETURNING id`,
  // A threshold already fired this period stays fired after an update (alerts are keyed by budget, period and
  // threshold).
  update: `
    UPDATE budgets SET name = COALESCE($2, name), amount_usd = COALESCE($3::numeric, amount_usd), period = COALESCE($4, period),
      timezone = COALESCE($5, timezone), scope = COALESCE($6::jsonb, scope), thresholds_pct = COALESCE($7::int[], thresholds_pct),
      forecast_alert = COALESCE($8, forecast_alert), webhook_ids = COALESCE($9::uuid[], webhook_ids)
    WHERE id = $1 RETURNING *`,
  existingWebhooks: `SELECT id FROM webhooks WHERE id = ANY ($1::uuid[])`,
  projectExists: `SELECT 1 FROM projects WHERE id = $1::uuid`,
} as const;

/** Budgets: the statements above, with typed rows. */
@Injectable()
export class BudgetsRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async insert(budget: BudgetValues, createdBy: string): Promise<BudgetRow> {
    const [row] = await queryRows<BudgetRow>(this.db, BUDGET_SQL.insert, [
      budget.name,
      budget.amount_usd,
      budget.period,
      budget.timezone,
      JSON.stringify(budget.scope),
      budget.thresholds_pct,
      budget.forecast_alert,
      budget.webhook_ids,
      createdBy,
    ]);
    return row;
  }

  list(): Promise<BudgetRow[]> {
    return queryRows<BudgetRow>(this.db, BUDGET_SQL.list);
  }

  async byId(id: string): Promise<BudgetRow | undefined> {
    const [row] = await queryRows<BudgetRow>(this.db, BUDGET_SQL.byId, [id]);
    return row;
  }

  /** The fields given change, the others stay; undefined when there is no such budget. */
  async update(id: string, patch: Partial<BudgetValues>): Promise<BudgetRow | undefined> {
    const [row] = await queryRows<BudgetRow>(this.db, BUDGET_SQL.update, [
      id,
      patch.name ?? null,
      patch.amount_usd ?? null,
      patch.period ?? null,
      patch.timezone ?? null,
      patch.scope ? JSON.stringify(patch.scope) : null,
      patch.thresholds_pct ?? null,
      patch.forecast_alert ?? null,
      patch.webhook_ids ?? null,
    ]);
    return row;
  }

  /** Whether there was such a budget. */
  async remove(id: string): Promise<boolean> {
    return (await queryRows<{ id: string }>(this.db, BUDGET_SQL.remove, [id])).length > 0;
  }

  async projectExists(projectId: string): Promise<boolean> {
    return (await queryRows(this.db, BUDGET_SQL.projectExists, [projectId])).length > 0;
  }

  /** Which of these ids are webhooks. */
  async existingWebhooks(ids: string[]): Promise<Set<string>> {
    return new Set((await queryRows<{ id: string }>(this.db, BUDGET_SQL.existingWebhooks, [ids])).map((r) => r.id));
  }
}
