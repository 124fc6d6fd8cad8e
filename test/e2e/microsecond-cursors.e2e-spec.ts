import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';

/**
 * Events may carry microseconds (`2026-11-10T08:00:00.123456Z`: Python's
 * isoformat() writes them), and PostgreSQL keeps them. Two readers walked the
 * events in keyset pages whose cursor went through a JS Date, which keeps
 * milliseconds: the next page started before the row the last one ended on.
 * A re-price then read its last event forever (the request never ended and
 * burned a core), and the raw CSV export listed the event at each page
 * boundary twice. Both now carry the time as text to the microsecond.
 */
const DAY = '2026-11-10';
/** The i-th event of the day, at a time with microseconds that no millisecond holds. */
const atMicros = (i: number) => {
  const ms = 8 * 3_600_000 + i * 1_000;
  return `${new Date(Date.parse(`${DAY}T00:00:00Z`) + ms).toISOString().slice(0, 23)}${String(100 + (i % 900)).padStart(3, '0')}Z`;
};

describe('keyset pages over events with microseconds', () => {
  let database: TestDatabase;
  let t: TestApp;
  let projectId: string;
  const EXPORT_PAGE = 5000; // libs/reporting/src/reports-export.service.ts
  const count = EXPORT_PAGE + 7;

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await startTestApp({}, database);
    const project = await projectWithIngestKey(t.http, 'micros');
    projectId = project.projectId;
    for (let from = 0; from < count; from += 1000) {
      const events = Array.from({ length: Math.min(1000, count - from) }, (_, k) =>
        usageEvent({ event_id: `m${from + k}`, timestamp: atMicros(from + k) }),
      );
      const res = await project.client.post('/v1/events', { events });
      if (res.status !== 202 || res.body.accepted !== events.length)
        throw new Error(`ingest: ${res.status} ${res.text}`);
    }
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it('a re-price of a range whose events carry microseconds ends, and examines each event once', async () => {
    const res = await t.http.post('/v1/pricing/reprice', { from: `${DAY}T00:00:00Z`, to: `${DAY}T08:00:03Z` });
    expect(res.status).toBe(201);
    // 08:00:00.000100, 08:00:01.001101 and 08:00:02.002102 are in the range; the last of them ends the last page.
    expect(res.body.events_examined).toBe(3);
  }, 30_000);

  it('a re-price across several pages examines every event of the range exactly once', async () => {
    const res = await t.http.post('/v1/pricing/reprice', { from: `${DAY}T00:00:00Z`, to: `${DAY}T23:59:59Z` });
    expect(res.status).toBe(201);
    expect(res.body.events_examined).toBe(count);
  }, 60_000);

  it('the raw CSV export of more than a page of such events lists each event once', async () => {
    const viewer = await viewerClient(t.http);
    const res = await viewer.get(`/v1/reports/export.csv?project=${projectId}&from=${DAY}&to=${DAY}&raw=1`);
    expect(res.status).toBe(200);
    const rows = res.text
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n')
      .slice(1);
    const ids = rows.map((row) => row.split(',')[3]);
    expect(rows).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
    expect(rows[0].startsWith(`${atMicros(0)},`)).toBe(true);
  }, 60_000);
});
