import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';

/**
 * The alerts list and an endpoint's deliveries page newest first. Their
 * `next_before` was the last item's time in milliseconds, and the next page
 * asked for what was strictly older: items written by one transaction share
 * one time (a fan-out makes many deliveries at once; one budget pass can fire
 * several alerts), so those past the page boundary were never listed, and an
 * item a few microseconds older than the last was skipped as well. Now a page
 * also answers `next_before_id`, and the two walk (time, id) exactly.
 *
 * The rows are written straight into the database in one transaction, as the
 * fan-out and the evaluator write them; deliveries are `failed`, so the
 * delivery worker leaves them alone.
 */
describe('pages of alerts and deliveries', () => {
  let database: TestDatabase;
  let t: TestApp;
  let db: DataSource;
  const N = 7;

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' }, database);
    db = t.app.get(DataSource);
  });

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  /** Follows next_before and next_before_id from the first page to the last; every id listed, in order. */
  async function walk(path: string, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let query = '';
    for (let pages = 0; pages < 50; pages++) {
      const res = await t.http.get(`${path}?limit=${limit}${query}`);
      expect(res.status).toBe(200);
      ids.push(...res.body.data.map((item: { id: string }) => item.id));
      if (res.body.next_before === null) return ids;
      query = `&before=${encodeURIComponent(res.body.next_before)}&before_id=${res.body.next_before_id}`;
    }
    throw new Error('the list did not end');
  }

  it('alerts written in one transaction are each listed once across page boundaries', async () => {
    await db.query(`
      WITH events AS (
        INSERT INTO outbox_events (type, payload, fanned_out_at)
        SELECT 'budget.threshold_reached', '{}'::jsonb, now() FROM generate_series(1, ${N})
        RETURNING id
      )
      INSERT INTO alerts (type, dedupe_key, summary, data, event_id)
      SELECT 'budget.threshold_reached', 'same-time-' || id, 'alert', '{}'::jsonb, id FROM events`);
    // And one a few microseconds older than the others: the millisecond cursor skipped it too.
    await db.query(`
      WITH e AS (INSERT INTO outbox_events (type, payload, fanned_out_at) VALUES ('budget.threshold_reached', '{}', now()) RETURNING id)
      INSERT INTO alerts (type, dedupe_key, summary, data, event_id, created_at)
      SELECT 'budget.threshold_reached', 'just-older', 'alert', '{}'::jsonb, id,
        (SELECT min(created_at) FROM alerts) - interval '3 microseconds' FROM e`);
    const all: Array<{ id: string }> = await db.query(`SELECT id::text FROM alerts ORDER BY created_at DESC, id DESC`);
    for (const limit of [1, 2, 3, N]) expect(await walk('/v1/alerts', limit)).toEqual(all.map((a) => a.id));
  });

  it("an endpoint's deliveries made in one transaction are each listed once across page boundaries", async () => {
    const webhook = await t.http.post('/v1/webhooks', {
      url: 'http://127.0.0.1:9/never-called',
      events: ['budget.threshold_reached'],
    });
    expect(webhook.status).toBe(201);
    await db.query(
      `WITH events AS (
         INSERT INTO outbox_events (type, payload, fanned_out_at)
         SELECT 'budget.threshold_reached', '{}'::jsonb, now() FROM generate_series(1, ${N})
         RETURNING id
       )
       INSERT INTO webhook_deliveries (webhook_id, event_id, status) SELECT $1, id, 'failed' FROM events`,
      [webhook.body.id],
    );
    const all: Array<{ id: string }> = await db.query(
      `SELECT id::text FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY created_at DESC, id DESC`,
      [webhook.body.id],
    );
    expect(all).toHaveLength(N);
    for (const limit of [1, 2, 3])
      expect(await walk(`/v1/webhooks/${webhook.body.id}/deliveries`, limit)).toEqual(all.map((d) => d.id));
  });

  it('before alone still lists what is strictly older than that time', async () => {
    const [{ newest }] = await db.query(`SELECT max(created_at) AS newest FROM alerts`);
    const before = new Date(newest);
    const older: Array<{ id: string }> = await db.query(
      `SELECT id::text FROM alerts WHERE created_at < $1 ORDER BY created_at DESC, id DESC`,
      [before],
    );
    const res = await t.http.get(`/v1/alerts?before=${encodeURIComponent(before.toISOString())}`);
    expect(res.status).toBe(200);
    expect(res.body.data.map((a: { id: string }) => a.id)).toEqual(older.map((a) => a.id));
  });
});
