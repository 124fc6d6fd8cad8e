import { ApiOperationSpec, idParams } from '@tokentally/common';
import { historyQuerySchema, overrideSchema, pendingQuerySchema } from './dto/pricing.dto';

/** The OpenAPI descriptions of PricingController's routes (docs/api.md); request shapes are the DTO schemas. */

const PENDING_ID = '1d6f0b7e-2c4a-4f3e-9b8d-5a6c7e8f9a0b';

/** A price version as the API shows it: the example of the pricing routes and of an event's detail. */
export const PRICE_VERSION_EXAMPLE = {
  id: 'fb68259d-c5e4-47a5-afe3-6800cc166283',
  provider: 'openai',
  model: 'gpt-image-2',
  kind: 'list',
  source: 'catalog',
  source_ref:
    'GPT Image 2 on OpenAI API listing (refreshed 2026-05-10) for image rates; OpenAI text rates as carried by LiteLLM',
  effective_from: '2026-04-21T00:00:00.000Z',
  effective_to: null,
  prices: {
    input_text: '5.00',
    cached_input_text: '1.25',
    input_image: '8.00',
    cached_input_image: '2.00',
    output_image: '30.00',
    output_text: '10.00',
  },
  rate_sources: null,
};

const OVERRIDE = {
  id: '6af5b6bb-b479-4a4b-a3b9-ec6341a3b2ec',
  provider: 'openai',
  model: 'gpt-image-2',
  kind: 'override',
  source: 'override',
  source_ref: null,
  effective_from: '2026-11-01T00:00:00.000Z',
  effective_to: null,
  prices: { output_image: '27.00' },
  rate_sources: null,
};

const RUN = {
  id: '38ed2768-d50f-4196-85e8-7ab1448a29cb',
  trigger: 'manual',
  status: 'succeeded',
  started_at: '2026-11-29T16:07:34.037Z',
  finished_at: '2026-11-29T16:07:34.055Z',
  prices_changed: 0,
  prices_pending: 0,
  sources: [
    {
      url: null,
      error: null,
      notes: [],
      source: 'catalog',
      status: 'ok',
      skipped: [],
      duration_ms: 0,
      models_seen: 5,
      prices_changed: 0,
      prices_pending: 0,
    },
  ],
};

export const PRICING_API = {
  current: {
    summary: 'Current prices',
    description:
      'The price of every provider and model now, where it came from and how fresh it is: the configured sources, the last refresh and the next.',
    responses: {
      200: {
        description: 'The prices, in USD per 1M tokens (per_image: per image, per_request: per call).',
        example: {
          currency: 'USD',
          unit: 'per 1M tokens (per_image: per image, per_request: per call)',
          last_refresh: null,
          catalog_only: true,
          last_remote_refresh: null,
          sources: [
            { name: 'catalog', kind: 'builtin', setting: null, url_configured: false, last_read: null },
            { name: 'litellm', kind: 'remote', setting: 'PRICING_LITELLM_URL', url_configured: false, last_read: null },
          ],
          freshness_note:
            "No price source is configured (PRICING_LITELLM_URL, PRICING_OPENROUTER_URL, PRICING_VERCEL_URL): prices are the built-in catalog's and any overrides; a refresh reads nothing remote.",
          next_refresh: '2026-11-30T06:00:00.000Z',
          data: [PRICE_VERSION_EXAMPLE],
        },
      },
    },
  },
  history: {
    summary: 'Price history',
    description:
      "Every price version, optionally of one provider and model, each with its source and `source_ref` (where the price comes from: the catalog entry's source, or the key a pull read).",
    query: historyQuerySchema,
    requestExample: { query: { provider: 'openai', model: 'gpt-image-2' } },
    responses: { 200: { description: 'The versions.', example: { data: [PRICE_VERSION_EXAMPLE] } } },
  },
  refresh: {
    summary: 'Refresh prices now',
    description: 'Pulls every configured source now (the weekly pull, at once); answers with the run.',
    responses: { 201: { description: 'The run.', example: RUN } },
  },
  runs: {
    summary: 'Price refresh runs',
    responses: { 200: { description: 'The latest runs, newest first.', example: { data: [RUN] } } },
  },
  pending: {
    summary: 'Price changes awaiting approval',
    description: 'Pulled prices that changed too much to apply unattended.',
    query: pendingQuerySchema,
    requestExample: { query: { status: 'pending' } },
    responses: {
      200: {
        description: 'The changes.',
        example: {
          data: [
            {
              id: PENDING_ID,
              provider: 'openai',
              model: 'gpt-image-2',
              source: 'litellm',
              source_ref: 'gpt-image-2',
              run_id: RUN.id,
              current_version_id: PRICE_VERSION_EXAMPLE.id,
              prices: { output_image: '3.00' },
              reasons: ['output_image 30 -> 3 (less than /5)'],
              status: 'pending',
              created_at: '2026-11-30T06:00:01.000Z',
              decided_at: null,
              version_id: null,
            },
          ],
        },
      },
    },
  },
  approve: {
    summary: 'Approve a pending price change',
    params: idParams,
    requestExample: { params: { id: PENDING_ID } },
    responses: {
      201: {
        description: 'Applied as a new price version.',
        example: { id: PENDING_ID, status: 'approved', version_id: '0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b' },
      },
      409: { description: 'Already decided.' },
    },
  },
  reject: {
    summary: 'Reject a pending price change',
    params: idParams,
    requestExample: { params: { id: PENDING_ID } },
    responses: {
      201: { description: 'Rejected.', example: { id: PENDING_ID, status: 'rejected' } },
      409: { description: 'Already decided.' },
    },
  },
  overrides: {
    summary: 'Active price overrides',
    responses: { 200: { description: 'Negotiated prices and discounts in effect.', example: { data: [OVERRIDE] } } },
  },
  setOverride: {
    summary: 'Set a price override',
    description:
      'A negotiated price for a provider and model (`model` and `prices`), or a discount off a whole provider (`discount_pct`), from `effective_from` (default: now). An override beats a pulled list price.',
    body: overrideSchema,
    requestExample: {
      body: {
        provider: 'openai',
        model: 'gpt-image-2',
        prices: { output_image: '27.00' },
        effective_from: '2026-11-01T00:00:00Z',
      },
    },
    responses: { 200: { description: 'The override, as a price version.', example: OVERRIDE } },
  },
  endOverride: {
    summary: 'End a price override',
    params: idParams,
    requestExample: { params: { id: OVERRIDE.id } },
    responses: { 204: { description: 'Ended: list prices apply again from now.' } },
  },
} satisfies Record<string, ApiOperationSpec>;
