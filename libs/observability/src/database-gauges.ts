import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Database } from '@tokentally/db';
import { PricingRefreshService } from '@tokentally/pricing';
import { Gauge, Registry } from 'prom-client';
import { Metrics } from './metrics';
import { DELTA_COUNT_CAP, ROLLUP_DELTA_TABLES, SQL } from './metrics.sql';

/**
 * The database is read at most once per this many milliseconds, whatever the
 * number of scrapers: a scrape inside the window answers the values read at
 * its start, and scrapes that arrive while a read runs wait for that read.
 */
export const DATABASE_GAUGES_TTL_MS = 10_000;

type GaugeRow = Record<string, string | number | null>;

/**
 * Gauges read from the database when /metrics is scraped (at most once per
 * DATABASE_GAUGES_TTL_MS): rollup delta backlog, webhook outbox and delivery
 * queues, pricing freshness per source, events not wholly priced, plus the
 * connection pool (read from the driver, no query). They describe the whole
 * cluster's database, so any api replica serves them; the worker has no HTTP
 * port and needs not.
 */
@Injectable()
export class DatabaseGauges {
  private readonly logger = new Logger(DatabaseGauges.name);
  /** The gauges read with SQL: served only while the last read succeeded (left out rather than shown stale). */
  private readonly registry = new Registry();
  private lastReadOk = false;
  private readAt = 0;
  private reading: Promise<void> | null = null;

  private readonly up: Gauge;
  private readonly readSeconds: Gauge;
  private readonly deltaRows: Gauge<'table'>;
  private readonly outboxPending: Gauge;
  private readonly outboxOldest: Gauge;
  private readonly deliveries: Gauge<'status'>;
  private readonly deliveriesRetrying: Gauge;
  private readonly deliveriesOldest: Gauge;
  private readonly endpoints: Gauge<'state'>;
  private readonly recentEvents: Gauge<'pricing'>;
  private readonly pricingSourceSuccess: Gauge<'source'>;
  private readonly pricingLastRefresh: Gauge;
  /** Labelled gauges read with SQL: emptied before each read, so a label that is gone (a source) goes too. */
  private readonly labelled: Gauge<string>[];

  constructor(
    @Inject(Metrics) metrics: Metrics,
    @Inject(Database) private readonly database: Database,
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(PricingRefreshService) private readonly pricing: PricingRefreshService,
  ) {
    const registers = [metrics.registry];
    const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers: [this.registry] });

    new Gauge({
      name: 'tokentally_database_info',
      help: 'The database this process uses (kind: postgres for DATABASE_URL, embedded for PGlite); always 1.',
      labelNames: ['kind'] as const,
      registers,
    }).set({ kind: database.kind }, 1);
    const pool = () => database.poolStats();
    new Gauge({
      name: 'tokentally_db_pool_connections',
      help: 'Connections of the database pool, by state (busy: running a query or held by a transaction).',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const stats = pool();
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'busy' }, stats.total - stats.idle);
      },
    });
    new Gauge({
      name: 'tokentally_db_pool_max_connections',
      help: 'Size of the database pool (DB_POOL_SIZE; 1 for the embedded database, which has one session).',
      registers,
      collect() {
        this.set(pool().max);
      },
    });
    new Gauge({
      name: 'tokentally_db_pool_waiting_queries',
      help: 'Queries waiting for a free connection of the pool (for the embedded database: its queue).',
      registers,
      collect() {
        this.set(pool().waiting);
      },
    });

    this.up = new Gauge({
      name: 'tokentally_database_gauges_up',
      help: '1 when the last read of the database gauges succeeded; 0 when it failed (they are then left out).',
      registers,
    });
    this.readSeconds = new Gauge({
      name: 'tokentally_database_gauges_read_seconds',
      help: 'How long the last read of the database gauges took.',
      registers,
    });
    this.deltaRows = gauge(
      'tokentally_rollup_delta_rows',
      `Rollup deltas not yet folded into the hourly rollups by the compactor, per delta table (counted up to ${DELTA_COUNT_CAP}).`,
      ['table'],
    );
    this.outboxPending = gauge(
      'tokentally_outbox_pending_events',
      'Outbox events (alerts, pricing and model notices) not yet turned into webhook deliveries.',
    );
    this.outboxOldest = gauge(
      'tokentally_outbox_oldest_pending_age_seconds',
      'Age of the oldest outbox event not yet turned into deliveries; 0 when none waits.',
    );
    this.deliveries = gauge(
      'tokentally_webhook_deliveries',
      'Webhook deliveries by status: pending (due or waiting for a retry), sending (claimed by a sender), failed (retries exhausted; stays until resent).',
      ['status'],
    );
    this.deliveriesRetrying = gauge(
      'tokentally_webhook_deliveries_retrying',
      'Pending webhook deliveries that have failed at least once and wait for their next attempt.',
    );
    this.deliveriesOldest = gauge(
      'tokentally_webhook_delivery_oldest_pending_age_seconds',
      'Age of the oldest webhook delivery pending or sending; 0 when none.',
    );
    this.endpoints = gauge(
      'tokentally_webhook_endpoints',
      'Webhook endpoints by state: healthy (enabled, last attempt succeeded), failing (enabled, failing in a row), disabled.',
      ['state'],
    );
    this.recentEvents = gauge(
      'tokentally_usage_events_last_24h',
      'Events stamped in the last 24 hours (current UTC hour and the 23 before), by pricing state, from the rollups.',
      ['pricing'],
    );
    this.pricingSourceSuccess = gauge(
      'tokentally_pricing_source_last_success_timestamp_seconds',
      'When each price source was last read in a successful refresh (Unix time); 0 for a configured source never read. The built-in catalog and every configured source are listed.',
      ['source'],
    );
    this.pricingLastRefresh = gauge(
      'tokentally_pricing_last_refresh_timestamp_seconds',
      'When the last successful price refresh finished (Unix time); 0 before the first one.',
    );
    this.labelled = [
      this.deltaRows,
      this.deliveries,
      this.endpoints,
      this.recentEvents,
      this.pricingSourceSuccess,
    ] as Gauge<string>[];
  }

  /** The gauges read with SQL in the text format, or nothing when the last read failed. */
  async text(): Promise<string> {
    return this.lastReadOk ? this.registry.metrics() : '';
  }

  /** Brings the gauges up to date unless they were read less than DATABASE_GAUGES_TTL_MS ago. */
  async refresh(): Promise<void> {
    if (this.reading) return this.reading;
    if (Date.now() - this.readAt < DATABASE_GAUGES_TTL_MS) return;
    this.reading = this.read().finally(() => {
      this.readAt = Date.now();
      this.reading = null;
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    const started = performance.now();
    try {
      const [[row], sources] = await Promise.all([
        this.db.query(SQL.gauges, [DELTA_COUNT_CAP]) as Promise<GaugeRow[]>,
        this.pricing.sourcesState(),
      ]);
      for (const gauge of this.labelled) gauge.reset();
      const n = (column: string) => Number(row[column] ?? 0);
      for (const table of ROLLUP_DELTA_TABLES) this.deltaRows.set({ table }, n(table));
      this.outboxPending.set(n('outbox_pending'));
      this.outboxOldest.set(n('outbox_oldest_age_s'));
      this.deliveries.set({ status: 'pending' }, n('deliveries_pending'));
      this.deliveries.set({ status: 'sending' }, n('deliveries_sending'));
      this.deliveries.set({ status: 'failed' }, n('deliveries_failed'));
      this.deliveriesRetrying.set(n('deliveries_retrying'));
      this.deliveriesOldest.set(n('deliveries_oldest_age_s'));
      this.endpoints.set({ state: 'healthy' }, n('endpoints_healthy'));
      this.endpoints.set({ state: 'failing' }, n('endpoints_failing'));
      this.endpoints.set({ state: 'disabled' }, n('endpoints_disabled'));
      const partial = n('recent_partial');
      const unpriced = n('recent_unpriced');
      this.recentEvents.set({ pricing: 'priced' }, n('recent_events') - partial - unpriced);
      this.recentEvents.set({ pricing: 'partial' }, partial);
      this.recentEvents.set({ pricing: 'unpriced' }, unpriced);
      for (const source of sources.sources) {
        if (source.kind !== 'builtin' && !source.url_configured && !source.last_read) continue;
        this.pricingSourceSuccess.set({ source: source.name }, unixSeconds(source.last_read?.finished_at));
      }
      if (sources.last_refresh) this.pricingLastRefresh.set(unixSeconds(sources.last_refresh.finished_at));
      this.lastReadOk = true;
      this.up.set(1);
    } catch (error) {
      this.lastReadOk = false;
      this.up.set(0);
      this.logger.warn(`database gauges not read: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.readSeconds.set((performance.now() - started) / 1000);
    }
  }
}

function unixSeconds(iso: string | undefined): number {
  return iso ? Date.parse(iso) / 1000 : 0;
}
