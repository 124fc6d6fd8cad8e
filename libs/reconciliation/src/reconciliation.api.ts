import { ApiOperationSpec } from '@tokentally/common';
import {
  mappingBodySchema,
  openaiProjectParams,
  reportQuerySchema,
  runBodySchema,
  runsQuerySchema,
} from './reconciliation.dto';

/** The OpenAPI descriptions of the reconciliation routes (docs/reconciliation.md, docs/api.md). */

const PROJECT_ID = '0d4e6a3c-5b1f-4c2e-9a7b-3f8d2e1c0b9a';
const RUN_ID = 'b3e1f6a2-7c4d-4e8f-9a0b-1c2d3e4f5a6b';

const RUN = {
  id: RUN_ID,
  trigger: 'manual',
  from: '2026-11-23',
  to: '2026-11-25',
  status: 'succeeded',
  comparison: 'projects',
  threshold_pct: '2',
  error: null,
  pages_read: 2,
  rows: 3,
  drift_rows: 1,
  alerts_fired: 1,
  started_at: '2026-11-28T09:12:03.000Z',
  finished_at: '2026-11-28T09:12:04.250Z',
};

const ROW = {
  day: '2026-11-25',
  scope: 'project',
  openai_project_id: 'proj_Studio123',
  project_id: PROJECT_ID,
  project_name: 'Studio',
  status: 'drift',
  billed_usd: '1.221360',
  tracked_usd: '1.085760',
  difference_usd: '0.135600',
  percent: '11.10',
  other_currencies: [],
  billed: { requests: 9, images: 9, tokens: null },
  tracked: { calls: 8, error_calls: 0, images: 8, tokens: 44560, unpriced_events: 0, partial_events: 0 },
  causes: [
    {
      cause: 'untracked_calls',
      detail:
        'OpenAI billed usage TokenTally has no event for (calls made without the SDK, another app on the same OpenAI project, or events that never arrived): gpt-image-2: 9 requests billed, 8 tracked; gpt-image-2: 9 images billed, 8 tracked.',
      missing_calls: 1,
      findings: ['gpt-image-2: 9 requests billed, 8 tracked', 'gpt-image-2: 9 images billed, 8 tracked'],
    },
  ],
  line_items: [
    {
      line_item: 'gpt-image-2, output image',
      model: 'gpt-image-2',
      kind: 'output_image',
      currency: 'usd',
      amount: '1.22136',
      quantity: null,
      quantity_unit: null,
    },
  ],
  models: [
    {
      model: 'gpt-image-2',
      billed_usd: '1.221360',
      billed_requests: 9,
      billed_images: 9,
      tracked_calls: 8,
      tracked_error_calls: 0,
      tracked_images: 8,
      tracked_usd: '1.085760',
    },
  ],
  settled: true,
  run_id: RUN_ID,
  reconciled_at: '2026-11-28T09:12:04.250Z',
  alert: { event_id: '5ac48ed5-601b-486f-aff0-ba19311af38f', fired_at: '2026-11-28T09:12:04.250Z' },
};

const MAPPING = {
  openai_project_id: 'proj_Studio123',
  project_id: PROJECT_ID,
  project_name: 'Studio',
  created_at: '2026-11-20T08:00:00.000Z',
  updated_at: '2026-11-20T08:00:00.000Z',
};

export const RECONCILIATION_API = {
  run: {
    summary: 'Reconcile with the OpenAI bill now',
    description:
      "Reads OpenAI's Costs and image Usage APIs (OPENAI_ADMIN_KEY) for these UTC days, compares them with TokenTally's `openai` spend per day and OpenAI project, stores the run and fires `reconciliation.drift` for each new drift. Up to 92 days, not after today. A failing, slow or nonsensical OpenAI answer makes a run with `status: failed` and the reason in `error`. 409 when OPENAI_ADMIN_KEY is not set.",
    body: runBodySchema,
    requestExample: { body: { from: '2026-11-23', to: '2026-11-25' } },
    responses: {
      201: { description: 'The run, finished (succeeded or failed).', example: RUN },
      409: { description: 'OPENAI_ADMIN_KEY is not set: reconciliation is off.' },
    },
  },
  report: {
    summary: 'Reconciliation with the OpenAI bill',
    description:
      'Per UTC day and OpenAI project, from the newest successful run that covered the day: billed, tracked, difference (billed - tracked, exact), percent of the bill and the likely causes, each named. Left out, the range is the 7 days before today. A key limited to projects sees only the rows of its mapped projects.',
    query: reportQuerySchema,
    requestExample: { query: { from: '2026-11-23', to: '2026-11-25' } },
    responses: {
      200: {
        description: 'The days and their rows.',
        example: {
          configured: true,
          from: '2026-11-23',
          to: '2026-11-25',
          currency: 'USD',
          threshold_pct: '2',
          limited_to_projects: false,
          comparison: 'projects',
          last_run: RUN,
          days_reconciled: ['2026-11-23', '2026-11-24', '2026-11-25'],
          days_not_reconciled: [],
          rows: [ROW],
          totals: { billed_usd: '1.221360', tracked_usd: '1.085760', difference_usd: '0.135600', percent: '11.10' },
        },
      },
    },
  },
  runs: {
    summary: 'Reconciliation runs',
    description: 'Newest first, with their status and, for a failed run, why.',
    query: runsQuerySchema,
    requestExample: { query: { limit: '10' } },
    responses: { 200: { description: 'The runs.', example: { data: [RUN] } } },
  },
  mappings: {
    summary: 'OpenAI projects mapped to TokenTally projects',
    description: 'With no mapping, reconciliation compares the whole organization with every project.',
    responses: { 200: { description: 'The mappings.', example: { data: [MAPPING] } } },
  },
  map: {
    summary: 'Map an OpenAI project to a TokenTally project',
    description:
      'One OpenAI project per TokenTally project (409 naming `project_id` when it is mapped to another); mapping the same OpenAI project again replaces its project. Runs from now on compare them; stored runs stay as they were.',
    params: openaiProjectParams,
    body: mappingBodySchema,
    requestExample: { params: { openai_project_id: 'proj_Studio123' }, body: { project_id: PROJECT_ID } },
    responses: { 200: { description: 'The mapping.', example: MAPPING } },
  },
  unmap: {
    summary: 'Remove the mapping of an OpenAI project',
    params: openaiProjectParams,
    requestExample: { params: { openai_project_id: 'proj_Studio123' } },
    responses: { 204: { description: 'Removed.' } },
  },
} satisfies Record<string, ApiOperationSpec>;
