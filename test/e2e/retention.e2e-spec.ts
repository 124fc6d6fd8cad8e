import { DataSource } from 'typeorm';
import { eventMonthTable, utcMonthStart } from '@tokentally/core';
import { EventMonthsService, MONTHS_AHEAD } from '@tokentally/ingest';
import { startTestApp, TestApp } from '../support/app';
import { eventually } from '../support/eventually';
import { createTestDatabase, TestDatabase } from '../support/database';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';

/**
 * A year of data (issue 14): raw events are stored one table per UTC month,
 * made ahead by the job runner, and RETENTION_MONTHS drops the months older
 * than it keeps while the rollups keep their totals, so reports over a
 * dropped month still answer, to the digit.
 *
 * Months are counted back from today. Every event has 1,000 image output
 * tokens of gpt-image-2 on openai: $0.030000 each.
 */
const EACH = '0.030000';
const iso = (at: Date | number) => new Date(at).toISOString();
const plusHours = (at: Date, hours: number) => new Date(at.getTime() + hours * 3_600_000);
const event = (id: string, at: Date) =>
  usageEvent({
    event_id: id,
    timestamp: iso(at),
    usage: { output_image_tokens: 1000 },
    image_size: '1024x1024',
    image_quality: 'high',
  });
const month = (at: Date) => iso(at).slice(0, 7);

describe('retention of raw events (RETENTION_MONTHS)', () => {
  const now = Date.now();
  const current = utcMonthStart(now);
  const dropped = utcMonthStart(now, -4); // older than RETENTION_MONTHS=2 keeps
  const alsoDropped = utcMonthStart(now, -3);
  const kept = utcMonthStart(now, -1);
  // Asia/Kolkata's month `dropped` starts at 18:30 UTC on the last day of the month before: this event is in
  // that month's first part hour, which the month close reads from the raw events while they are kept.
  const kolkataFirstPartHour = new Date(dropped.getTime() - 5 * 3_600_000 - 15 * 60_000);
  const events = [
    event('dropped-1', plusHours(dropped, 24 * 9 + 10)),
    event('dropped-2', plusHours(dropped, 24 * 20 + 3)),
    event('dropped-kolkata-edge', kolkataFirstPartHour),
    event('also-dropped', plusHours(alsoDropped, 24 * 2)),
    event('kept', plusHours(kept, 24 * 5)),
    event('current', new Date(now - 60_000)),
  ];
  const range = `from=${iso(utcMonthStart(now, -6)).slice(0, 10)}&to=${iso(new Date(now)).slice(0, 10)}`;
  const reportUrls = [
    `/v1/reports/spend?${range}&granularity=month`,
    `/v1/reports/spend?${range}&granularity=day&group_by=user`,
    `/v1/reports/spend?${range}&granularity=week&tag:campaign=black-friday`,
    `/v1/reports/summary?${range}`,
    `/v1/reports/compare-providers?${range}`,
    `/v1/reports/month-close?month=${month(dropped)}`,
    `/v1/reports/month-close?month=${month(alsoDropped)}&user=u_42`,
  ];

  /**
   * A report without what moves with the clock alone: the summary's forecast extends the spend to date by the time
   * elapsed, so two reads seconds apart may differ in its last digit (it did, on the last day of a month).
   */
  const withoutClock = (body: Record<string, unknown>) => {
    const { forecast, ...rest } = body;
    if (forecast !== undefined) expect(forecast).toMatch(/^\d+\.\d{6}$/);
    return rest;
  };

  let database: TestDatabase;
  let t: TestApp;
  let projectId: string;
  let ingestKey: string;
  const before = new Map<string, unknown>();

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await startTestApp({}, database);
    const project = await projectWithIngestKey(t.http, 'retention');
    projectId = project.projectId;
    ingestKey = project.key;
    const res = await project.client.post('/v1/events', { events });
    if (res.status !== 202 || res.body.accepted !== events.length) throw new Error(`ingest: ${res.status} ${res.text}`);
    const viewer = await viewerClient(t.http);
    for (const url of reportUrls) {
      const report = await viewer.get(url);
      if (report.status !== 200) throw new Error(`${url}: ${report.status} ${report.text}`);
      before.set(url, withoutClock(report.body));
    }
  });

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  async function monthTables(db: DataSource): Promise<string[]> {
    const rows: Array<{ name: string }> = await db.query(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'usage_events'::regclass ORDER BY 1`,
    );
    return rows.map((row) => row.name);
  }

  it('without RETENTION_MONTHS every month is kept, the months of late events were made, and months are made ahead', async () => {
    const run = await t.app.get(EventMonthsService).maintain();
    expect(run.dropped).toEqual([]);
    expect(run.keptSince).toBeNull();
    const tables = await monthTables(t.app.get(DataSource));
    const ahead = Array.from({ length: MONTHS_AHEAD + 1 }, (_, i) => utcMonthStart(now, i));
    for (const at of [...events.map((e) => new Date(e.timestamp)), ...ahead])
      expect(tables).toContain(eventMonthTable(utcMonthStart(at)));
  });

  it('the job runner drops the months older than RETENTION_MONTHS keeps, and only those, when it starts', async () => {
    await t.close();
    t = await startTestApp({ RETENTION_MONTHS: '2' }, database);
    // The start runs the upkeep; once it has, a second run finds nothing more to drop.
    const db = t.app.get(DataSource);
    await eventually(async () => {
      const tables = await monthTables(db);
      for (const gone of [dropped, alsoDropped, utcMonthStart(dropped, -1)])
        expect(tables).not.toContain(eventMonthTable(gone));
      for (const still of [kept, current, utcMonthStart(now, 3)]) expect(tables).toContain(eventMonthTable(still));
    });
    await eventually(async () => {
      const keys: Array<{ n: number }> = await db.query(`SELECT count(*)::int AS n FROM usage_event_keys`);
      expect(keys[0].n).toBe(2);
    });
    const again = await t.app.get(EventMonthsService).maintain();
    expect(again).toEqual({ made: [], dropped: [], keysForgotten: 0, keptSince: iso(utcMonthStart(now, -2)) });

    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM usage_events`);
    expect(n).toBe(2); // 'kept' and 'current'
    const keys: Array<{ event_id: string }> = await db.query(`SELECT event_id FROM usage_event_keys ORDER BY 1`);
    expect(keys.map((k) => k.event_id)).toEqual(['current', 'kept']);
  });

  it('reports over the dropped months answer exactly as before, from the rollups', async () => {
    const viewer = await viewerClient(t.http);
    for (const url of reportUrls) {
      const report = await viewer.get(url);
      expect({ url, status: report.status }).toEqual({ url, status: 200 });
      expect({ url, body: withoutClock(report.body) }).toEqual({ url, body: before.get(url) });
    }
    // Six events of $0.03, four of them in dropped months.
    expect((before.get(reportUrls[0]) as { total: string }).total).toBe('0.180000');
  });

  it('a month close in a half-hour zone counts a dropped part hour whole, in the month its hour starts in', async () => {
    const viewer = await viewerClient(t.http);
    const close = async (m: Date) => {
      const res = await viewer.get(`/v1/reports/month-close?month=${month(m)}&tz=Asia/Kolkata`);
      expect(res.status).toBe(200);
      return res.body.totals as { cost_usd: string; events: number };
    };
    // Before the drop the edge event, 15 minutes into Kolkata's month, was read from the raw events and counted
    // in that month (3 events). Its raw row is gone: its hour, which starts 30 minutes before the month, counts
    // whole in the month before, and no event is counted in both.
    expect(await close(dropped)).toMatchObject({ cost_usd: '0.060000', events: 2 });
    expect(await close(utcMonthStart(dropped, -1))).toMatchObject({ cost_usd: '0.030000', events: 1 });
  });

  it('the raw events of a dropped month are gone from the event list and the event detail', async () => {
    const viewer = await viewerClient(t.http);
    const list = await viewer.get(`/v1/events?from=${iso(utcMonthStart(dropped, -1))}&to=${iso(kept)}`);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
    expect((await viewer.get(`/v1/events/${projectId}/dropped-1`)).status).toBe(404);
    const keptOne = await viewer.get(`/v1/events/${projectId}/kept`);
    expect(keptOne.status).toBe(200);
    expect(keptOne.body.cost_usd).toBe(EACH);
  });

  it('an event older than the retention is refused naming its timestamp, and the rest of its batch is kept', async () => {
    const client = t.http.as(ingestKey);
    const late = event('dropped-1', plusHours(dropped, 24 * 9 + 10));
    const fresh = event('fresh', new Date(now - 30_000));
    const replayOfKept = event('kept', plusHours(kept, 24 * 5));
    const res = await client.post('/v1/events', { events: [late, fresh, replayOfKept] });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(1);
    expect(res.body.duplicates).toBe(1);
    expect(res.body.rejected).toEqual([
      {
        index: 0,
        event_id: 'dropped-1',
        errors: [
          {
            path: 'events[0].timestamp',
            message:
              `must not be before ${iso(utcMonthStart(now, -2)).replace('.000Z', 'Z')}: this server keeps the raw ` +
              'events of the current month and the 2 before it (RETENTION_MONTHS), and older months are dropped',
          },
        ],
      },
    ]);
    expect(res.body.results.map((r: { event_id: string; status: string }) => [r.event_id, r.status])).toEqual([
      ['fresh', 'accepted'],
      ['kept', 'duplicate'],
    ]);
  });
});
