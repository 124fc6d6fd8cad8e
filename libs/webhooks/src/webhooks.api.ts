import { ApiOperationSpec, idParams } from '@tokentally/common';
import { createWebhookSchema, deliveriesQuerySchema, updateWebhookSchema } from './webhooks.dto';

/** The OpenAPI descriptions of WebhooksController's routes (docs/api.md); request shapes are the DTO schemas. */

const WEBHOOK_ID = 'c5e0459b-29de-40b9-ad31-2a729ba528b7';
const DELIVERY_ID = 'cea78051-0e96-4cf1-adb2-07ce19f93f19';

const WEBHOOK = {
  id: WEBHOOK_ID,
  url: 'https://hooks.example.com/tokentally',
  description: 'Finance alerts',
  events: ['budget.threshold_reached', 'budget.forecast_exceeded'],
  format: 'standard',
  enabled: true,
  disabled_reason: null,
  consecutive_failures: 0,
  created_at: '2026-11-02T09:30:00.000Z',
  updated_at: '2026-11-02T09:30:00.000Z',
};

const DELIVERY = {
  id: DELIVERY_ID,
  webhook_id: WEBHOOK_ID,
  event_id: '5f46885c-697a-4fd3-8b85-3a82a1c80e92',
  event_type: 'webhook.test',
  status: 'delivered',
  attempts: 1,
  next_attempt_at: null,
  last_status_code: 200,
  last_error: null,
  delivered_at: '2026-11-29T16:08:11.412Z',
  created_at: '2026-11-29T16:08:11.350Z',
  attempt_log: [
    {
      attempt: 1,
      started_at: '2026-11-29T16:08:11.394Z',
      duration_ms: 18,
      status_code: 200,
      error: null,
      response_excerpt: 'ok',
    },
  ],
};

export const WEBHOOKS_API = {
  create: {
    summary: 'Create a webhook endpoint',
    description:
      'Signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), or a Slack-compatible body (`format: slack`). The `secret` is in this answer only.',
    body: createWebhookSchema,
    requestExample: {
      body: {
        url: 'https://hooks.example.com/tokentally',
        events: ['budget.threshold_reached', 'budget.forecast_exceeded'],
        format: 'standard',
        description: 'Finance alerts',
      },
    },
    responses: {
      201: {
        description: 'The endpoint, with its signing secret shown once.',
        example: { ...WEBHOOK, secret: 'whsec_Jf0DnFitFXGLZ00YPQTJUDhotJdIqFs4' },
      },
    },
  },
  list: {
    summary: 'List webhook endpoints',
    responses: { 200: { description: 'Every endpoint (never its secret).', example: { data: [WEBHOOK] } } },
  },
  get: {
    summary: 'One webhook endpoint',
    params: idParams,
    requestExample: { params: { id: WEBHOOK_ID } },
    responses: { 200: { description: 'The endpoint.', example: WEBHOOK } },
  },
  update: {
    summary: 'Change a webhook endpoint',
    description: 'Any of the fields; what is left out stays as it is.',
    params: idParams,
    body: updateWebhookSchema,
    requestExample: { params: { id: WEBHOOK_ID }, body: { enabled: false } },
    responses: { 200: { description: 'The endpoint.', example: { ...WEBHOOK, enabled: false } } },
  },
  remove: {
    summary: 'Delete a webhook endpoint',
    params: idParams,
    requestExample: { params: { id: WEBHOOK_ID } },
    responses: { 204: { description: 'Deleted.' } },
  },
  rotate: {
    summary: "Rotate an endpoint's signing secret",
    description:
      'The new secret is shown once; the previous one stays valid for a day (`previous_secret_valid_until`).',
    params: idParams,
    requestExample: { params: { id: WEBHOOK_ID } },
    responses: {
      200: {
        description: 'The endpoint with its new secret.',
        example: {
          ...WEBHOOK,
          updated_at: '2026-11-29T16:07:33.799Z',
          secret: 'whsec_GW2PRYaAVyHpVhy+OJOE4/vv7SXfLYMx',
          previous_secret_valid_until: '2026-11-30T16:07:33.799Z',
        },
      },
    },
  },
  test: {
    summary: 'Send a test event',
    description: 'A `webhook.test` event to this endpoint now; answers with the delivery after its first attempt.',
    params: idParams,
    requestExample: { params: { id: WEBHOOK_ID } },
    responses: {
      200: { description: 'The delivery.', example: DELIVERY },
      409: { description: 'The endpoint is disabled.' },
    },
  },
  deliveries: {
    summary: 'Deliveries of an endpoint',
    description:
      'Newest first (page with `before` and `before_id`: the `next_before` and `next_before_id` of the page before), each with its attempts.',
    params: idParams,
    query: deliveriesQuerySchema,
    requestExample: { params: { id: WEBHOOK_ID }, query: { status: 'delivered', limit: '20' } },
    responses: {
      200: {
        description: 'The deliveries.',
        example: { data: [DELIVERY], next_before: null, next_before_id: null },
      },
    },
  },
  resend: {
    summary: 'Send a delivery again',
    tag: 'webhooks',
    description: 'Now, with a fresh round of retries.',
    params: idParams,
    requestExample: { params: { id: DELIVERY_ID } },
    responses: {
      200: { description: 'The delivery after the attempt.', example: DELIVERY },
      409: { description: 'The endpoint is disabled, or the delivery is being sent right now.' },
    },
  },
} satisfies Record<string, ApiOperationSpec>;
