import { ALERT_EVENT_TYPES, BudgetPeriod, Decimal, DomainEventType, periodBounds } from '@tokentally/core';

/**
 * The demo's data, written through the public HTTP API of a running service
 * (so it is priced, rolled up and alerted on like real traffic): gpt-image-2
 * usage from the first day of last month until now across three projects,
 * both providers, several teams, users, features and customer tiers, with a
 * weekly rhythm, growth, a few failed calls and a few unpriced and partly
 * priced ones; today, a spike in one project that the anomaly rule flags;
 * two budgets (one already over its amount, one forecast to go over); a
 * webhook to an address nobody listens on, so failing deliveries show.
 *
 * `npm run demo` (demo.ts) starts the service and calls this; the e2e test
 * calls it against a test app with fewer calls a day.
 */
export interface DemoSeedOptions {
  /** Where the service answers, e.g. http://127.0.0.1:3000. */
  baseUrl: string;
  /** An admin key of that service. */
  adminKey: string;
  /** Calls on a weekday at the end of the range, all projects together (default 260). */
  callsPerDay?: number;
  /** The webhook the alerts go to; by default one nobody listens on (the service needs WEBHOOK_ALLOW_PRIVATE=true). */
  webhookUrl?: string;
  now?: Date;
  log?: (line: string) => void;
}

export interface DemoBudget {
  id: string;
  name: string;
  amount_usd: string;
  period: BudgetPeriod;
  timezone: string;
}

export interface DemoSeedResult {
  projects: Array<{ id: string; name: string }>;
  /** Events sent, and how many the service stored (replays of an earlier run are duplicates). */
  events: { sent: number; accepted: number; duplicates: number; rejected: number };
  /** First instant of the data: the first day of last month, UTC. */
  from: Date;
  /** The project whose spend spikes today. */
  spikeProject: { id: string; name: string };
  budgets: { crossed: DemoBudget; forecast: DemoBudget };
  webhook: { id: string; url: string };
  /** A viewer key made for this run (shown once). */
  viewerKey: string;
}

/** The parts of the service's answers that the demo reads. */
interface Listed<T> {
  data: T[];
}
interface Created {
  id: string;
}
interface ProjectAnswer extends Created {
  name: string;
}
interface WebhookAnswer extends Created {
  url: string;
}
interface KeyAnswer extends Created {
  key: string;
}
interface BudgetAnswer extends Created {
  name: string;
}
interface BudgetStatusAnswer {
  spent_usd: string;
  forecast_usd: string;
}
interface IngestAnswer {
  accepted: number;
  duplicates: number;
  rejected: unknown[];
}

/** What the demo webhook receives: every alert, and the first sight of a model without a price. */
const DEMO_WEBHOOK_EVENTS: DomainEventType[] = [...ALERT_EVENT_TYPES, 'model.unpriced'];

export const DEMO_WEBHOOK_URL = 'http://127.0.0.1:9/tokentally-demo';
export const DEMO_PROJECTS = ['storefront', 'mobile-app', 'marketing-site'] as const;
const PROJECT_SHARE = [0.5, 0.3, 0.2];
const SPIKE_PROJECT = 2; // marketing-site
const TEAMS = ['growth', 'core', 'brand', 'search'];
const FEATURES = ['avatars', 'product-shots', 'banners', 'thumbnails', 'edits'];
const TIERS: Array<[string, number]> = [
  ['free', 0.5],
  ['pro', 0.35],
  ['enterprise', 0.15],
];
const SIZES: Array<[string, number]> = [
  ['1024x1024', 1],
  ['1024x1536', 1.5],
  ['1536x1024', 1.49],
];
const QUALITY: Record<string, number> = { low: 272, medium: 1056, high: 4160 };
/** A gateway nobody has prices for: its calls are stored unpriced (never $0). */
const UNPRICED_PROVIDER = 'acme-gateway';
const DAY_MS = 86_400_000;
const BATCH = 1000;

/** Zones to put a daily budget in when the month and the week have barely started (or nearly ended). */
const DAY_ZONES = [
  'UTC',
  'Europe/Berlin',
  'Asia/Dubai',
  'Asia/Kolkata',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Pacific/Auckland',
  'America/Sao_Paulo',
  'America/New_York',
  'America/Chicago',
  'America/Los_Angeles',
  'Pacific/Honolulu',
];

export async function seedDemo(options: DemoSeedOptions): Promise<DemoSeedResult> {
  const api = new DemoApi(options.baseUrl, options.adminKey);
  const log = options.log ?? (() => undefined);
  const now = options.now ?? new Date();
  const callsPerDay = options.callsPerDay ?? 260;
  const webhookUrl = options.webhookUrl ?? DEMO_WEBHOOK_URL;

  // The webhook first: alerts and model.unpriced events are fanned out to the endpoints that exist when they fire.
  const webhooks = (await api.get<Listed<WebhookAnswer>>('/v1/webhooks')).data;
  const webhook =
    webhooks.find((w) => w.url === webhookUrl) ??
    (await api.post<WebhookAnswer>('/v1/webhooks', {
      url: webhookUrl,
      events: DEMO_WEBHOOK_EVENTS,
      description: 'Demo: nobody listens at this address, so deliveries fail and are retried',
    }));

  const existing = (await api.get<Listed<ProjectAnswer>>('/v1/projects')).data ?? [];
  const projects: Array<{ id: string; name: string }> = [];
  for (const name of DEMO_PROJECTS)
    projects.push(existing.find((p) => p.name === name) ?? (await api.post<ProjectAnswer>('/v1/projects', { name })));

  // Usage, one ingest key per project (revoked when done).
  const from = firstDayOfLastMonth(now);
  const events = { sent: 0, accepted: 0, duplicates: 0, rejected: 0 };
  for (const [p, project] of projects.entries()) {
    const key = await api.post<KeyAnswer>('/v1/keys', {
      name: `demo ingest ${project.name}`,
      role: 'ingest',
      project_id: project.id,
    });
    const ingest = api.as(key.key);
    const batch = demoEvents(p, from, now, callsPerDay);
    for (let i = 0; i < batch.length; i += BATCH) {
      const answer = await ingest.post<IngestAnswer>('/v1/events', { events: batch.slice(i, i + BATCH) }, 202);
      events.accepted += answer.accepted;
      events.duplicates += answer.duplicates;
      events.rejected += answer.rejected.length;
    }
    events.sent += batch.length;
    await api.delete(`/v1/keys/${key.id}`);
    log(`  ${project.name}: ${batch.length} calls`);
  }

  // Budgets, sized from what was just stored: one already past its amount, one forecast to pass it.
  const { period, timezone } = demoBudgetPeriod(now);
  const crossed = await upsertBudget(
    api,
    'Storefront budget',
    { project: projects[0].id },
    period,
    timezone,
    (status) => {
      // 80% of the spend so far: the 50, 80 and 100% thresholds are all crossed.
      const amount = Decimal.parse(status.spent_usd).multiply(Decimal.parse('0.8')).divide(Decimal.fromInteger(1), 2);
      return amount.compare(Decimal.parse('0.01')) < 0 ? Decimal.parse('0.01') : amount;
    },
  );
  const forecast = await upsertBudget(api, 'Growth team budget', { team: 'growth' }, period, timezone, (status) => {
    // Halfway between the spend so far and the month-end forecast: not reached yet, forecast to be.
    const spent = Decimal.parse(status.spent_usd);
    const amount = spent.add(Decimal.parse(status.forecast_usd)).divideBy(2, 2);
    if (amount.compare(spent) <= 0)
      log(
        `  (the forecast of ${status.forecast_usd} is too close to the spend of ${status.spent_usd} for a forecast alert)`,
      );
    return amount;
  });

  const viewer = await api.post<KeyAnswer>('/v1/keys', {
    name: `demo viewer ${now.toISOString().slice(0, 16)}`,
    role: 'viewer',
  });
  return {
    projects,
    events,
    from,
    spikeProject: projects[SPIKE_PROJECT],
    budgets: { crossed, forecast },
    webhook: { id: webhook.id, url: webhook.url },
    viewerKey: viewer.key,
  };
}

/**
 * The calls of one project from `from` until a minute ago (today's spread over
 * the hours already gone), and today's spike for the spike project. Event ids
 * are derived from the day and the call's number, so a second run the same
 * day stores only what is new.
 */
export function demoEvents(
  projectIndex: number,
  from: Date,
  now: Date,
  callsPerDay: number,
): Array<Record<string, unknown>> {
  const rand = random(20261127 + projectIndex);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  const weighted = (list: Array<[string, number]>) => {
    let r = rand();
    for (const [value, weight] of list) if ((r -= weight) < 0) return value;
    return list[list.length - 1][0];
  };
  const days = Math.ceil((now.getTime() - from.getTime()) / DAY_MS);
  const todayStart = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const events: Array<Record<string, unknown>> = [];
  const call = (id: string, at: number, spike: boolean) => {
    const r = rand();
    // A few calls through a gateway without prices, a few on gpt-image-1 with text output (no rate: partly priced),
    // some on the mini model.
    const provider = r < 0.004 ? UNPRICED_PROVIDER : rand() < 0.68 ? 'openai' : 'vercel';
    const model =
      provider !== 'openai' ? 'gpt-image-2' : r > 0.994 ? 'gpt-image-1' : r > 0.92 ? 'gpt-image-1-mini' : 'gpt-image-2';
    const quality = spike ? 'high' : rand() < 0.55 ? 'high' : rand() < 0.7 ? 'medium' : 'low';
    const [size, sizeFactor] = spike ? SIZES[0] : pick(SIZES);
    const edit = !spike && rand() < 0.3;
    const failed = !spike && rand() < 0.02;
    events.push({
      event_id: id,
      timestamp: new Date(at).toISOString(),
      provider,
      model,
      operation: edit ? 'images.edit' : 'images.generate',
      usage: {
        input_text_tokens: failed ? 0 : 40 + Math.floor(rand() * 160),
        input_image_tokens: failed || !edit ? 0 : 1290,
        output_image_tokens: failed ? 0 : Math.round(QUALITY[quality] * sizeFactor),
        output_text_tokens: model === 'gpt-image-1' && !failed ? 60 + Math.floor(rand() * 80) : 0,
      },
      images: failed ? 0 : 1,
      image_size: size,
      image_quality: quality,
      status: failed ? 'error' : 'ok',
      latency_ms: failed
        ? 300 + Math.floor(rand() * 29_000)
        : Math.round(
            (quality === 'high' ? 9000 : quality === 'medium' ? 6000 : 3500) * (0.7 + rand() * 0.8) * sizeFactor,
          ),
      dimensions: {
        team: spike ? 'brand' : pick(TEAMS),
        user: `u_${Math.floor(rand() * 60)}`,
        feature: spike ? 'banners' : pick(FEATURES),
        environment: rand() < 0.9 ? 'prod' : 'staging',
      },
      tags: {
        customer_tier: weighted(TIERS),
        campaign: spike
          ? 'launch-day'
          : at > now.getTime() - 20 * DAY_MS && at < now.getTime() - 6 * DAY_MS
            ? 'spring-sale'
            : 'evergreen',
      },
    });
  };

  for (let day = 0; day < days; day++) {
    const dayStart = from.getTime() + day * DAY_MS;
    const date = new Date(dayStart).toISOString().slice(0, 10);
    const weekday = new Date(dayStart).getUTCDay();
    const rhythm = weekday === 0 || weekday === 6 ? 0.45 : 1;
    const growth = 0.6 + 0.4 * ((day + 1) / days);
    const calls = Math.round(callsPerDay * PROJECT_SHARE[projectIndex] * rhythm * growth * (0.85 + rand() * 0.3));
    for (let i = 0; i < calls; i++) {
      const at = dayStart + Math.floor(rand() * DAY_MS);
      if (at > now.getTime() - 60_000) continue;
      call(`demo-${date}-${projectIndex}-${i}`, at, false);
    }
  }
  if (projectIndex === SPIKE_PROJECT) {
    // Today: several days' worth of high-quality banners in one project, far above its 28-day median and above the
    // model's too.
    const date = new Date(todayStart).toISOString().slice(0, 10);
    const window = Math.max(0, now.getTime() - 5_000 - todayStart);
    const calls = Math.max(100, Math.round(callsPerDay * 3.5));
    for (let i = 0; i < calls; i++) call(`demo-${date}-spike-${i}`, todayStart + Math.floor(rand() * window), true);
  }
  return events;
}

/**
 * A period in which both demo budgets can fire: between 10% and 95% gone (the
 * forecast alert waits for 5% of the period; near its end the forecast is the
 * spend). The month in UTC most days; the week, or a day in a zone where it
 * is day time, in the first and last days of a month.
 */
export function demoBudgetPeriod(now: Date): { period: BudgetPeriod; timezone: string } {
  const candidates: Array<{ period: BudgetPeriod; timezone: string }> = [
    { period: 'month', timezone: 'UTC' },
    { period: 'week', timezone: 'UTC' },
    ...DAY_ZONES.map((timezone) => ({ period: 'day' as const, timezone })),
  ];
  const gone = ({ period, timezone }: { period: BudgetPeriod; timezone: string }) => {
    const { start, end } = periodBounds(period, timezone, now);
    return (now.getTime() - start.getTime()) / (end.getTime() - start.getTime());
  };
  return candidates.find((c) => gone(c) >= 0.1 && gone(c) <= 0.95) ?? candidates[0];
}

export function firstDayOfLastMonth(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
}

/** Creates the budget, or updates the one of that name from an earlier run, and sizes its amount from its status. */
async function upsertBudget(
  api: DemoApi,
  name: string,
  scope: Record<string, string>,
  period: BudgetPeriod,
  timezone: string,
  amountOf: (status: BudgetStatusAnswer) => Decimal,
): Promise<DemoBudget> {
  const budgets = (await api.get<Listed<BudgetAnswer>>('/v1/budgets')).data;
  // A huge amount first, so no threshold fires before the real amount is set.
  const settings = { period, timezone, scope, amount_usd: '100000000.00' };
  const found = budgets.find((b) => b.name === name);
  const budget = found
    ? await api.request<BudgetAnswer>('PATCH', `/v1/budgets/${found.id}`, settings)
    : await api.post<BudgetAnswer>('/v1/budgets', { name, ...settings });
  const status = await api.get<BudgetStatusAnswer>(`/v1/budgets/${budget.id}/status`);
  const amount = amountOf(status).toFixedString(2);
  await api.request('PATCH', `/v1/budgets/${budget.id}`, { amount_usd: amount });
  return { id: budget.id, name, amount_usd: amount, period, timezone };
}

/** Deterministic pseudo-random numbers (mulberry32): the same demo every time. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON over HTTP with a key; any unexpected status stops the demo with the service's answer. */
class DemoApi {
  constructor(
    private readonly baseUrl: string,
    private readonly key: string,
  ) {}

  as(key: string): DemoApi {
    return new DemoApi(this.baseUrl, key);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown, expect?: number): Promise<T> {
    return this.request<T>('POST', path, body, expect);
  }

  delete(path: string): Promise<unknown> {
    return this.request('DELETE', path);
  }

  /** The answer's JSON, as the caller says it is (null for an empty answer). */
  async request<T = unknown>(method: string, path: string, body?: unknown, expect?: number): Promise<T> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (expect ? response.status !== expect : !response.ok)
      throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : null) as T;
  }
}
