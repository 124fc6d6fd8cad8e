import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, loadConfig } from '@tokentally/common';
import { createApp } from '../../apps/api/src/app';
import { TEST_ADMIN_KEY } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { FakePriceSources, startFakePriceSources } from '../fakes/price-sources';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient, HttpResponse } from '../support/http';

/** One sample of the Prometheus text format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Parses the Prometheus text exposition format 0.0.4, failing on any line that is not valid in it. */
function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      expect(meta[2]).toMatch(METRIC_NAME);
      (meta[1] === 'TYPE' ? types : help).set(meta[2], meta[3]);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const labelText = sample[2] ?? '';
    const pairs = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
    let consumed = 0;
    for (let m = pairs.exec(labelText); m; m = pairs.exec(labelText)) {
      labels[m[1]] = m[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      consumed = pairs.lastIndex;
    }
    if (consumed !== labelText.length) throw new Error(`bad labels: ${JSON.stringify(line)}`);
    // Go's ParseFloat, which Prometheus uses: NaN and Inf in any case.
    const raw = sample[3].toLowerCase();
    const value = raw === '+inf' || raw === 'inf' ? Infinity : raw === '-inf' ? -Infinity : Number(raw);
    if (raw !== 'nan' && Number.isNaN(value)) throw new Error(`bad value: ${JSON.stringify(line)}`);
    samples.push({ name: sample[1], labels, value });
  }
  return { types, help, samples };
}

/** The value of one series, or undefined when absent. Labels not named are not compared. */
function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  return exposition.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  )?.value;
}

/** The family a sample belongs to (histogram samples carry _bucket, _sum, _count). */
function familyOf(exposition: Exposition, sampleName: string): string | undefined {
  if (exposition.types.has(sampleName)) return sampleName;
  const base = sampleName.replace(/_(bucket|sum|count)$/, '');
  return exposition.types.has(base) ? base : undefined;
}

const METRICS_TOKEN = `mt_${randomUUID().replace(/-/g, '')}_observability`;

describe('observability: GET /metrics and structured logs', () => {
  let app: NestFastifyApplication;
  let database: TestDatabase;
  let url: string;
  let admin: HttpClient;
  let ingest: HttpClient;
  let ingestKey: string;
  let projectId: string;
  let db: DataSource;
  let sources: FakePriceSources;
  const lines: string[] = [];
  const REFRESH_REQUEST_ID = 'pricing-refresh.trace_01';

  const scrape = async (client: HttpClient = admin.as(METRICS_TOKEN)) => {
    const res = await client.get('/metrics');
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
    return parseExposition(res.text);
  };
  const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    database = await createTestDatabase();
    sources = await startFakePriceSources();
    sources.modes.litellm = 'error500';
    const config = loadConfig({
      ...database.env,
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      METRICS_TOKEN,
      LOG_LEVEL: 'debug',
      PORT: '0',
      // Nothing moves under the test: the outbox, the deliveries and the rollup deltas stay as written.
      RUN_JOBS: 'false',
      PRICING_REFRESH_ON_START: 'false',
      // Two configured sources: Vercel answers, LiteLLM fails (configured, never read).
      PRICING_LITELLM_URL: sources.urls.litellm,
      PRICING_VERCEL_URL: sources.urls.vercel,
      // The webhook of the delivery gauges points at a loopback port nobody listens on.
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    const logger = createLogger(config, { destination: { write: (line: string) => void lines.push(line) } });
    ({ app } = await createApp(config, logger));
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    admin = new HttpClient(url, TEST_ADMIN_KEY);
    db = app.get(DataSource);
    ({ client: ingest, projectId, key: ingestKey } = await projectWithIngestKey(admin));

    // Before the first scrape (the database gauges are then cached for 10 s): a price refresh (the catalog and
    // Vercel are read, LiteLLM fails), events (one of a model without a price), an outbox event waiting
    // for two minutes, and deliveries: one pending after a failed attempt, one failed for good.
    const refresh = await admin.request('POST', '/v1/pricing/refresh', undefined, {
      headers: { 'x-request-id': REFRESH_REQUEST_ID },
    });
    expect(refresh.status).toBe(201);
    expect(refresh.headers.get('x-request-id')).toBe(REFRESH_REQUEST_ID);
    const stored = await ingest.post('/v1/events', {
      events: [usageEvent(), usageEvent(), usageEvent({ model: 'mystery-image-model' })],
    });
    expect(stored.body).toMatchObject({ accepted: 3, duplicates: 0, rejected: [] });
    const webhook = await admin.post('/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['model.unpriced'] });
    expect(webhook.status).toBe(201);
    await db.query(
      `INSERT INTO outbox_events (type, payload, created_at) VALUES ('spend.anomaly', '{}', now() - interval '2 minutes')`,
    );
    const [{ id: sentEvent }] = await db.query(
      `INSERT INTO outbox_events (type, payload, fanned_out_at) VALUES ('model.unpriced', '{}', now()) RETURNING id`,
    );
    const [{ id: otherEvent }] = await db.query(
      `INSERT INTO outbox_events (type, payload, fanned_out_at) VALUES ('model.unpriced', '{}', now()) RETURNING id`,
    );
    await db.query(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, status, attempts, next_attempt_at, created_at)
       VALUES ($1, $2, 'pending', 1, now() + interval '1 hour', now() - interval '5 minutes'),
              ($1, $3, 'failed', 8, now(), now() - interval '1 day')`,
      [webhook.body.id, sentEvent, otherEvent],
    );
  });

  afterAll(async () => {
    await app?.close();
    await sources?.close();
    await database?.drop();
  });

  describe('GET /metrics', () => {
    it('answers the Prometheus text format: every sample of a declared family, with HELP and TYPE', async () => {
      const exposition = await scrape();
      const expected: Record<string, string> = {
        tokentally_ingest_events_total: 'counter',
        tokentally_ingest_rejected_events_total: 'counter',
        tokentally_ingest_rejected_requests_total: 'counter',
        tokentally_ingest_statements_total: 'counter',
        tokentally_ingest_statement_requests_total: 'counter',
        tokentally_http_request_duration_seconds: 'histogram',
        tokentally_rollup_delta_rows: 'gauge',
        tokentally_outbox_pending_events: 'gauge',
        tokentally_outbox_oldest_pending_age_seconds: 'gauge',
        tokentally_webhook_deliveries: 'gauge',
        tokentally_webhook_deliveries_retrying: 'gauge',
        tokentally_webhook_delivery_oldest_pending_age_seconds: 'gauge',
        tokentally_webhook_endpoints: 'gauge',
        tokentally_pricing_source_last_success_timestamp_seconds: 'gauge',
        tokentally_pricing_last_refresh_timestamp_seconds: 'gauge',
        tokentally_usage_events_last_24h: 'gauge',
        tokentally_db_pool_connections: 'gauge',
        tokentally_db_pool_max_connections: 'gauge',
        tokentally_db_pool_waiting_queries: 'gauge',
        tokentally_database_info: 'gauge',
        tokentally_database_gauges_up: 'gauge',
        // Node's process metrics (prom-client collectDefaultMetrics).
        process_cpu_user_seconds_total: 'counter',
        process_resident_memory_bytes: 'gauge',
        nodejs_eventloop_lag_seconds: 'gauge',
        nodejs_heap_size_used_bytes: 'gauge',
      };
      for (const [name, type] of Object.entries(expected))
        expect([name, exposition.types.get(name)]).toEqual([name, type]);
      for (const name of exposition.types.keys())
        expect([name, exposition.help.get(name)]).toEqual([name, expect.any(String)]);
      expect(exposition.samples.filter((s) => !familyOf(exposition, s.name))).toEqual([]);
      expect(valueOf(exposition, 'tokentally_database_gauges_up')).toBe(1);
    });

    it('counts ingested events by result and rejected ones by reason, by exactly the amounts sent', async () => {
      const before = await scrape();
      const replayed = usageEvent();
      const res = await ingest.post('/v1/events', {
        events: [
          replayed,
          usageEvent(),
          replayed, // the same event_id again in the batch: a duplicate
          usageEvent({ timestamp: new Date(Date.now() + 3_600_000).toISOString() }), // an hour ahead
          usageEvent({ usage: { output_image_tokens: -1 } }),
          usageEvent({ usage: { input_text_tokens: 'many' } }),
          42,
          usageEvent({ provider: undefined }),
        ],
      });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ accepted: 2, duplicates: 1 });
      expect(res.body.rejected).toHaveLength(5);
      // Every event invalid: 400, counted as a refused request too.
      const none = await ingest.post('/v1/events', { events: [{ event_id: 'x' }, usageEvent({ model: '' })] });
      expect(none.status).toBe(400);
      // Refused whole before any event is looked at.
      expect((await ingest.post('/v1/events', { events: Array.from({ length: 1001 }, () => ({})) })).status).toBe(413);
      expect((await ingest.post('/v1/events', { events: 'not a list' })).status).toBe(400);
      expect((await ingest.post(`/v1/events?project_id=${randomUUID()}`, usageEvent())).status).toBe(403);
      expect((await admin.post('/v1/events', usageEvent())).status).toBe(400);
      expect((await admin.post(`/v1/events?project_id=${randomUUID()}`, usageEvent())).status).toBe(400);
      // The replayed event once more: a duplicate of a stored event.
      expect((await ingest.post('/v1/events', replayed)).body).toMatchObject({ accepted: 0, duplicates: 1 });

      const after = await scrape();
      const delta = (name: string, labels: Record<string, string>) =>
        (valueOf(after, name, labels) ?? NaN) - (valueOf(before, name, labels) ?? NaN);
      const events = (result: string) => delta('tokentally_ingest_events_total', { result });
      expect({ accepted: events('accepted'), duplicate: events('duplicate'), rejected: events('rejected') }).toEqual({
        accepted: 2,
        duplicate: 2,
        rejected: 7,
      });
      const reasons = [
        'event_id',
        'timestamp',
        'provider',
        'model',
        'usage',
        'dimensions',
        'tags',
        'other_field',
        'not_an_object',
      ];
      expect(
        Object.fromEntries(
          reasons.map((reason) => [reason, delta('tokentally_ingest_rejected_events_total', { reason })]),
        ),
      ).toEqual({
        event_id: 0,
        // {event_id: 'x'} fails first on its timestamp (fields are checked in order).
        timestamp: 2,
        provider: 1,
        model: 1,
        usage: 2,
        dimensions: 0,
        tags: 0,
        other_field: 0,
        not_an_object: 1,
      });
      const requests = [
        'too_many',
        'malformed',
        'no_valid_event',
        'wrong_project',
        'invalid_project_id',
        'unknown_project',
      ];
      expect(
        Object.fromEntries(
          requests.map((reason) => [reason, delta('tokentally_ingest_rejected_requests_total', { reason })]),
        ),
      ).toEqual({
        too_many: 1,
        malformed: 1,
        no_valid_event: 1,
        wrong_project: 1,
        invalid_project_id: 1,
        unknown_project: 1,
      });
    });

    it('times requests by route template, method and status class, never by raw URL', async () => {
      const eventId = `detail-${randomUUID()}`;
      expect((await ingest.post('/v1/events', usageEvent({ event_id: eventId }))).status).toBe(202);
      expect((await admin.get(`/v1/events/${projectId}/${eventId}`)).status).toBe(200);
      expect((await admin.get(`/no/such/path/${randomUUID()}`)).status).toBe(404);
      const exposition = await scrape();
      const count = (labels: Record<string, string>) =>
        valueOf(exposition, 'tokentally_http_request_duration_seconds_count', labels) ?? 0;
      expect(count({ route: '/v1/events', method: 'POST', status_class: '2xx' })).toBeGreaterThanOrEqual(2);
      expect(count({ route: '/v1/events', method: 'POST', status_class: '4xx' })).toBeGreaterThanOrEqual(4);
      expect(count({ route: '/v1/events/:project_id/:event_id', method: 'GET', status_class: '2xx' })).toBe(1);
      expect(count({ route: 'unmatched', method: 'GET', status_class: '4xx' })).toBeGreaterThanOrEqual(1);
      // Buckets are cumulative and end at +Inf with the count.
      const buckets = exposition.samples.filter(
        (s) =>
          s.name === 'tokentally_http_request_duration_seconds_bucket' &&
          s.labels.route === '/v1/events/:project_id/:event_id',
      );
      expect(buckets.map((b) => b.value)).toEqual([...buckets.map((b) => b.value)].sort((a, b) => a - b));
      expect(buckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: 1 });
      const routes = new Set(exposition.samples.map((s) => s.labels.route).filter(Boolean));
      expect([...routes].filter((route) => route.includes(projectId) || route.includes('/no/such'))).toEqual([]);
    });

    it('reads the outbox, the deliveries, the rollup backlog, pricing freshness and the pool from the database', async () => {
      const exposition = await scrape();
      const value = (name: string, labels: Record<string, string> = {}) => valueOf(exposition, name, labels);
      const [outbox] = await db.query(`SELECT count(*)::int AS n FROM outbox_events WHERE fanned_out_at IS NULL`);
      expect(outbox.n).toBeGreaterThanOrEqual(1);
      expect(value('tokentally_outbox_pending_events')).toBe(outbox.n);
      expect(value('tokentally_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(120);
      expect(value('tokentally_outbox_oldest_pending_age_seconds')).toBeLessThan(600);
      expect(value('tokentally_webhook_deliveries', { status: 'pending' })).toBe(1);
      expect(value('tokentally_webhook_deliveries', { status: 'sending' })).toBe(0);
      expect(value('tokentally_webhook_deliveries', { status: 'failed' })).toBe(1);
      expect(value('tokentally_webhook_deliveries_retrying')).toBe(1);
      expect(value('tokentally_webhook_delivery_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(300);
      expect(value('tokentally_webhook_endpoints', { state: 'healthy' })).toBe(1);
      expect(value('tokentally_webhook_endpoints', { state: 'disabled' })).toBe(0);

      // No compactor runs (RUN_JOBS=false): the deltas of the events stored before the first scrape are all there.
      expect(value('tokentally_rollup_delta_rows', { table: 'usage_rollup_deltas' })).toBeGreaterThanOrEqual(1);
      expect(value('tokentally_rollup_delta_rows', { table: 'usage_rollup_user_deltas' })).toBeGreaterThanOrEqual(1);
      expect(value('tokentally_usage_events_last_24h', { pricing: 'priced' })).toBeGreaterThanOrEqual(2);
      expect(value('tokentally_usage_events_last_24h', { pricing: 'unpriced' })).toBeGreaterThanOrEqual(1);
      expect(value('tokentally_usage_events_last_24h', { pricing: 'partial' })).toBe(0);

      // The catalog and Vercel were read by the refresh a moment ago; LiteLLM is configured and has never answered.
      const now = Date.now() / 1000;
      for (const source of ['catalog', 'vercel']) {
        const read = value('tokentally_pricing_source_last_success_timestamp_seconds', { source })!;
        expect([source, now - read >= 0 && now - read < 300]).toEqual([source, true]);
      }
      expect(value('tokentally_pricing_source_last_success_timestamp_seconds', { source: 'litellm' })).toBe(0);
      // Not configured and never read: not listed.
      expect(
        value('tokentally_pricing_source_last_success_timestamp_seconds', { source: 'openrouter' }),
      ).toBeUndefined();
      expect(now - value('tokentally_pricing_last_refresh_timestamp_seconds')!).toBeLessThan(300);

      expect(value('tokentally_database_info', { kind: database.kind })).toBe(1);
      const max = value('tokentally_db_pool_max_connections')!;
      expect(max).toBe(database.kind === 'embedded' ? 1 : 10);
      const open =
        value('tokentally_db_pool_connections', { state: 'idle' })! +
        value('tokentally_db_pool_connections', { state: 'busy' })!;
      expect(open).toBeGreaterThanOrEqual(1);
      expect(open).toBeLessThanOrEqual(max);
      expect(value('tokentally_db_pool_waiting_queries')).toBeGreaterThanOrEqual(0);
    });

    it('reads the database at most once per 10 s, however often it is scraped', async () => {
      const query = jest.spyOn(db, 'query');
      try {
        await Promise.all(Array.from({ length: 6 }, () => scrape()));
        for (let i = 0; i < 3; i++) await scrape();
        const reads = query.mock.calls.filter(([sql]) =>
          String(sql).includes('FROM outbox_events WHERE fanned_out_at'),
        );
        expect(reads.length).toBeLessThanOrEqual(1);
      } finally {
        query.mockRestore();
      }
    });

    it('needs METRICS_TOKEN or an admin key: 401 without one or with a wrong one, 403 for other keys', async () => {
      const expectProblem = (res: HttpResponse, status: number) => {
        expect([res.status, res.headers.get('content-type')]).toEqual([
          status,
          'application/problem+json; charset=utf-8',
        ]);
        expect(res.text).not.toContain('tokentally_');
      };
      const anonymous = await admin.as(null).get('/metrics');
      expectProblem(anonymous, 401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
      expectProblem(await admin.as(`${METRICS_TOKEN}x`).get('/metrics'), 401);
      expectProblem(await admin.as('tt_not_a_real_key_000000000000000').get('/metrics'), 401);
      expectProblem(
        await admin
          .as(null)
          .request('GET', '/metrics', undefined, { headers: { authorization: `Basic ${METRICS_TOKEN}` } }),
        401,
      );
      expectProblem(await (await viewerClient(admin)).get('/metrics'), 403);
      expectProblem(await ingest.get('/metrics'), 403);
      expect((await admin.get('/metrics')).status).toBe(200);
      expect((await admin.as(METRICS_TOKEN).get('/metrics')).status).toBe(200);
    });
  });

  describe('logs', () => {
    it('writes every line as JSON, with level, time and the request id of the request it was logged in', async () => {
      const entries = logged();
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) {
        expect(entry).toMatchObject({ level: expect.any(String), time: expect.any(String), process: 'api' });
        expect(Number.isNaN(Date.parse(entry.time as string))).toBe(false);
      }
      // The price refresh logged from inside the request (PricingRefreshService: the failed source, the result):
      // every such line carries the id the request came with.
      const ofRefresh = entries.filter((e) => e.context === 'PricingRefreshService');
      expect(ofRefresh.length).toBeGreaterThanOrEqual(2);
      expect(ofRefresh.map((e) => e.request_id)).toEqual(ofRefresh.map(() => REFRESH_REQUEST_ID));
      expect(entries.filter((e) => e.request_id === REFRESH_REQUEST_ID).map((e) => e.msg ?? e.message)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^price source litellm failed/), 'request completed']),
      );
    });

    it('answers x-request-id on every answer and logs the answer under it', async () => {
      for (const [client, path, status] of [
        [admin, '/v1/pricing', 200],
        [admin.as(null), '/v1/pricing', 401],
        [admin, '/no/such/route', 404],
        [admin.as(null), '/health', 200],
      ] as const) {
        const mark = lines.length;
        const res = await client.get(path);
        expect(res.status).toBe(status);
        const id = res.headers.get('x-request-id')!;
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        const mine = lines.slice(mark).map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(mine.filter((e) => e.request_id === id)).toEqual([
          expect.objectContaining({
            msg: 'request completed',
            req: expect.objectContaining({ method: 'GET', url: path }),
            res: { status_code: status },
            response_time_ms: expect.any(Number),
          }),
        ]);
      }
    });

    it('answers x-request-id even when Fastify refuses the URL before routing', async () => {
      const res = await fetch(`${url}/v1/events/${projectId}/%E0%A4%A`, { headers: { 'x-request-id': 'bad-url.1' } });
      expect([res.status, res.headers.get('x-request-id')]).toEqual([400, 'bad-url.1']);
    });

    it('keeps a sane incoming x-request-id and replaces a hostile one', async () => {
      const sane = 'edge-proxy.7f3a_b2';
      const kept = await admin.request('GET', '/v1/pricing', undefined, { headers: { 'x-request-id': sane } });
      expect(kept.headers.get('x-request-id')).toBe(sane);
      expect(logged().some((e) => e.request_id === sane)).toBe(true);

      for (const hostile of ['<script>alert(1)</script>', 'a'.repeat(129), 'two words', '"quoted"', 'ünïcode']) {
        const mark = lines.length;
        const res = await admin.request('GET', '/v1/pricing', undefined, { headers: { 'x-request-id': hostile } });
        const id = res.headers.get('x-request-id')!;
        expect(id).toMatch(/^[0-9a-f-]{36}$/);
        expect(lines.slice(mark).join('')).not.toContain(hostile.slice(0, 20));
        expect(lines.slice(mark).some((line) => line.includes(id))).toBe(true);
      }
      // Sent twice: Node joins the values ("one, two"), which is no token.
      const twice = await fetch(`${url}/health`, {
        headers: [
          ['x-request-id', 'one'],
          ['x-request-id', 'two'],
        ],
      });
      expect(twice.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('never writes a credential: no Authorization header, API key, metrics token or chart signature', async () => {
      const sig = 'c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw';
      await admin.get(`/v1/charts/shared/spend.png?expires=1&sig=${sig}`);
      await admin.as(null).request('GET', '/v1/pricing', undefined, {
        headers: { authorization: 'Bearer some-opaque-token-value-123', cookie: 'session=cookie-value-456' },
      });
      const text = lines.join('');
      expect(text).toContain('/v1/charts/shared/spend.png?expires=1&sig=[REDACTED]');
      for (const secret of [
        TEST_ADMIN_KEY,
        ingestKey,
        METRICS_TOKEN,
        sig,
        'some-opaque-token-value-123',
        'cookie-value-456',
      ])
        expect(text).not.toContain(secret);
      expect(text.toLowerCase()).not.toContain('"authorization"');
      expect(text).not.toContain('Bearer ');
    });
  });
});
