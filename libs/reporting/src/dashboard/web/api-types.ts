/**
 * The API's answers as the dashboard reads them: the JSON of each endpoint it
 * calls, written from the server code that makes it (named beside each). Money
 * is an exact decimal string (USD); instants are ISO 8601 strings. A field is
 * here when the server sends it, whether or not a page shows it.
 */

/** A list answer: `{ data: [...] }`. */
export interface List<T> {
  data: T[];
}

/** A list with a cursor to the next (older) page: alerts, webhook deliveries. */
export interface OlderPages<T> extends List<T> {
  /** The `before` of the next page, null on the last. */
  next_before: string | null;
  /** The `before_id` of the next page (the last alert's id), null on the last. */
  next_before_id: string | null;
}

// --- Keys and projects (libs/auth: auth.controller.ts, api-keys.service.ts) ---

export type Role = 'admin' | 'viewer' | 'ingest';

/** GET /v1/me: the key's own role and the projects it may read. */
export interface Me {
  key_id: string;
  name: string;
  prefix: string;
  role: Role;
  /** The projects a scoped key may read; null: every project. */
  project_ids: string[] | null;
  projects: Array<{ id: string; name: string }>;
}

/** GET /v1/projects (a List), POST /v1/projects. */
export interface Project {
  id: string;
  name: string;
  created_at: string;
}

/** GET /v1/keys (a List). */
export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  /** An ingest key's project. */
  project_id: string | null;
  /** A viewer key's projects; null: every project. */
  project_ids: string[] | null;
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}

/** POST /v1/keys: the key, in clear this once. */
export interface CreatedKey extends ApiKey {
  key: string;
}

// --- Reports (libs/reporting: reports.service.ts, month-close.service.ts, dimension-values.service.ts) ---

/** GET /v1/reports/summary: the period to date, its forecast and the period before. */
export interface Summary {
  currency: string;
  tz: string;
  period: 'day' | 'week' | 'month' | 'quarter';
  period_start: string;
  period_end: string;
  spent: string;
  events: number;
  forecast: string;
  forecast_method: 'weekly_rhythm' | 'linear';
  forecast_explanation: string;
  previous_period: { start: string; end: string; spent: string; spent_to_same_point: string };
  /** Percent to one decimal against the previous period at the same point; null when that spent nothing. */
  change_pct: string | null;
  top_movers: Array<{
    dimension: string;
    key: string;
    label: string;
    current: string;
    previous: string;
    change: string;
    change_pct: string | null;
  }>;
  partial_events: number;
  partial_cost_usd: string;
  unpriced_events: number;
  pricing: { last_refresh: string | null; last_refresh_status: string | null; next_refresh: string | null };
}

/** One series of the spend report: a group (or "(other)", every group below the top). */
export interface SpendSeries {
  key: string;
  /** What to show: a project's name, else the key. */
  label: string;
  /** The cost of each bucket. */
  values: string[];
  total: string;
  unpriced_events: number;
  partial_events: number;
}

/** GET /v1/reports/spend. */
export interface SpendReport {
  currency: string;
  basis: string;
  granularity: string;
  tz: string;
  group_by: string;
  from: string;
  to: string;
  /** The instant each bucket starts. */
  buckets: string[];
  series: SpendSeries[];
  total: string;
  events: number;
  partial_events: number;
  partial_cost_usd: string;
  unpriced_events: number;
}

/** A row of the tokens report's breakdown: a model, image size and quality. */
export interface TokensBreakdown {
  provider: string;
  model: string;
  image_size: string | null;
  image_quality: string | null;
  events: number;
  images: number;
  tokens: Record<string, number>;
  cost_usd: string;
  cost_per_image_usd: string | null;
  output_image_tokens_per_image: number | null;
  partial_events: number;
  partial_cost_usd: string;
  unpriced_events: number;
}

/** GET /v1/reports/tokens. */
export interface TokensReport {
  granularity: string;
  tz: string;
  from: string;
  to: string;
  buckets: string[];
  /** Tokens of each kind per bucket. */
  series: Array<{ kind: string; values: number[] }>;
  breakdown: TokensBreakdown[];
}

/** What a model's usage would have cost at one provider. */
export interface ProviderScenario {
  provider: string;
  cost_usd: string;
  /** Actual minus this; null when the actual is not complete (some calls unpriced). */
  saving_usd: string | null;
}

/** A model of the providers comparison. */
export interface ModelComparison {
  model: string;
  actual: Array<{ provider: string; cost_usd: string | null; unpriced_events: number; partial_events: number }>;
  actual_total_usd: string;
  actual_complete: boolean;
  /** Why no saving is computed (when the actual is not complete). */
  note?: string;
  /** Cheapest first. */
  at_each_provider: ProviderScenario[];
  cheapest: ProviderScenario | null;
  /** Providers left out of at_each_provider (they cannot price all of the usage, or have no price), and why. */
  not_compared: Array<{ provider: string; reason: string }>;
}

/** GET /v1/reports/compare-providers. */
export interface ProvidersReport {
  currency: string;
  from: string;
  to: string;
  models: ModelComparison[];
  actual_total_usd: string;
}

/** Calls, errors and latency (counts, never money). */
export interface PerformanceFigures {
  events: number;
  error_events: number;
  /** error_events / events, a decimal string to 6 places; null without events. */
  error_rate: string | null;
  latency_events: number;
  mean_latency_ms: number | null;
}

/** GET /v1/reports/performance. */
export interface PerformanceReport {
  from: string;
  to: string;
  tz: string;
  rows: Array<PerformanceFigures & { provider: string; model: string }>;
  total: PerformanceFigures;
}

/** A provider's own reported cost beside ours (calls priced wholly here), and the rest apart. */
export interface ProviderCostFigures {
  events: number;
  tracked_cost_usd: string;
  provider_cost_usd: string;
  /** Theirs minus ours. */
  difference_usd: string;
  /** Percent of ours, 2 places; null when ours is zero. */
  difference_pct: string | null;
  not_compared: { events: number; provider_cost_usd: string };
}

/** GET /v1/reports/provider-cost. */
export interface ProviderCostReport {
  currency: string;
  /** Which of our costs is compared: restated (default) or as given at ingest. */
  basis: 'restated' | 'ingested';
  from: string;
  to: string;
  rows: Array<ProviderCostFigures & { provider: string; model: string }>;
  total: ProviderCostFigures;
}

/** A dimension's or a tag's value, most spent first (a filter suggestion). */
export interface ValueSuggestion {
  /** What the filter takes. */
  value: string;
  cost_usd: string;
  events: number;
}

/** A dimension's value: with what to show (for a project, its name). */
export interface DimensionValue extends ValueSuggestion {
  label: string;
  /** A project's id and name (project only). */
  id?: string;
  name?: string | null;
}

/** GET /v1/reports/dimensions/:dimension/values. */
export interface DimensionValues extends List<DimensionValue> {
  dimension: string;
  q: string;
  from: string;
  to: string;
  has_more: boolean;
}

/** GET /v1/reports/tags/:key/values. */
export interface TagValues extends List<ValueSuggestion> {
  key: string;
  q: string;
  from: string;
  to: string;
  has_more: boolean;
}

/** GET /v1/reports/tags: the tag names of a range. */
export interface TagKeys extends List<{ key: string; cost_usd: string; events: number }> {
  q: string;
  from: string;
  to: string;
  has_more: boolean;
}

/** The measures of a month close (its total, a group, the previous month). */
export interface MonthTotals {
  cost_usd: string;
  events: number;
  images: number;
  unpriced_events: number;
  partial_events: number;
  partial_cost_usd: string;
}

/** A row of a month close by project, team, provider or model. */
export interface MonthGroup extends MonthTotals {
  /** The group ("(none)" for calls without one). */
  key: string;
  /** The project's id and name (by project only). */
  project_id?: string;
  name?: string | null;
  /** A fraction of the month's cost to 4 decimals; null when the month cost nothing. */
  share: string | null;
}

/** A restatement that touches a month; its counts and totals are null under a project filter. */
export interface MonthRestatement {
  id: string;
  reason: string;
  requested_by: string | null;
  created_at: string;
  from: string | null;
  to: string | null;
  provider: string | null;
  model: string | null;
  events_examined: number | null;
  events_changed: number | null;
  before_usd: string | null;
  after_usd: string | null;
  delta_usd: string | null;
  recorded_in_month: boolean;
  range_overlaps_month: boolean;
}

/** A model with calls the month's total leaves out, wholly or in part. */
export interface NotWhollyPricedModel {
  provider: string;
  model: string;
  unpriced_events: number;
  partial_events: number;
  partial_cost_usd: string;
  unpriced_kinds: string[];
  note: string | null;
}

/** GET /v1/reports/month-close. */
export interface MonthClose {
  currency: string;
  month: string;
  tz: string;
  basis: string;
  from: string;
  to: string;
  filters: Record<string, string[]>;
  totals: MonthTotals;
  by_project: MonthGroup[];
  /** Null with a user filter: spend per user is not kept by team. */
  by_team: MonthGroup[] | null;
  by_provider: MonthGroup[];
  by_model: MonthGroup[];
  previous_month: { month: string; from: string; to: string; totals: MonthTotals } | null;
  change: { cost_usd: string; pct: string | null; events: number };
  restatements: MonthRestatement[];
  /** The finance period of the same name (a UTC month, docs/finance.md). */
  period:
    | { status: 'open' }
    | {
        status: 'closed';
        closed_at: string;
        reason: string;
        /** Null in a filtered report: the locked figures are of every project. */
        locked_cost_usd: string | null;
        locked_events: number | null;
      };
  /** Calls of closed months that arrived late and are counted in this month (inside totals). */
  adjustments: {
    events: number;
    cost_usd: string;
    by_month: Array<{ month: string; events: number; cost_usd: string }>;
  };
  not_wholly_priced: {
    complete: boolean;
    unpriced_events: number;
    partial_events: number;
    partial_cost_usd: string;
    note: string | null;
    models: NotWhollyPricedModel[];
  };
}

// --- Events (libs/ingest: events-query.service.ts, restatement.service.ts) ---

/** A stored call, as the events list and the detail show it. */
export interface UsageEvent {
  event_id: string;
  project_id: string;
  timestamp: string;
  provider: string;
  model: string;
  operation: string | null;
  /** Tokens by `<kind>_tokens`. */
  usage: Record<string, number>;
  images: number;
  image_size: string | null;
  image_quality: string | null;
  status: 'ok' | 'error';
  latency_ms: number | null;
  /** team, user, feature, environment: those the call has. */
  dimensions: Partial<Record<'team' | 'user' | 'feature' | 'environment', string>>;
  tags: Record<string, string>;
  cost_usd: string | null;
  cost_ingested_usd: string | null;
  restated: boolean;
  priced: boolean;
  pricing: 'priced' | 'partial' | 'unpriced';
  /** Not wholly priced calls only. */
  unpriced_kinds?: string[];
  pricing_note?: string;
  price_version_id: string | null;
  received_at: string;
}

/** GET /v1/events: a page. */
export interface EventsPage extends List<UsageEvent> {
  sort: string;
  next_cursor: string | null;
}

/** GET /v1/events/totals: the selection's totals, measured as the reports measure them. */
export interface EventTotals {
  currency: string;
  from: string | null;
  to: string | null;
  events: number;
  cost_usd: string | null;
  cost_ingested_usd: string | null;
  partial_events: number;
  partial_cost_usd: string | null;
  unpriced_events: number;
  error_events: number;
  images: number;
  /** Tokens by kind. */
  tokens: Record<string, number>;
}

/** A restatement that covered an event; its counts and totals are null for a key limited to projects. */
export interface EventRestatement {
  id: string;
  reason: string;
  requested_by: string | null;
  created_at: string;
  from: string | null;
  to: string | null;
  provider: string | null;
  model: string | null;
  events_examined: number | null;
  events_changed: number | null;
  total_before_usd: string | null;
  total_after_usd: string | null;
}

/** GET /v1/events/:project/:event: the call, its price version and the cost of each unit. */
export interface EventDetail extends UsageEvent {
  price_version: PriceVersion | null;
  discount_pct_applied?: string;
  cost_by_kind: Array<{
    kind: string;
    tokens: number;
    rate_per_million_usd: string | null;
    priced_with: string | null;
    basis: string | null;
    cost_usd: string | null;
  }>;
  cost_per_image: { images: number; rate_usd: string | null; price_key: string | null; cost_usd: string | null } | null;
  cost_per_request: { requests: number; rate_usd: string; cost_usd: string | null } | null;
  cost_breakdown: { total_usd: string; exact: boolean; prices_from: string | null; note: string | null };
  restatements: EventRestatement[];
}

// --- Pricing (libs/pricing: pricing.controller.ts, pricing-refresh.service.ts; coverage: libs/ingest) ---

/** A price version: list prices, an override, or a provider discount. */
export interface PriceVersion {
  id: string;
  provider: string;
  model: string;
  kind: 'list' | 'override' | 'discount';
  source: string;
  /** Where the price comes from (a catalog entry's source, a pulled key); null for overrides. */
  source_ref: string | null;
  effective_from: string;
  effective_to: string | null;
  /** USD per 1M tokens by unit (per_image, per_request: USD each). */
  prices: Record<string, string>;
  /** USD per image by `<quality>/<size>`. */
  image_prices?: Record<string, string>;
  rate_sources: Record<string, string> | null;
  /** A discount's percent off (kind discount only). */
  discount_pct?: string | null;
}

/** A price source and when it last answered. */
export interface PriceSource {
  name: string;
  kind: 'builtin' | 'remote';
  setting: string | null;
  url_configured: boolean;
  last_read: { run_id: string; finished_at: string } | null;
}

/** GET /v1/pricing: every price now, and where it came from. */
export interface Pricing extends List<PriceVersion> {
  currency: string;
  unit: string;
  last_refresh: { run_id: string; finished_at: string; status: string; sources_read: string[] } | null;
  catalog_only: boolean;
  last_remote_refresh: { run_id: string; finished_at: string; sources: string[] } | null;
  sources: PriceSource[];
  freshness_note: string;
  next_refresh: string | null;
}

/** A model in the coverage of a period: its calls without a price, or with part of one. */
export interface CoverageModel {
  provider: string;
  model: string;
  events: number;
  tokens: number;
  /** What the partly priced calls were counted at (partial_models only). */
  cost_usd?: string;
  unpriced_kinds: string[];
  first_seen_at: string | null;
}

/** GET /v1/pricing/coverage: how much of a period's usage was priced (every project, before filters). */
export interface Coverage {
  from: string;
  to: string;
  events: { total: number; priced: number; partial: number; unpriced: number; priced_share: string };
  cost_usd: string;
  partial_cost_usd: string;
  tokens: { total: number; in_priced_events: number; priced_share: string };
  unpriced_models: CoverageModel[];
  partial_models: CoverageModel[];
  rate_sources: unknown;
  fallback_kinds: unknown;
}

/** POST /v1/pricing/refresh: the pull's run. */
export interface PricingRun {
  id: string;
  trigger: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  prices_changed: number;
  prices_pending: number;
  /** What each source read, with what a person should know about it. */
  sources: Array<{ source: string; status: string; error: string | null; notes: string[] }>;
}

/** GET /v1/pricing/pending (a List): a pulled price change held for a decision. */
export interface PendingPrice {
  id: string;
  provider: string;
  model: string;
  source: string;
  source_ref: string | null;
  run_id: string | null;
  current_version_id: string | null;
  /** The proposed prices, by unit (stored JSON). */
  prices: Record<string, unknown>;
  /** Why it was held (stored JSON). */
  reasons: string[];
  status: 'pending' | 'approved' | 'rejected' | 'superseded';
  created_at: string;
  decided_at: string | null;
  version_id: string | null;
}

// --- Budgets and alerts (libs/budgets: budgets.service.ts, alerts.controller.ts) ---

/** What a budget counts: every field optional (none: all spend). */
export interface BudgetScope {
  project?: string;
  provider?: string;
  model?: string;
  team?: string;
  user?: string;
  feature?: string;
  environment?: string;
  /** One tag name and its value. */
  tags?: Record<string, string>;
}

/** A budget's current period, measured. */
export interface BudgetStatus {
  period_start: string;
  period_end: string;
  spent_usd: string;
  remaining_usd: string;
  /** Percent of the amount, one decimal. */
  percent: string;
  forecast_usd: string;
  forecast_percent: string;
  forecast_method: 'weekly_rhythm' | 'linear';
  thresholds_reached: number[];
}

/** GET /v1/budgets (a List; `status` with `with_status=1`), POST and PATCH /v1/budgets. */
export interface Budget {
  id: string;
  name: string;
  amount_usd: string;
  period: 'day' | 'week' | 'month' | 'quarter';
  timezone: string;
  scope: BudgetScope;
  thresholds_pct: number[];
  forecast_alert: boolean;
  webhook_ids: string[];
  created_at: string;
  status?: BudgetStatus;
}

/** GET /v1/alerts (OlderPages): an alert and how its deliveries went. */
export interface Alert {
  id: string;
  type: string;
  budget_id: string | null;
  summary: string;
  /** What the alert recorded when it fired (its kind's own shape). */
  data: Record<string, unknown>;
  created_at: string;
  deliveries: { delivered: number; pending: number; failed: number; retrying: number };
}

// --- Webhooks (libs/webhooks: webhooks.service.ts) ---

/** GET /v1/webhooks (a List), PATCH /v1/webhooks/:id. */
export interface Webhook {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  format: 'standard' | 'slack';
  enabled: boolean;
  disabled_reason: string | null;
  consecutive_failures: number;
  created_at: string;
  updated_at: string;
}

/** POST /v1/webhooks and POST /v1/webhooks/:id/rotate-secret: the signing secret, in clear this once. */
export interface WebhookWithSecret extends Webhook {
  secret: string;
  /** After a rotation: until when the previous secret still signs. */
  previous_secret_valid_until?: string;
}

/** GET /v1/webhooks/:id/deliveries (OlderPages), POST /v1/webhooks/:id/test, POST .../resend. */
export interface WebhookDelivery {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'sending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: string | null;
  created_at: string;
  attempt_log: Array<Record<string, unknown>>;
}
