import { z } from 'zod';
import { dateTimeParam, storableText, wholeNumberParam } from '@tokentally/common';
import { DOMAIN_EVENT_TYPES } from '@tokentally/core';

/** Event types an endpoint can subscribe to: every domain event (libs/core). */
export const EVENT_TYPES = DOMAIN_EVENT_TYPES;

const url = storableText(z.string({ error: 'must be a string' }).max(2000, 'must be at most 2000 characters')).refine(
  (value) => {
    try {
      const parsed = new URL(value);
      return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && !parsed.username && !parsed.password;
    } catch {
      return false;
    }
  },
  'must be an absolute http(s) URL without credentials',
);

const events = z
  .array(z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }), {
    error: 'must be a list of event types',
  })
  .min(1, 'must name at least one event type')
  .transform((list) => [...new Set(list)]);

const format = z.enum(['standard', 'slack'], { error: 'must be standard or slack' });
const description = storableText(z.string({ error: 'must be a string' }).max(500, 'must be at most 500 characters'));

export const createWebhookSchema = z
  .object({
    url,
    events: events.default([...EVENT_TYPES]),
    format: format.default('standard'),
    enabled: z.boolean({ error: 'must be true or false' }).default(true),
    description: description.optional(),
  })
  .strict();
export type CreateWebhookDto = z.output<typeof createWebhookSchema>;

export const updateWebhookSchema = z
  .object({
    url: url.optional(),
    events: events.optional(),
    format: format.optional(),
    enabled: z.boolean({ error: 'must be true or false' }).optional(),
    description: description.nullable().optional(),
  })
  .strict();
export type UpdateWebhookDto = z.output<typeof updateWebhookSchema>;

export const deliveriesQuerySchema = z
  .object({
    status: z
      .enum(['pending', 'sending', 'delivered', 'failed'], { error: 'must be pending, sending, delivered or failed' })
      .optional(),
    before: dateTimeParam().optional(),
    before_id: z.uuid('must be a delivery id (UUID): the next_before_id of the page before').optional(),
    limit: wholeNumberParam(1, 200, 50),
  })
  .strict();
