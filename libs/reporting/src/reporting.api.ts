import { z } from 'zod';
import { ApiOperationSpec } from '@tokentally/common';
import { dimensionParamsSchema, suggestionQuerySchema, tagKeyParamsSchema } from './dto/dimension-values.dto';
import { monthCloseQuerySchema } from './dto/month-close.dto';
import { reportQuerySchema } from './dto/report-query.dto';

/**
 * The OpenAPI descriptions of the reporting lib's routes (docs/api.md);
 * request shapes are the DTO schemas (ChartsController adds its `:file`).
 */

const PROJECT_ID = '3f0c6f1e-8a52-4c3b-9d4e-2b7a1c5e9d01';

/** A `tag:<key>=<value>` filter, read beside the report parameters. */
export const REPORT_TAG_FILTER = {
  name: 'tag',
  pattern: '^tag:.{1,64}$',
  description: '`tag:<key>=<value>`: only usage with this tag value (one tag filter at a time).',
};

const RANGE = { from: '2026-11-01', to: '2026-11-30', tz: 'UTC' };

const PNG = { description: 'The chart, as a PNG.', contentType: 'image/png' };

/** The chart routes' size, read beside the report parameters (200 to 2000 pixels). */
const chartQuerySchema = reportQuerySchema.extend({
  width: z.string().optional().meta({ description: 'Width in pixels, 200 to 2000 (default 900).' }),
  height: z.string().optional().meta({ description: 'Height in pixels, 200 to 2000 (default 420).' }),
});

const SUMMARY_ROW = {
  cost_usd: '0.261120',
  events: 3,
  images: 3,
  unpriced_events: 1,
  partial_events: 0,
  partial_cost_usd: '0.000000',
};

/** One row of the provider-cost example; the total of a one-row answer is the same figures. */
const PROVIDER_COST_FIGURES = {
  events: 1,
  tracked_cost_usd: '0.039018',
  provider_cost_usd: '0.040000',
  difference_usd: '0.000982',
  difference_pct: '2.52',
  not_compared: { events: 0, provider_cost_usd: '0.000000' },
};

export const REPORTS_API = {
  spend: {
    summary: 'Spend over time',
    description:
      'Cost per bucket (`granularity`) and group (`group_by`), with the filters of the same names (comma lists). Dates without a time are local days of `tz`, `to` inclusive; the default range is the last 30 days. `basis=restated` (default) reads costs as restatements left them.',
    query: reportQuerySchema,
    queryPattern: REPORT_TAG_FILTER,
    requestExample: { query: { ...RANGE, granularity: 'week', group_by: 'provider' } },
    responses: {
      200: {
        description: 'The series.',
        example: {
          currency: 'USD',
          basis: 'restated',
          granularity: 'week',
          tz: 'UTC',
          group_by: 'provider',
          from: '2026-11-01T00:00:00.000Z',
          to: '2026-12-01T00:00:00.000Z',
          buckets: ['2026-11-16T00:00:00.000Z', '2026-11-23T00:00:00.000Z'],
          series: [
            {
              key: 'openai',
              label: 'openai',
              values: ['0.135720', '0.000000'],
              total: '0.135720',
              unpriced_events: 1,
              partial_events: 0,
            },
            {
              key: 'vercel',
              label: 'vercel',
              values: ['0.125400', '0.000000'],
              total: '0.125400',
              unpriced_events: 0,
              partial_events: 0,
            },
          ],
          total: '0.261120',
          events: 3,
          partial_events: 0,
          partial_cost_usd: '0.000000',
          unpriced_events: 1,
        },
      },
    },
  },
  summary: {
    summary: 'Period to date, forecast and top movers',
    description:
      'Spend of the current `period` (default month) to date, its forecast, the previous period, top movers, unpriced counts and pricing freshness.',
    requestExample: { query: { period: 'month', tz: 'UTC' } },
    responses: {
      200: {
        description: 'The summary.',
        example: {
          currency: 'USD',
          tz: 'UTC',
          period: 'month',
          period_start: '2026-11-01T00:00:00.000Z',
          period_end: '2026-12-01T00:00:00.000Z',
          spent: '0.261120',
          events: 3,
          forecast: '0.273215',
          forecast_method: 'linear',
          forecast_explanation:
            'spend so far scaled to the whole period (linear): fewer than 21 of the last 28 days had spend',
          previous_period: {
            start: '2026-10-01T00:00:00.000Z',
            end: '2026-11-01T00:00:00.000Z',
            spent: '0.000000',
            spent_to_same_point: '0.000000',
          },
          change_pct: null,
          top_movers: [
            {
              dimension: 'team',
              key: 'growth',
              label: 'growth',
              current: '0.261120',
              previous: '0.000000',
              change: '0.261120',
              change_pct: null,
            },
          ],
          partial_events: 0,
          partial_cost_usd: '0.000000',
          unpriced_events: 1,
          pricing: { last_refresh: null, last_refresh_status: null, next_refresh: '2026-11-30T06:00:00.000Z' },
        },
      },
    },
  },
  tokens: {
    summary: 'Tokens over time, and tokens and cost per image',
    query: reportQuerySchema,
    queryPattern: REPORT_TAG_FILTER,
    requestExample: { query: { ...RANGE, granularity: 'week' } },
    responses: {
      200: {
        description: 'Token kinds per bucket, and a breakdown by provider, model, size and quality.',
        example: {
          granularity: 'week',
          tz: 'UTC',
          from: '2026-11-01T00:00:00.000Z',
          to: '2026-12-01T00:00:00.000Z',
          buckets: ['2026-11-16T00:00:00.000Z', '2026-11-23T00:00:00.000Z'],
          series: [
            { kind: 'input_text', values: [240, 0] },
            { kind: 'output_image', values: [8320, 0] },
          ],
          breakdown: [
            {
              provider: 'openai',
              model: 'gpt-image-2',
              image_size: '1024x1024',
              image_quality: 'high',
              events: 1,
              images: 1,
              tokens: {
                input_text: 120,
                cached_input_text: 0,
                input_image: 1290,
                cached_input_image: 0,
                output_image: 4160,
                output_text: 0,
              },
              cost_usd: '0.135720',
              cost_per_image_usd: '0.135720',
              output_image_tokens_per_image: 4160,
              partial_events: 0,
              partial_cost_usd: '0.000000',
              unpriced_events: 0,
            },
          ],
        },
      },
    },
  },
  compare: {
    summary: 'Compare providers',
    description:
      'The actual cost, and the same usage priced at every provider that offers the model (or, for a dated snapshot ' +
      'such as gpt-image-2-2026-04-21, its base model). A provider that cannot price all of the usage is left out of ' +
      '`at_each_provider` and listed in `not_compared` with the reason, as is a provider the calls were made at that ' +
      'has no price for the model.',
    query: reportQuerySchema,
    queryPattern: REPORT_TAG_FILTER,
    requestExample: { query: RANGE },
    responses: {
      200: {
        description: 'Per model: actual cost by provider and the cost at each provider.',
        example: {
          currency: 'USD',
          from: '2026-11-01T00:00:00.000Z',
          to: '2026-12-01T00:00:00.000Z',
          models: [
            {
              model: 'gpt-image-2',
              actual: [
                { provider: 'openai', cost_usd: '0.135720', unpriced_events: 0, partial_events: 0 },
                { provider: 'vercel', cost_usd: '0.125400', unpriced_events: 0, partial_events: 0 },
              ],
              actual_total_usd: '0.261120',
              actual_complete: true,
              at_each_provider: [
                { provider: 'vercel', cost_usd: '0.257250', saving_usd: '0.003870' },
                { provider: 'azure', cost_usd: '0.261120', saving_usd: '0.000000' },
                { provider: 'openai', cost_usd: '0.261120', saving_usd: '0.000000' },
              ],
              cheapest: { provider: 'vercel', cost_usd: '0.257250', saving_usd: '0.003870' },
              not_compared: [],
            },
            {
              model: 'gpt-image-1.5',
              actual: [{ provider: 'openai', cost_usd: '0.135620', unpriced_events: 0, partial_events: 0 }],
              actual_total_usd: '0.135620',
              actual_complete: true,
              at_each_provider: [{ provider: 'openai', cost_usd: '0.135620', saving_usd: '0.000000' }],
              cheapest: { provider: 'openai', cost_usd: '0.135620', saving_usd: '0.000000' },
              not_compared: [
                {
                  provider: 'azure',
                  reason: '200 output_text tokens could not be priced at azure: no rate for output_text',
                },
              ],
            },
          ],
          actual_total_usd: '0.396740',
        },
      },
    },
  },
  providerCost: {
    summary: "A provider's own reported cost beside TokenTally's, per provider and model",
    query: reportQuerySchema,
    queryPattern: REPORT_TAG_FILTER,
    requestExample: { query: RANGE },
    responses: {
      200: {
        description:
          'Calls whose provider reported their cost (OpenRouter usage.cost), per provider and model: over the calls ' +
          'priced wholly here, our cost (on `basis`: restated, or as given at ingest), theirs, the difference (theirs ' +
          'minus ours) and its percent of ours; the calls partly priced or unpriced here (and, with basis=ingested, ' +
          'those given no cost at ingest) apart, in not_compared.',
        example: {
          currency: 'USD',
          basis: 'restated',
          from: '2026-11-01T00:00:00.000Z',
          to: '2026-12-01T00:00:00.000Z',
          rows: [{ provider: 'openrouter', model: 'gemini-2.5-flash-image', ...PROVIDER_COST_FIGURES }],
          total: PROVIDER_COST_FIGURES,
        },
      },
    },
  },
  performance: {
    summary: 'Calls, errors and latency per provider and model',
    query: reportQuerySchema,
    queryPattern: REPORT_TAG_FILTER,
    requestExample: { query: RANGE },
    responses: {
      200: {
        description: 'One row per provider and model, and the total.',
        example: {
          from: '2026-11-01T00:00:00.000Z',
          to: '2026-12-01T00:00:00.000Z',
          tz: 'UTC',
          rows: [
            {
              provider: 'openai',
              model: 'gpt-image-2',
              events: 1,
              error_events: 0,
              error_rate: '0.000000',
              latency_events: 1,
              mean_latency_ms: 8123,
            },
          ],
          total: {
            events: 1,
            error_events: 0,
            error_rate: '0.000000',
            latency_events: 1,
            mean_latency_ms: 8123,
          },
        },
      },
    },
  },
  export: {
    summary: 'Export as CSV',
    description:
      'The spend report as rows (one per bucket and group) or, with `raw=1`, every event (with our cost, the cost ' +
      'given at ingest and the cost its provider reported, `provider_cost_usd`, empty when none). Streamed.',
    query: reportQuerySchema,
    queryPattern: REPORT_TAG_FILTER,
    requestExample: { query: { ...RANGE, granularity: 'week' } },
    responses: {
      200: {
        description: 'CSV (attachment).',
        contentType: 'text/csv',
        example: [
          'bucket_start,timezone,group_by,group,label,cost_usd,basis',
          '2026-11-16T00:00:00.000Z,UTC,provider,openai,openai,0.135720,restated',
          '2026-11-16T00:00:00.000Z,UTC,provider,vercel,vercel,0.125400,restated',
          '',
        ].join('\n'),
      },
    },
  },
} satisfies Record<string, ApiOperationSpec>;

const MONTH_CLOSE_EXAMPLE = {
  currency: 'USD',
  month: '2026-11',
  tz: 'UTC',
  basis: 'restated',
  from: '2026-11-01T00:00:00.000Z',
  to: '2026-12-01T00:00:00.000Z',
  filters: {},
  totals: SUMMARY_ROW,
  by_project: [{ key: PROJECT_ID, project_id: PROJECT_ID, name: 'web-shop', ...SUMMARY_ROW, share: '1.0000' }],
  by_team: [{ key: 'growth', ...SUMMARY_ROW, share: '1.0000' }],
  by_provider: [
    { key: 'openai', ...SUMMARY_ROW, cost_usd: '0.135720', events: 2, images: 2, share: '0.5198' },
    { key: 'vercel', ...SUMMARY_ROW, cost_usd: '0.125400', events: 1, images: 1, unpriced_events: 0, share: '0.4802' },
  ],
  by_model: [{ key: 'gpt-image-2', ...SUMMARY_ROW, unpriced_events: 0, share: '1.0000' }],
  previous_month: {
    month: '2026-10',
    from: '2026-10-01T00:00:00.000Z',
    to: '2026-11-01T00:00:00.000Z',
    totals: {
      cost_usd: '0.000000',
      events: 0,
      images: 0,
      unpriced_events: 0,
      partial_events: 0,
      partial_cost_usd: '0.000000',
    },
  },
  change: { cost_usd: '0.261120', pct: null, events: 3 },
  restatements: [],
  not_wholly_priced: {
    complete: false,
    unpriced_events: 1,
    partial_events: 0,
    partial_cost_usd: '0.000000',
    note: "The total leaves out part of the month's usage: 1 call unpriced (counted at nothing). They are priced again when a price arrives, as a restatement.",
    models: [
      {
        provider: 'openai',
        model: 'gpt-image-9',
        unpriced_events: 1,
        partial_events: 0,
        partial_cost_usd: '0.000000',
        unpriced_kinds: [],
        note: 'no price for openai/gpt-image-9',
      },
    ],
  },
};

export const MONTH_CLOSE_API = {
  monthClose: {
    summary: 'Month close',
    description:
      'One month for finance: totals by project, team, provider and model, the previous month, restatements and what is not wholly priced (docs/reports.md).',
    query: monthCloseQuerySchema,
    queryPattern: REPORT_TAG_FILTER,
    requestExample: { query: { month: '2026-11', tz: 'UTC' } },
    responses: { 200: { description: 'The month.', example: MONTH_CLOSE_EXAMPLE } },
  },
  monthCloseCsv: {
    summary: 'Month close as CSV',
    query: monthCloseQuerySchema,
    queryPattern: REPORT_TAG_FILTER,
    requestExample: { query: { month: '2026-11' } },
    responses: {
      200: {
        description: 'CSV (attachment), one row per section and key.',
        contentType: 'text/csv',
        example: [
          'month,timezone,basis,section,key,name,cost_usd,events,images,unpriced_events,partial_events,partial_cost_usd,share',
          '2026-11,UTC,restated,total,2026-11,,0.261120,3,3,1,0,0.000000,1.0000',
          `2026-11,UTC,restated,project,${PROJECT_ID},web-shop,0.261120,3,3,1,0,0.000000,1.0000`,
          '',
        ].join('\n'),
      },
    },
  },
} satisfies Record<string, ApiOperationSpec>;

const SUGGESTION_RANGE = { from: '2026-08-31T16:07:33.279Z', to: '2026-11-29T16:07:33.279Z' };

export const DIMENSIONS_API = {
  dimensionValues: {
    summary: 'Values of a dimension (filter suggestions)',
    description:
      'The values present in the data the filters select, most spent first, starting with `q` (default range: the last 90 days).',
    params: dimensionParamsSchema,
    query: suggestionQuerySchema,
    queryPattern: REPORT_TAG_FILTER,
    requestExample: { params: { dimension: 'team' }, query: { q: 'gr', limit: '10' } },
    responses: {
      200: {
        description: 'The values.',
        example: {
          dimension: 'team',
          q: 'gr',
          ...SUGGESTION_RANGE,
          data: [{ value: 'growth', label: 'growth', cost_usd: '0.261120', events: 3 }],
          has_more: false,
        },
      },
    },
  },
  tagKeys: {
    summary: 'Tag names (filter suggestions)',
    query: suggestionQuerySchema,
    queryPattern: REPORT_TAG_FILTER,
    requestExample: { query: { q: 'camp' } },
    responses: {
      200: {
        description: 'The tag names.',
        example: {
          q: 'camp',
          ...SUGGESTION_RANGE,
          data: [{ key: 'campaign', cost_usd: '0.261120', events: 3 }],
          has_more: false,
        },
      },
    },
  },
  tagValues: {
    summary: 'Values of a tag (filter suggestions)',
    params: tagKeyParamsSchema,
    query: suggestionQuerySchema,
    queryPattern: REPORT_TAG_FILTER,
    requestExample: { params: { key: 'campaign' } },
    responses: {
      200: {
        description: 'The values.',
        example: {
          key: 'campaign',
          q: '',
          ...SUGGESTION_RANGE,
          data: [{ value: 'black-friday', cost_usd: '0.261120', events: 3 }],
          has_more: false,
        },
      },
    },
  },
} satisfies Record<string, ApiOperationSpec>;

export const CHARTS_API = {
  chart: {
    summary: 'A chart as PNG',
    description:
      '`spend.png`, `tokens.png` or `providers.png` (budgets.png has its own route), drawn from the report with the same parameters.',
    query: chartQuerySchema,
    queryPattern: REPORT_TAG_FILTER,
    requestExample: { params: { file: 'spend.png' }, query: { ...RANGE, granularity: 'day', width: '900' } },
    responses: { 200: PNG },
  },
  shared: {
    summary: 'A chart from a signed link',
    description:
      'The links in alerts: no key, exactly the signed parameters, until `expires` (Unix seconds). Anything else is 403.',
    query: chartQuerySchema.extend({
      expires: z.string().meta({ description: 'When the link stops working, in Unix seconds.' }),
      sig: z.string().meta({ description: 'The signature of the file and every other parameter.' }),
    }),
    requestExample: {
      params: { file: 'spend.png' },
      query: {
        from: '2026-11-01',
        to: '2026-11-30',
        expires: '1798560489',
        sig: 'GN5olexfwBdZPUSrOsdxk1rkIYcjh2PUcZae9ljEF4c',
      },
    },
    responses: { 200: PNG, 403: { description: 'The link is not valid or has expired.' } },
  },
} satisfies Record<string, ApiOperationSpec>;

export const DASHBOARD_API = {
  index: {
    summary: 'The dashboard',
    tag: 'dashboard',
    description: 'Sign in with a viewer or admin key; every asset is served by this service.',
    responses: {
      200: {
        description: 'The page.',
        contentType: 'text/html',
        example: '<!doctype html>\n<html lang="en">...</html>',
      },
    },
  },
  asset: {
    summary: 'A script or stylesheet of the dashboard',
    tag: 'dashboard',
    params: z.object({ file: z.string().meta({ description: 'app.js or dashboard.css' }) }),
    requestExample: { params: { file: 'dashboard.css' } },
    responses: {
      200: {
        description: 'The file.',
        contentType: 'text/css',
        example: ':root {\n  --ink: #0f172a;\n  --muted: #5b6676;\n}\n',
      },
      404: { description: 'No such file.' },
    },
  },
} satisfies Record<string, ApiOperationSpec>;

const COST_CENTER_ID = '7d1e2c3b-4a59-4b6c-8d7e-9f0a1b2c3d4e';
const ASSIGNMENT_EXAMPLE = {
  id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
  project_id: PROJECT_ID,
  team: null,
  valid_from: '2026-11-01',
  valid_to: null,
  created_at: '2026-11-01T08:00:00.000Z',
};
const COST_CENTER_EXAMPLE = {
  id: COST_CENTER_ID,
  name: 'Marketing',
  code: 'CC-4100',
  created_at: '2026-11-01T08:00:00.000Z',
  assignments: [ASSIGNMENT_EXAMPLE],
};

/** CostCentersController's and ChargebackController's routes (docs/finance.md). */
export const COST_CENTERS_API = {
  create: {
    summary: 'Create a cost center',
    requestExample: { body: { name: 'Marketing', code: 'CC-4100' } },
    responses: { 201: { description: 'The cost center.', example: { ...COST_CENTER_EXAMPLE, assignments: [] } } },
  },
  list: {
    summary: 'List cost centers with their assignments',
    responses: { 200: { description: 'Every cost center, by name.', example: { data: [COST_CENTER_EXAMPLE] } } },
  },
  get: {
    summary: 'One cost center with its assignments',
    requestExample: { params: { id: COST_CENTER_ID } },
    responses: { 200: { description: 'The cost center.', example: COST_CENTER_EXAMPLE } },
  },
  assign: {
    summary: 'Assign a project, a team, or a team within a project to a cost center from a date',
    description:
      'Dated (UTC days; `valid_to` exclusive, absent = no end). Two assignments of the same project and team may not overlap (409). The most specific assignment wins: a team within a project, then a team, then a project.',
    requestExample: { params: { id: COST_CENTER_ID }, body: { project_id: PROJECT_ID, valid_from: '2026-11-01' } },
    responses: { 201: { description: 'The assignment.', example: ASSIGNMENT_EXAMPLE } },
  },
  endAssignment: {
    summary: 'End an assignment (or move its end)',
    description:
      'Sets `valid_to` (a UTC day, exclusive; null: no end). The days it changes may not reach into a closed month (409), and a longer assignment may not overlap another of the same project and team.',
    requestExample: {
      params: { id: COST_CENTER_ID, assignment_id: ASSIGNMENT_EXAMPLE.id },
      body: { valid_to: '2027-01-01' },
    },
    responses: { 200: { description: 'The assignment.', example: { ...ASSIGNMENT_EXAMPLE, valid_to: '2027-01-01' } } },
  },
  unassign: {
    summary: 'Delete an assignment',
    description: 'Refused (409) when its days reach into a closed month: end it after the closed months instead.',
    requestExample: { params: { id: COST_CENTER_ID, assignment_id: ASSIGNMENT_EXAMPLE.id } },
    responses: { 204: { description: 'Deleted.' } },
  },
  chargeback: {
    summary: 'Chargeback CSV of a month',
    description:
      'A UTC month charged to cost centers: one row per cost center, project, team, provider and model with tokens by kind, images and cost, then a TOTAL row equal to the month`s spend to the digit (docs/finance.md).',
    requestExample: { query: { month: '2026-11' } },
    responses: {
      200: {
        description: 'CSV (attachment).',
        contentType: 'text/csv',
        example: [
          'month,basis,cost_center,cost_center_code,project_id,project,team,provider,model,input_text_tokens,cached_input_text_tokens,input_image_tokens,cached_input_image_tokens,output_image_tokens,output_text_tokens,images,events,unpriced_events,partial_events,cost_usd',
          `2026-11,restated,Marketing,CC-4100,${PROJECT_ID},web-shop,growth,openai,gpt-image-2,240,0,0,0,8320,0,2,2,0,0,0.250800`,
          '2026-11,restated,TOTAL,,,,,,,240,0,0,0,8320,0,2,2,0,0,0.250800',
          '',
        ].join('\n'),
      },
    },
  },
} satisfies Record<string, ApiOperationSpec>;
