import { validateCronExpression } from 'cron';
import { z } from 'zod';

/** Log levels accepted in LOG_LEVEL, from the quietest. */
const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const optionalUrl = z.url({ error: 'must be an absolute http(s) URL' }).optional();

/** The environment, one line per setting; parsed once at boot. */
const environmentSchema = z.object({
  // HTTP port of the api process.
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(3000),
  // Interface to listen on; 0.0.0.0 in containers.
  HOST: z.string().min(1).default('127.0.0.1'),
  // PostgreSQL connection string; unset = embedded PostgreSQL under DATA_DIR.
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  // Folder of the embedded database (used only without DATABASE_URL).
  DATA_DIR: z.string().min(1).default('./data'),
  // Connections in the pool for DATABASE_URL (the embedded database always uses one).
  DB_POOL_SIZE: z.coerce.number({ error: 'must be a number' }).int().min(2).max(200).default(10),
  // Admin key to create on an empty database instead of a random one.
  ADMIN_API_KEY: z
    .string()
    .regex(/^tt_[A-Za-z0-9_-]{20,200}$/, 'must look like tt_ followed by at least 20 letters, digits, _ or -')
    .optional(),
  LOG_LEVEL: z
    .enum([...LOG_LEVELS, 'info'], { error: `must be one of ${LOG_LEVELS.join(', ')}` })
    .transform((level) => (level === 'info' ? 'log' : level) as LogLevelName)
    .default('log'),
  // Human-readable logs instead of JSON lines (for a terminal).
  LOG_FORMAT: z.enum(['json', 'pretty'], { error: 'must be json or pretty' }).default('json'),
  // Bearer token Prometheus sends to GET /metrics (an admin API key works too); unset = admin keys only.
  METRICS_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9._~+/=-]{32,256}$/, 'must be 32 to 256 letters, digits or ._~+/=- (openssl rand -hex 32)')
    .optional(),
  // HTTP limits. Whole request (headers and body) must arrive within this time (408 after).
  HTTP_REQUEST_TIMEOUT_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(100)
    .max(3_600_000)
    .default(30_000),
  // Request headers must arrive within this time (at most HTTP_REQUEST_TIMEOUT_MS).
  HTTP_HEADERS_TIMEOUT_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(100)
    .max(3_600_000)
    .default(10_000),
  // An idle keep-alive connection is closed after this time (above a load balancer's 60 s idle timeout).
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(100)
    .max(3_600_000)
    .default(72_000),
  // A connection with no traffic at all in either direction is closed after this time.
  HTTP_IDLE_TIMEOUT_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(100)
    .max(3_600_000)
    .default(120_000),
  // Open connections one client address may hold; 0 = no limit.
  HTTP_MAX_CONNECTIONS_PER_IP: z.coerce.number({ error: 'must be a number' }).int().min(0).max(1_000_000).default(256),
  // Which proxies to believe in X-Forwarded-For: false, true, a hop count, or addresses/CIDRs (comma-separated).
  TRUST_PROXY: z.string().min(1).default('false'),
  // Browser origins allowed to call the API (comma-separated, or *); unset = no CORS.
  CORS_ORIGINS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((o) => o.trim().replace(/\/$/, ''))
        .filter(Boolean),
    )
    .refine(
      (origins) => origins.every((o) => o === '*' || /^https?:\/\/[^/\s]+$/.test(o)),
      'must be * or origins such as https://ops.example.com, comma-separated',
    )
    .optional(),
  // Rate limits: requests per second per API key (by role) or per client address without a valid key.
  RATE_LIMIT_ENABLED: booleanFlag.default(true),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int()
    .min(1)
    .max(3600)
    .default(10),
  RATE_LIMIT_INGEST_PER_SECOND: z.coerce.number({ error: 'must be a number' }).min(0.01).max(1_000_000).default(5000),
  RATE_LIMIT_VIEWER_PER_SECOND: z.coerce.number({ error: 'must be a number' }).min(0.01).max(1_000_000).default(200),
  RATE_LIMIT_ADMIN_PER_SECOND: z.coerce.number({ error: 'must be a number' }).min(0.01).max(1_000_000).default(5000),
  RATE_LIMIT_ANONYMOUS_PER_SECOND: z.coerce.number({ error: 'must be a number' }).min(0.01).max(1_000_000).default(100),
  // Weekly pricing pull (cron, UTC).
  PRICING_CRON: z.string().min(9).default('0 6 * * 1'),
  // How long one price source may take to answer.
  PRICING_TIMEOUT_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(100)
    .max(300_000)
    .default(20_000),
  // Pull prices at start-up when the newest successful pull is older than a week.
  PRICING_REFRESH_ON_START: booleanFlag.default(true),
  PRICING_LITELLM_URL: optionalUrl,
  PRICING_OPENROUTER_URL: optionalUrl,
  PRICING_VERCEL_URL: optionalUrl,
  // Allow webhook URLs on loopback and private networks (tests, private deployments).
  WEBHOOK_ALLOW_PRIVATE: booleanFlag.default(false),
  // An endpoint is disabled after this many failed attempts in a row (across events)...
  WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number({ error: 'must be a number' }).int().min(1).max(10_000).default(20),
  // ...that have gone on for at least this many seconds (a short outage never disables).
  WEBHOOK_DISABLE_AFTER_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int().min(0).default(86_400),
  // Key that encrypts webhook and chart-link secrets at rest: 32 bytes as 64 hex digits or base64. Unset = one is made
  // and kept in the database.
  SECRETS_KEY: z
    .string()
    .trim()
    .refine(
      (v) =>
        /^[0-9a-fA-F]{64}$/.test(v) ||
        (/^[A-Za-z0-9+/_-]{43}=?$/.test(v) &&
          Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64').length === 32),
      'must be 32 bytes as 64 hex digits or base64 (openssl rand -base64 32)',
    )
    .optional(),
  // Smallest day spend of a project or model that can count as an anomaly (USD).
  ANOMALY_MIN_USD: z
    .string()
    .regex(/^\d{1,9}(\.\d{1,6})?$/, 'must be a decimal amount such as "5.00"')
    .default('5.00'),
  // Base URL used in links inside alerts; defaults to http://HOST:PORT.
  PUBLIC_URL: optionalUrl,
  // Whole months of raw events kept before the current one; older months are dropped, their rollups kept.
  // Unset = raw events are kept for ever.
  RETENTION_MONTHS: z.coerce.number({ error: 'must be a whole number of months' }).int().min(1).max(1200).optional(),
  // Whether the api process also runs the background jobs (one process is the whole product).
  RUN_JOBS: booleanFlag.default(true),
  // Reconciliation with OpenAI's bill (docs/reconciliation.md). An organization admin key (sk-admin-...); unset = off.
  OPENAI_ADMIN_KEY: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{20,300}$/, 'must be an OpenAI admin key (sk-admin-..., letters, digits, _ and -)')
    .optional(),
  // Base URL of OpenAI's API for the admin key: https, or http to this machine only (a local proxy, tests).
  OPENAI_ADMIN_BASE_URL: z
    .string()
    .default('https://api.openai.com/v1')
    .refine(
      isAdminBaseUrl,
      'must be an https:// URL (http:// only to localhost) without credentials, query or fragment',
    ),
  // Percent of the bill a day's difference may reach before it is drift (a reconciliation.drift webhook).
  RECONCILE_THRESHOLD_PCT: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,4})?$/, 'must be a percentage such as "2" or "0.5"')
    .refine((v) => Number(v) <= 100, 'must be at most 100')
    .default('2'),
  // When the daily reconciliation runs (cron, UTC), and how many days before today it reconciles again.
  RECONCILE_CRON: z
    .string()
    .refine((v) => validateCronExpression(v).valid, 'must be a cron expression such as "30 4 * * *"')
    .default('30 4 * * *'),
  RECONCILE_DAYS: z.coerce.number({ error: 'must be a whole number of days' }).int().min(1).max(31).default(3),
  // How long one request to OpenAI's admin API may take.
  RECONCILE_TIMEOUT_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(100)
    .max(300_000)
    .default(30_000),
});

/** An https URL, or http to a loopback host; no user, password, query or fragment (the admin key goes there). */
function isAdminBaseUrl(value: string): boolean {
  try {
    const url = new URL(value);
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    return (
      (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) &&
      !url.username &&
      !url.password &&
      !url.search &&
      !url.hash
    );
  } catch {
    return false;
  }
}

export type AppConfig = Readonly<{
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  dbPoolSize: number;
  adminApiKey: string | undefined;
  logLevel: LogLevelName;
  logFormat: 'json' | 'pretty';
  /** Bearer token accepted at GET /metrics besides an admin key. */
  metricsToken: string | undefined;
  http: HttpLimitsConfig;
  pricingCron: string;
  pricingTimeoutMs: number;
  pricingRefreshOnStart: boolean;
  pricingSources: { litellm?: string; openrouter?: string; vercel?: string };
  webhookAllowPrivate: boolean;
  webhookDisableAfterFailures: number;
  webhookDisableAfterSeconds: number;
  secretsKey: string | undefined;
  anomalyMinUsd: string;
  publicUrl: string;
  runJobs: boolean;
  /** Whole months of raw events kept before the current one (undefined: all). */
  retentionMonths: number | undefined;
  reconciliation: ReconciliationConfig;
}>;

/** Reconciliation with OpenAI's bill (libs/reconciliation, docs/reconciliation.md). */
export interface ReconciliationConfig {
  /** OPENAI_ADMIN_KEY; undefined = reconciliation is off (no job, POST /v1/reconciliation/run is 409). */
  adminKey: string | undefined;
  /** OPENAI_ADMIN_BASE_URL without a trailing slash. */
  baseUrl: string;
  /** RECONCILE_THRESHOLD_PCT, a decimal string. */
  thresholdPct: string;
  cron: string;
  /** Days before today the daily job reconciles (again). */
  days: number;
  timeoutMs: number;
}

/** HTTP server limits: timeouts, connections per client, rate limits, CORS. */
export interface HttpLimitsConfig {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
  /** 0 = no limit. */
  maxConnectionsPerIp: number;
  trustProxy: boolean | number | string[];
  /** Empty = CORS off (browsers on other origins cannot read answers). */
  corsOrigins: string[];
  rateLimit: {
    enabled: boolean;
    windowSeconds: number;
    perSecond: { ingest: number; viewer: number; admin: number; anonymous: number };
  };
}

function parseTrustProxy(value: string): boolean | number | string[] {
  const v = value.trim().toLowerCase();
  if (['false', '0', 'no'].includes(v)) return false;
  if (['true', 'yes'].includes(v)) return true;
  if (/^\d+$/.test(v)) return Number(v);
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses the environment into a typed config, or throws naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined>): AppConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const displayHost = e.HOST === '0.0.0.0' || e.HOST === '::' ? 'localhost' : e.HOST;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    dbPoolSize: e.DB_POOL_SIZE,
    adminApiKey: e.ADMIN_API_KEY,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    metricsToken: e.METRICS_TOKEN,
    http: {
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: Math.min(e.HTTP_HEADERS_TIMEOUT_MS, e.HTTP_REQUEST_TIMEOUT_MS),
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      idleTimeoutMs: e.HTTP_IDLE_TIMEOUT_MS,
      maxConnectionsPerIp: e.HTTP_MAX_CONNECTIONS_PER_IP,
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
      corsOrigins: e.CORS_ORIGINS ?? [],
      rateLimit: {
        enabled: e.RATE_LIMIT_ENABLED,
        windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
        perSecond: {
          ingest: e.RATE_LIMIT_INGEST_PER_SECOND,
          viewer: e.RATE_LIMIT_VIEWER_PER_SECOND,
          admin: e.RATE_LIMIT_ADMIN_PER_SECOND,
          anonymous: e.RATE_LIMIT_ANONYMOUS_PER_SECOND,
        },
      },
    },
    pricingCron: e.PRICING_CRON,
    pricingTimeoutMs: e.PRICING_TIMEOUT_MS,
    pricingRefreshOnStart: e.PRICING_REFRESH_ON_START,
    pricingSources: {
      litellm: e.PRICING_LITELLM_URL,
      openrouter: e.PRICING_OPENROUTER_URL,
      vercel: e.PRICING_VERCEL_URL,
    },
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
    webhookDisableAfterFailures: e.WEBHOOK_DISABLE_AFTER_FAILURES,
    webhookDisableAfterSeconds: e.WEBHOOK_DISABLE_AFTER_SECONDS,
    secretsKey: e.SECRETS_KEY,
    anomalyMinUsd: e.ANOMALY_MIN_USD,
    publicUrl: (e.PUBLIC_URL ?? `http://${displayHost}:${e.PORT}`).replace(/\/$/, ''),
    runJobs: e.RUN_JOBS,
    retentionMonths: e.RETENTION_MONTHS,
    reconciliation: {
      adminKey: e.OPENAI_ADMIN_KEY,
      baseUrl: e.OPENAI_ADMIN_BASE_URL.replace(/\/+$/, ''),
      thresholdPct: e.RECONCILE_THRESHOLD_PCT,
      cron: e.RECONCILE_CRON,
      days: e.RECONCILE_DAYS,
      timeoutMs: e.RECONCILE_TIMEOUT_MS,
    },
  });
}

/** Injection token of the AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** For a process entry point: the config, or a clear message and exit code 2. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv, processName: string): AppConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${processName} cannot start. ${error.message}`);
    process.exit(2);
  }
}
