import { z } from 'zod';
import { ApiOperationSpec, field } from '@tokentally/common';
import { PRICE_VERSION_EXAMPLE } from '@tokentally/pricing';
import { eventKeySchema, eventTotalsQuerySchema, listEventsQuerySchema } from './dto/list-events.dto';
import { ingestBodySchema } from './dto/usage-event.dto';

/**
 * The OpenAPI descriptions of the ingest lib's routes (docs/api.md). Request
 * shapes are the DTO schemas; the restatement controller adds its own query
 * and body schemas where it declares them.
 */

const PROJECT_ID = '3f0c6f1e-8a52-4c3b-9d4e-2b7a1c5e9d01';
const VERSION_ID = PRICE_VERSION_EXAMPLE.id;

/** `tag:<key>=<value>` filters, read beside the query schema. */
const TAG_FILTERS = {
  name: 'tag',
  pattern: '^tag:.{1,64}$',
  description: '`tag:<key>=<value>`: only events with this tag value; several must all match.',
};

/** `?project_id=` of POST /v1/events, as the handler checks it (an admin names the project it writes to). */
const ingestQuerySchema = z.object({
  project_id: field
    .uuid()
    .optional()
    .meta({ description: 'The project to write to: required with an admin key; an ingest key writes to its own.' }),
});

const EVENT = {
  event_id: 'img_2026-11-27_000042',
  timestamp: '2026-11-27T10:15:00Z',
  provider: 'openai',
  model: 'gpt-image-2',
  operation: 'images.generate',
  usage: {
    input_text_tokens: 120,
    cached_input_text_tokens: 0,
    input_image_tokens: 0,
    cached_input_image_tokens: 0,
    output_image_tokens: 4160,
    output_text_tokens: 0,
  },
  images: 1,
  image_size: '1024x1024',
  image_quality: 'high',
  status: 'ok',
  latency_ms: 8123,
  dimensions: { team: 'growth', user: 'u_42', feature: 'avatars', environment: 'prod' },
  tags: { campaign: 'black-friday' },
};

const STORED_EVENT = {
  event_id: 'img_2026-11-27_000042',
  project_id: PROJECT_ID,
  timestamp: '2026-11-27T10:15:00.000000Z',
  provider: 'openai',
  model: 'gpt-image-2',
  operation: 'images.generate',
  usage: EVENT.usage,
  images: 1,
  image_size: '1024x1024',
  image_quality: 'high',
  status: 'ok',
  latency_ms: 8123,
  dimensions: EVENT.dimensions,
  tags: EVENT.tags,
  cost_usd: '0.125400',
  cost_ingested_usd: '0.125400',
  provider_cost_usd: null,
  counted_at: null,
  restated: false,
  priced: true,
  pricing: 'priced',
  price_version_id: VERSION_ID,
  received_at: '2026-11-27T10:15:01.204Z',
};

const RANGE = { from: '2026-11-01', to: '2026-11-30', tz: 'UTC' };

export const INGEST_API = {
  create: {
    summary: 'Ingest usage events',
    description:
      'One event, `{"events": [...]}` or an array (up to 1,000 events, 1 MB). 202 means committed. A replayed `event_id` is a duplicate and is not counted twice; the valid events of a batch are stored even when others are rejected (listed in `rejected`).',
    query: ingestQuerySchema,
    body: ingestBodySchema,
    requestExample: { body: { events: [EVENT] } },
    responses: {
      202: {
        description: 'The events stored (or recognised as duplicates), with their cost, and those rejected.',
        example: {
          accepted: 1,
          duplicates: 0,
          rejected: [],
          results: [
            {
              event_id: 'img_2026-11-27_000042',
              status: 'accepted',
              cost_usd: '0.125400',
              priced: true,
              pricing: 'priced',
            },
          ],
        },
      },
      413: { description: 'More than 1,000 events, or a body over 1 MB.' },
      415: { description: 'The body is not application/json.' },
    },
  },
  list: {
    summary: 'List stored events',
    description:
      'A page at a time (`next_cursor`), newest first by default, with the filters of the reports; with `granularity` (and `bucket`) exactly the events behind a report figure (docs/ingest.md). Filters are comma lists.',
    query: listEventsQuerySchema,
    queryPattern: TAG_FILTERS,
    requestExample: { query: { ...RANGE, provider: 'openai', limit: '50', 'tag:campaign': 'black-friday' } },
    responses: {
      200: {
        description: 'A page of events.',
        example: {
          sort: '-time',
          data: [STORED_EVENT],
          next_cursor: 'WzIsIi10aW1lIiwiMjAyNi0xMS0yN1QxMDoxNTowMC4wMDAwMDBaIiwiM2YwYzZmMWUiLCJpbWciLG51bGxd',
        },
      },
    },
  },
  totals: {
    summary: 'Totals of the events the filters select',
    description: '"N events, $X", to set beside a report figure; the same filters as the list.',
    query: eventTotalsQuerySchema,
    queryPattern: TAG_FILTERS,
    requestExample: { query: { ...RANGE, team: 'growth' } },
    responses: {
      200: {
        description: 'Counts, cost and tokens.',
        example: {
          currency: 'USD',
          from: '2026-11-01T00:00:00.000Z',
          to: '2026-12-01T00:00:00.000Z',
          events: 3,
          cost_usd: '0.261120',
          cost_ingested_usd: '0.261120',
          partial_events: 0,
          partial_cost_usd: '0.000000',
          unpriced_events: 1,
          error_events: 0,
          images: 3,
          tokens: {
            input_text: 360,
            cached_input_text: 0,
            input_image: 1290,
            cached_input_image: 0,
            output_image: 12480,
            output_text: 0,
          },
        },
      },
    },
  },
  detail: {
    summary: 'One event, priced in detail',
    description: 'Its price version, the cost of each token kind, and the restatements that covered it.',
    params: eventKeySchema,
    requestExample: { params: { project_id: PROJECT_ID, event_id: 'img_2026-11-27_000042' } },
    responses: {
      200: {
        description: 'The event.',
        example: {
          ...STORED_EVENT,
          price_version: PRICE_VERSION_EXAMPLE,
          cost_by_kind: [
            {
              kind: 'input_text',
              tokens: 120,
              rate_per_million_usd: '5.00',
              priced_with: 'input_text',
              basis: 'own',
              cost_usd: '0.000600',
            },
            {
              kind: 'output_image',
              tokens: 4160,
              rate_per_million_usd: '30.00',
              priced_with: 'output_image',
              basis: 'own',
              cost_usd: '0.124800',
            },
          ],
          cost_per_image: null,
          cost_per_request: null,
          cost_breakdown: { total_usd: '0.125400', exact: true, prices_from: 'price_book', note: null },
          restatements: [],
        },
      },
    },
  },
} satisfies Record<string, ApiOperationSpec>;

/** RestatementController's routes; it adds the query and body schemas it declares beside its handlers. */
export const RESTATEMENT_API = {
  reprice: {
    summary: 'Re-price a range of events',
    description:
      'With the price versions in effect at each event time; recorded as a restatement (reports read restated costs by default). `from`/`to`: a date (a UTC day, `to` inclusive) or an RFC 3339 date-time.',
    requestExample: { body: { from: '2026-11-01', to: '2026-11-30', provider: 'openai', model: 'gpt-image-2' } },
    responses: {
      201: {
        description: 'The restatement.',
        example: {
          id: '5c88d857-6ddd-429f-b45f-bca09d000a2f',
          reason: 'manual',
          requested_by: '9c2d7e4a-1b3f-4c5d-8e6f-7a8b9c0d1e2f',
          created_at: '2026-11-29T16:07:34.010Z',
          from: '2026-11-01T00:00:00.000Z',
          to: '2026-12-01T00:00:00.000Z',
          provider: 'openai',
          model: 'gpt-image-2',
          events_examined: 3,
          events_changed: 1,
          total_before_usd: '0.261120',
          total_after_usd: '0.248640',
        },
      },
    },
  },
  list: {
    summary: 'List restatements',
    responses: {
      200: {
        description: 'Every restatement, newest first.',
        example: {
          data: [
            {
              id: '5c88d857-6ddd-429f-b45f-bca09d000a2f',
              reason: 'manual',
              requested_by: '9c2d7e4a-1b3f-4c5d-8e6f-7a8b9c0d1e2f',
              created_at: '2026-11-29T16:07:34.010Z',
              from: '2026-11-01T00:00:00.000Z',
              to: '2026-12-01T00:00:00.000Z',
              provider: null,
              model: null,
              events_examined: 3,
              events_changed: 1,
              total_before_usd: '0.261120',
              total_after_usd: '0.248640',
            },
          ],
        },
      },
    },
  },
  coverage: {
    summary: 'Pricing coverage of a period',
    description:
      'How much usage was fully priced, what was not, and what was priced by fallback (default: the last 30 days).',
    requestExample: { query: { from: '2026-11-01', to: '2026-11-30' } },
    responses: {
      200: {
        description: 'The coverage.',
        example: {
          from: '2026-11-01T00:00:00.000Z',
          to: '2026-12-01T00:00:00.000Z',
          events: { total: 3, priced: 2, partial: 0, unpriced: 1, priced_share: '0.6667' },
          cost_usd: '0.261120',
          partial_cost_usd: '0.000000',
          tokens: { total: 14130, in_priced_events: 9850, priced_share: '0.6971' },
          unpriced_models: [
            {
              provider: 'openai',
              model: 'gpt-image-9',
              events: 1,
              tokens: 4280,
              unpriced_kinds: [],
              first_seen_at: '2026-11-22T10:00:01.278Z',
            },
          ],
          partial_models: [],
          rate_sources: [
            {
              provider: 'openai',
              model: 'gpt-image-2',
              version_id: VERSION_ID,
              version_source: 'catalog',
              kinds: [
                {
                  kind: 'output_image',
                  quantity: 4160,
                  priced_with: 'output_image',
                  basis: 'own',
                  rate_usd: '30.000000',
                  source: 'catalog',
                },
              ],
            },
          ],
          fallback_kinds: [
            {
              provider: 'vercel',
              model: 'gpt-image-2',
              kind: 'output_image',
              tokens: 4160,
              priced_with: 'output',
              basis: 'generic',
            },
          ],
        },
      },
    },
  },
} satisfies Record<string, ApiOperationSpec>;

const TOTALS_EXAMPLE = {
  cost_usd: '0.361690',
  cost_ingested_usd: '0.361690',
  events: 4,
  images: 4,
  unpriced_events: 0,
  partial_events: 0,
  partial_cost_usd: '0.000000',
  input_text_tokens: 480,
  cached_input_text_tokens: 0,
  input_image_tokens: 0,
  cached_input_image_tokens: 0,
  output_image_tokens: 12064,
  output_text_tokens: 0,
};

const PERIOD_EXAMPLE = {
  month: '2026-10',
  status: 'closed',
  from: '2026-10-01T00:00:00.000Z',
  to: '2026-11-01T00:00:00.000Z',
  closed: {
    at: '2026-11-02T09:00:00.000Z',
    by: { key_id: '9c2d7e4a-1b3f-4c5d-8e6f-7a8b9c0d1e2f', key_name: 'finance' },
    reason: 'October invoice booked',
  },
  locked: { totals: TOTALS_EXAMPLE, by_project: [{ project_id: PROJECT_ID, ...TOTALS_EXAMPLE }] },
  unchanged: true,
  current: TOTALS_EXAMPLE,
  late_events: [{ counted_in: '2026-11', events: 1, cost_usd: '0.042480' }],
  log: [
    {
      action: 'close',
      at: '2026-11-02T09:00:00.000Z',
      by: { key_id: '9c2d7e4a-1b3f-4c5d-8e6f-7a8b9c0d1e2f', key_name: 'finance' },
      reason: 'October invoice booked',
      totals: TOTALS_EXAMPLE,
    },
  ],
};

/** PeriodsController's routes (docs/finance.md). */
export const PERIODS_API = {
  list: {
    summary: 'List closed (and reopened) months',
    responses: {
      200: { description: 'Every month closed now or once, newest first.', example: { data: [PERIOD_EXAMPLE] } },
    },
  },
  get: {
    summary: 'One month: open or closed, locked and current totals, late events, log',
    requestExample: { params: { month: '2026-10' } },
    responses: { 200: { description: 'The month.', example: PERIOD_EXAMPLE } },
  },
  close: {
    summary: 'Close a month',
    description:
      'Locks the UTC month`s totals: events that arrive for it later are counted in the first open month (their own date kept), and re-pricing inside it is refused (409). Only a month that has ended can be closed.',
    requestExample: { params: { month: '2026-10' }, body: { reason: 'October invoice booked' } },
    responses: { 201: { description: 'The closed month.', example: PERIOD_EXAMPLE } },
  },
  reopen: {
    summary: 'Reopen a closed month',
    description: 'Logged with who and why; the reason is required.',
    requestExample: {
      params: { month: '2026-10' },
      body: { reason: 'Invoice corrected by OpenAI, credit note 2026-114' },
    },
    responses: {
      201: {
        description: 'The month, open again.',
        example: { ...PERIOD_EXAMPLE, status: 'open', closed: null, locked: null, unchanged: null },
      },
    },
  },
} satisfies Record<string, ApiOperationSpec>;
