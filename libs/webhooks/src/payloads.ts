import { Decimal, displayUsd, DOMAIN_EVENT_TITLES } from '@tokentally/core';

/** Version of the JSON body; bumped only for breaking changes. */
export const PAYLOAD_VERSION = 1;

export interface OutboxEvent {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  created_at: Date;
}

/** The Standard Webhooks body: `{type, timestamp, version, data}`; the same bytes on every retry. */
export function standardBody(event: OutboxEvent): string {
  return JSON.stringify({
    type: event.type,
    timestamp: new Date(event.created_at).toISOString(),
    version: PAYLOAD_VERSION,
    data: event.payload,
  });
}

/** A Slack incoming-webhook body: the same facts in words, with links. */
export function slackBody(event: OutboxEvent): string {
  const summary = describeEvent(event.type, event.payload);
  const links = [
    event.payload.dashboard_url && `<${event.payload.dashboard_url}|Open the dashboard>`,
    event.payload.chart_url && `<${event.payload.chart_url}|Chart (PNG)>`,
  ].filter(Boolean);
  const blocks: object[] = [
    { type: 'header', text: { type: 'plain_text', text: titleOf(event.type), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: summary } },
  ];
  if (links.length > 0) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: links.join('  ·  ') }] });
  return JSON.stringify({ text: `${titleOf(event.type)}: ${summary}`, blocks });
}

export function bodyFor(format: 'standard' | 'slack', event: OutboxEvent): string {
  return format === 'slack' ? slackBody(event) : standardBody(event);
}

function titleOf(type: string): string {
  return DOMAIN_EVENT_TITLES[type] ?? type;
}

/** An amount of a payload for people; a field that is missing or not a decimal (an event of an older version) reads
 * "?". */
function money(value: unknown): string {
  return typeof value === 'string' && Decimal.isDecimalString(value) ? displayUsd(value) : '?';
}

const PERIOD_WORDS: Record<string, string> = { day: 'day', week: 'week', month: 'month', quarter: 'quarter' };

/**
 * One sentence per event, for Slack, the dashboard's alert list and logs.
 * Amounts follow the one display rule (libs/core `displayUsd`: cents from $1,
 * 4 significant digits below); the JSON payload keeps the exact values.
 */
export function describeEvent(type: string, d: Record<string, unknown>): string {
  switch (type) {
    case 'budget.threshold_reached':
      return `Budget "${d.budget_name}" reached ${d.threshold_pct}% of ${money(d.amount_usd)} for the ${periodWord(d.period)}: ${money(d.spent_usd)} spent (${d.percent}%) since ${localDay(d.period_start, d.timezone)}.`;
    case 'budget.forecast_exceeded':
      return `Budget "${d.budget_name}" is forecast to reach ${money(d.forecast_usd)} by the end of the ${periodWord(d.period)}, above its ${money(d.amount_usd)}; ${money(d.spent_usd)} spent so far.`;
    case 'spend.anomaly':
      return `Spend of ${d.dimension} ${d.label ?? d.key} on ${d.day} is ${money(d.spent_usd)}, far above its usual ${money(d.median_usd)} a day (28-day median; threshold ${money(d.threshold_usd)}).`;
    case 'pricing.updated':
      return d.pending
        ? `A price change for ${d.provider}/${d.model} from ${d.source} is held for review (${((d.reasons as string[] | undefined) ?? []).join(', ') || 'suspicious'}).`
        : `Prices of ${d.provider}/${d.model} changed (${d.source}), effective ${d.effective_from}.`;
    case 'pricing.refresh_failed':
      return `The pricing pull from ${d.source} failed: ${d.error}.`;
    case 'model.unpriced':
      return `Events for ${d.provider}/${d.model} arrived with no price; their cost is unknown until a price is set.`;
    case 'reconciliation.drift':
      return `On ${d.day}, ${d.project_name ? `project ${d.project_name}` : 'the whole organization'}${d.openai_project_id ? ` (OpenAI ${d.openai_project_id})` : ''}: OpenAI billed ${money(d.billed_usd)}, TokenTally tracked ${money(d.tracked_usd)}, a difference of ${money(d.difference_usd)}${d.percent === null || d.percent === undefined ? '' : ` (${d.percent}%)`}, above the ${d.threshold_pct}% threshold${Array.isArray(d.causes) && d.causes.length ? `; likely: ${(d.causes as unknown[]).map((c) => String(c).replace(/_/g, ' ')).join(', ')}` : ''}.`;
    case 'webhook.test':
      return 'This is a test event from TokenTally. If you can read it, the endpoint works.';
    default:
      return `${type}.`;
  }
}

/** A payload's period in words (an unknown one as it is). */
function periodWord(period: unknown): unknown {
  return PERIOD_WORDS[String(period)] ?? period;
}

function localDay(iso: unknown, tz: unknown): string {
  if (!iso) return '?';
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: (tz as string) || 'UTC',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
  }).format(new Date(iso as string));
}
