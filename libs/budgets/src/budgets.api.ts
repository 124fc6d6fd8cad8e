import { z } from 'zod';
import { ApiOperationSpec, idParams } from '@tokentally/common';
import { createBudgetSchema, updateBudgetSchema } from './budgets.dto';

/**
 * The OpenAPI descriptions of the budgets lib's routes (docs/api.md). Request
 * shapes are the DTO schemas; the chart and alerts controllers add the query
 * schemas they declare beside their handlers.
 */

const BUDGET_ID = '69995c34-8d93-409e-8128-52a46e6d6ef6';

const BUDGET = {
  id: BUDGET_ID,
  name: 'Growth team, monthly',
  amount_usd: '500.000000',
  period: 'month',
  timezone: 'UTC',
  scope: { team: 'growth' },
  thresholds_pct: [50, 80, 100],
  forecast_alert: true,
  webhook_ids: [],
  created_at: '2026-11-02T09:30:00.000Z',
};

const STATUS = {
  period_start: '2026-11-01T00:00:00.000Z',
  period_end: '2026-12-01T00:00:00.000Z',
  spent_usd: '412.250000',
  remaining_usd: '87.750000',
  percent: '82.5',
  forecast_usd: '431.600000',
  forecast_percent: '86.3',
  forecast_method: 'linear',
  thresholds_reached: [50, 80],
};

/** `?with_status=` of GET /v1/budgets, as the handler reads it. */
const listQuerySchema = z.object({
  with_status: z
    .string()
    .optional()
    .meta({ description: '`1` or `true`: each budget with its status in the current period.' }),
});

const PNG = { description: 'The chart, as a PNG.', contentType: 'image/png' };

export const BUDGETS_API = {
  create: {
    summary: 'Create a budget',
    description:
      'An amount per period for a scope (every field of `scope` narrows it); each threshold of each period fires once, to the webhooks named.',
    body: createBudgetSchema,
    requestExample: {
      body: {
        name: 'Growth team, monthly',
        amount_usd: '500.00',
        period: 'month',
        timezone: 'UTC',
        scope: { team: 'growth', provider: 'openai' },
        thresholds_pct: [50, 80, 100],
        forecast_alert: true,
        webhook_ids: [],
      },
    },
    responses: {
      201: { description: 'The budget.', example: { ...BUDGET, scope: { team: 'growth', provider: 'openai' } } },
    },
  },
  list: {
    summary: 'List budgets',
    description: 'A key limited to projects sees the budgets whose scope names one of them.',
    query: listQuerySchema,
    requestExample: { query: { with_status: '1' } },
    responses: { 200: { description: 'The budgets.', example: { data: [{ ...BUDGET, status: STATUS }] } } },
  },
  get: {
    summary: 'One budget',
    params: idParams,
    requestExample: { params: { id: BUDGET_ID } },
    responses: { 200: { description: 'The budget.', example: BUDGET } },
  },
  status: {
    summary: 'Status of a budget in its current period',
    params: idParams,
    requestExample: { params: { id: BUDGET_ID } },
    responses: { 200: { description: 'Spent, remaining, forecast and thresholds reached.', example: STATUS } },
  },
  update: {
    summary: 'Change a budget',
    description: 'Any of the fields; what is left out stays as it is.',
    params: idParams,
    body: updateBudgetSchema,
    requestExample: { params: { id: BUDGET_ID }, body: { amount_usd: '750.00' } },
    responses: { 200: { description: 'The budget.', example: { ...BUDGET, amount_usd: '750.000000' } } },
  },
  remove: {
    summary: 'Delete a budget',
    params: idParams,
    requestExample: { params: { id: BUDGET_ID } },
    responses: { 204: { description: 'Deleted.' } },
  },
} satisfies Record<string, ApiOperationSpec>;

export const BUDGETS_CHART_API = {
  chart: {
    summary: 'Budgets chart as PNG',
    description:
      'Spent and forecast of each budget (or of `budget_id`), in percent of its amount; with no budget, a PNG that says so.',
    requestExample: { query: { budget_id: BUDGET_ID, width: '900', height: '420' } },
    responses: { 200: PNG },
  },
  shared: {
    summary: 'Budgets chart from a signed link',
    description: 'The link in a budget alert: no key needed until it expires. Anything else is 403.',
    requestExample: {
      query: { budget_id: BUDGET_ID, expires: '1798560489', sig: 'GN5olexfwBdZPUSrOsdxk1rkIYcjh2PUcZae9ljEF4c' },
    },
    responses: { 200: PNG, 403: { description: 'The link is not valid or has expired.' } },
  },
} satisfies Record<string, ApiOperationSpec>;

export const ALERTS_API = {
  list: {
    summary: 'Alerts that fired',
    description:
      'Newest first (page with `before` and `before_id`: the `next_before` and `next_before_id` of the page before), with how their deliveries went. A key limited to projects sees the alerts about them.',
    requestExample: { query: { type: 'budget.threshold_reached', limit: '20' } },
    responses: {
      200: {
        description: 'The alerts.',
        example: {
          data: [
            {
              id: '5ac48ed5-601b-486f-aff0-ba19311af38f',
              type: 'budget.threshold_reached',
              budget_id: BUDGET_ID,
              summary:
                'Budget "Growth team, monthly" reached 80% of $500.00 for the month: $412.25 spent (82.5%) since 1 Nov 2026.',
              data: {
                budget_id: BUDGET_ID,
                budget_name: 'Growth team, monthly',
                threshold_pct: 80,
                spent_usd: '412.250000',
                amount_usd: '500.000000',
                percent: '82.5',
                forecast_usd: '431.600000',
                forecast_method: 'linear',
                period: 'month',
                timezone: 'UTC',
                scope: { team: 'growth' },
                period_start: '2026-11-01T00:00:00.000Z',
                period_end: '2026-12-01T00:00:00.000Z',
                dashboard_url: 'https://tokentally.example.com/?from=2026-11-01&to=2026-11-29&tz=UTC#budgets',
                chart_url: `https://tokentally.example.com/v1/charts/shared/budgets.png?budget_id=${BUDGET_ID}&expires=1798560489&sig=GN5olexfwBdZPUSrOsdxk1rkIYcjh2PUcZae9ljEF4c`,
              },
              created_at: '2026-11-24T14:00:09.746Z',
              deliveries: { delivered: 1, pending: 0, failed: 0, retrying: 0 },
            },
          ],
          next_before: null,
          next_before_id: null,
        },
      },
    },
  },
} satisfies Record<string, ApiOperationSpec>;
