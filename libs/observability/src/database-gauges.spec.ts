import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Database } from '@tokentally/db';
import type { PricingRefreshService, SourcesState } from '@tokentally/pricing';
import { DATABASE_GAUGES_TTL_MS, DatabaseGauges } from './database-gauges';
import { Metrics } from './metrics';
import { ROLLUP_DELTA_TABLES } from './metrics.sql';

const ROW = {
  ...Object.fromEntries(ROLLUP_DELTA_TABLES.map((table) => [table, '3'])),
  outbox_pending: '2',
  outbox_oldest_age_s: 130.5,
  deliveries_pending: '1',
  deliveries_sending: '0',
  deliveries_retrying: '1',
  deliveries_oldest_age_s: 12,
  deliveries_failed: '4',
  endpoints_healthy: '1',
  endpoints_failing: '0',
  endpoints_disabled: '1',
  recent_events: '10',
  recent_partial: '2',
  recent_unpriced: '3',
};

const SOURCES = {
  last_refresh: { run_id: 'r', finished_at: '2026-11-27T06:00:00.000Z', status: 'partial', sources_read: ['catalog'] },
  catalog_only: true,
  last_remote_refresh: null,
  note: '',
  sources: [
    {
      name: 'catalog',
      kind: 'builtin',
      setting: null,
      url_configured: false,
      last_read: { run_id: 'r', finished_at: '2026-11-27T06:00:00.000Z' },
    },
    { name: 'litellm', kind: 'remote', setting: 'PRICING_LITELLM_URL', url_configured: true, last_read: null },
    { name: 'vercel', kind: 'remote', setting: 'PRICING_VERCEL_URL', url_configured: false, last_read: null },
  ],
} as SourcesState;

function setUp() {
  let fail = false;
  const query = jest.fn(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (fail) throw new Error('connection terminated');
    return [ROW];
  });
  const metrics = new Metrics();
  const database = { kind: 'postgres', poolStats: () => ({ total: 3, idle: 2, waiting: 0, max: 10 }) } as Database;
  const pricing = { sourcesState: async () => SOURCES } as unknown as PricingRefreshService;
  const gauges = new DatabaseGauges(metrics, database, { query } as unknown as DataSource, pricing);
  const scrape = async () => {
    await gauges.refresh();
    return (await metrics.registry.metrics()) + (await gauges.text());
  };
  return { gauges, query, scrape, failNext: (value: boolean) => (fail = value) };
}

describe('DatabaseGauges', () => {
  afterEach(() => jest.restoreAllMocks());

  it('sets every gauge from one read', async () => {
    const { scrape } = setUp();
    const text = await scrape();
    for (const line of [
      'tokentally_rollup_delta_rows{table="usage_rollup_deltas"} 3',
      'tokentally_outbox_pending_events 2',
      'tokentally_outbox_oldest_pending_age_seconds 130.5',
      'tokentally_webhook_deliveries{status="failed"} 4',
      'tokentally_webhook_deliveries_retrying 1',
      'tokentally_webhook_endpoints{state="disabled"} 1',
      'tokentally_usage_events_last_24h{pricing="priced"} 5',
      'tokentally_usage_events_last_24h{pricing="unpriced"} 3',
      `tokentally_pricing_source_last_success_timestamp_seconds{source="catalog"} ${Date.parse('2026-11-27T06:00:00Z') / 1000}`,
      'tokentally_pricing_source_last_success_timestamp_seconds{source="litellm"} 0',
      'tokentally_db_pool_connections{state="busy"} 1',
      'tokentally_db_pool_max_connections 10',
      'tokentally_database_gauges_up 1',
    ])
      expect(text).toContain(line);
    // Neither configured nor read: not listed.
    expect(text).not.toContain('source="vercel"');
  });

  it('reads the database once for concurrent scrapes and not again within the TTL', async () => {
    const { query, scrape } = setUp();
    const now = jest.spyOn(Date, 'now');
    now.mockReturnValue(1_000_000);
    await Promise.all([scrape(), scrape(), scrape()]);
    now.mockReturnValue(1_000_000 + DATABASE_GAUGES_TTL_MS - 1);
    await scrape();
    expect(query).toHaveBeenCalledTimes(1);
    now.mockReturnValue(1_000_000 + DATABASE_GAUGES_TTL_MS + 10);
    await scrape();
    expect(query).toHaveBeenCalledTimes(2);
  });

  it('leaves the database gauges out while the database cannot be read, and says so', async () => {
    const { scrape, failNext } = setUp();
    const now = jest.spyOn(Date, 'now');
    now.mockReturnValue(1_000_000);
    expect(await scrape()).toContain('tokentally_outbox_pending_events 2');
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    failNext(true);
    now.mockReturnValue(2_000_000);
    const down = await scrape();
    expect(down).toContain('tokentally_database_gauges_up 0');
    expect(warned).toHaveBeenCalledWith('database gauges not read: connection terminated');
    expect(down).not.toContain('tokentally_outbox_pending_events');
    // The pool is read from the driver, not the database: still there.
    expect(down).toContain('tokentally_db_pool_max_connections 10');
    failNext(false);
    now.mockReturnValue(3_000_000);
    expect(await scrape()).toContain('tokentally_outbox_pending_events 2');
  });
});
