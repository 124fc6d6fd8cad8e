/**
 * The domain events that leave the service (as webhooks, issue #6): the one
 * list of their types, read by the outbox, webhook subscriptions, payloads,
 * alerts and the dashboard. Pure data: the dashboard's browser bundle imports
 * it too.
 */

/** Every event type an endpoint can subscribe to, in the order they are listed to people. */
export const DOMAIN_EVENT_TYPES = [
  'budget.threshold_reached',
  'budget.forecast_exceeded',
  'spend.anomaly',
  'pricing.updated',
  'pricing.refresh_failed',
  'model.unpriced',
  'reconciliation.drift',
] as const;
export type DomainEventType = (typeof DOMAIN_EVENT_TYPES)[number];

/** The event types that are alerts (GET /v1/alerts): fired by budget evaluation, once per dedupe key. */
export const ALERT_EVENT_TYPES = [
  'budget.threshold_reached',
  'budget.forecast_exceeded',
  'spend.anomaly',
] as const satisfies readonly DomainEventType[];
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

/** What `POST /v1/webhooks/:id/test` sends: delivered to one endpoint, never subscribed to. */
export const TEST_EVENT_TYPE = 'webhook.test';
export type TestEventType = typeof TEST_EVENT_TYPE;

/** The title of each event for people (a Slack header, a log line). Indexed by any string: unknown types have none. */
export const DOMAIN_EVENT_TITLES: Readonly<Record<string, string>> = {
  'budget.threshold_reached': 'Budget threshold reached',
  'budget.forecast_exceeded': 'Budget forecast exceeded',
  'spend.anomaly': 'Unusual spend',
  'pricing.updated': 'Price change',
  'pricing.refresh_failed': 'Pricing refresh failed',
  'model.unpriced': 'Model without a price',
  'reconciliation.drift': 'Spend differs from the OpenAI bill',
  'webhook.test': 'TokenTally test event',
} satisfies Record<DomainEventType | TestEventType, string>;

/** One word for each kind of alert, for a list of alerts. */
export const ALERT_EVENT_LABELS: Readonly<Record<string, string>> = {
  'budget.threshold_reached': 'Threshold',
  'budget.forecast_exceeded': 'Forecast',
  'spend.anomaly': 'Anomaly',
} satisfies Record<AlertEventType, string>;

export function isDomainEventType(value: unknown): value is DomainEventType {
  return (DOMAIN_EVENT_TYPES as readonly unknown[]).includes(value);
}
