import { DataSource } from 'typeorm';
import { IngestWriter } from '@tokentally/ingest';
import { CHECKED_AFTER_A_REPLAY } from '../../libs/ingest/src/ingest.sql';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent } from '../support/factories';

/**
 * Concurrent ingest requests written together (issue 14): while statements
 * are in flight, requests that arrive wait and go in one statement and one
 * commit. Each still answers after its events are committed, every event is
 * stored and rolled up once, and a request that fails in the database fails
 * alone.
 */
describe('ingest requests written together', () => {
  let t: TestApp;
  let db: DataSource;
  let writer: IngestWriter;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    writer = t.app.get(IngestWriter);
  });
  afterAll(() => t?.close());

  async function storedOf(projectId: string) {
    const [events] = await db.query(`SELECT count(*)::int AS n FROM usage_events WHERE project_id = $1`, [projectId]);
    const [keys] = await db.query(`SELECT count(*)::int AS n FROM usage_event_keys WHERE project_id = $1`, [projectId]);
    const [rolled] = await db.query(
      `SELECT coalesce(sum(events), 0)::int AS n, round(coalesce(sum(cost_usd), 0), 6)::text AS cost FROM usage_rollup_live
       WHERE project_id = $1`,
      [projectId],
    );
    const [tagged] = await db.query(
      `SELECT coalesce(sum(events), 0)::int AS n FROM usage_rollup_tag_live WHERE project_id = $1`,
      [projectId],
    );
    const [byUser] = await db.query(
      `SELECT coalesce(sum(events), 0)::int AS n FROM usage_rollup_user_live WHERE project_id = $1`,
      [projectId],
    );
    return { events: events.n, keys: keys.n, rolled: rolled.n, cost: rolled.cost, tagged: tagged.n, byUser: byUser.n };
  }

  it('forty concurrent requests with shared event ids: every event is stored and rolled up exactly once', async () => {
    const { projectId, client } = await projectWithIngestKey(t.http);
    // Request i sends events i-0..i-49 and, again, events (i-1)-0..(i-1)-4 of the request before it.
    const batches = Array.from({ length: 40 }, (_, i) => [
      ...Array.from({ length: 50 }, (_, k) =>
        usageEvent({ event_id: `r${i}-${k}`, usage: { output_image_tokens: 1000 } }),
      ),
      ...(i > 0
        ? Array.from({ length: 5 }, (_, k) =>
            usageEvent({ event_id: `r${i - 1}-${k}`, usage: { output_image_tokens: 1000 } }),
          )
        : []),
    ]);
    const before = { ...writer.stats };
    const answers = await Promise.all(batches.map((events) => client.post('/v1/events', { events })));
    expect(answers.map((a) => a.status)).toEqual(batches.map(() => 202));
    const accepted = answers.reduce((sum, a) => sum + a.body.accepted, 0);
    const duplicates = answers.reduce((sum, a) => sum + a.body.duplicates, 0);
    expect({ accepted, duplicates }).toEqual({ accepted: 2000, duplicates: 39 * 5 });
    // Every answer came after its commit: the stored counts are complete the moment the last answer is in.
    expect(await storedOf(projectId)).toEqual({
      events: 2000,
      keys: 2000,
      rolled: 2000,
      cost: '60.000000', // 2,000 x 1,000 image output tokens at $30 per million
      tagged: 2000, // one tag per event
      byUser: 2000,
    });
    // How many statements they took depends on how the requests met in time (ingest-writer.spec.ts checks the
    // grouping itself); every one of them was written.
    expect(writer.stats.requests - before.requests).toBe(40);
    // The same counts reach GET /metrics.
    const exposition = (await t.http.get('/metrics')).text;
    const sample = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(exposition)?.[1]);
    expect(sample('tokentally_ingest_statements_total')).toBe(writer.stats.statements);
    expect(sample('tokentally_ingest_statement_requests_total')).toBe(writer.stats.requests);
  });

  it('the same event in two requests written together is accepted once and answered as a duplicate, at the same cost', async () => {
    const { projectId, client } = await projectWithIngestKey(t.http);
    const shared = usageEvent({ event_id: 'shared', usage: { output_image_tokens: 2000 } });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        client.post('/v1/events', { events: [usageEvent({ event_id: `own-${i}` }), shared] }),
      ),
    );
    const statuses = answers.map((a) => a.body.results.find((r: { event_id: string }) => r.event_id === 'shared'));
    expect(statuses.filter((r) => r.status === 'accepted')).toHaveLength(1);
    expect(statuses.filter((r) => r.status === 'duplicate')).toHaveLength(11);
    expect(new Set(statuses.map((r) => r.cost_usd))).toEqual(new Set(['0.060000']));
    expect((await storedOf(projectId)).events).toBe(13);
  });

  it('a request that fails in the database fails alone; the requests written with it are stored', async () => {
    const { projectId, client } = await projectWithIngestKey(t.http);
    // A real failure inside PostgreSQL, for one event id only.
    await db.query(`
      CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.event_id = 'poison' THEN RAISE EXCEPTION 'refused by the test'; END IF;
        RETURN NEW;
      END $$`);
    await db.query(
      `CREATE TRIGGER refuse_poison BEFORE INSERT ON usage_event_keys FOR EACH ROW EXECUTE FUNCTION refuse_poison()`,
    );
    try {
      const bodies = Array.from({ length: 20 }, (_, i) => ({
        events: [usageEvent({ event_id: i === 7 ? 'poison' : `fine-${i}` }), usageEvent({ event_id: `also-${i}` })],
      }));
      const answers = await Promise.all(bodies.map((body) => client.post('/v1/events', body)));
      expect(answers[7].status).toBe(500);
      expect(answers[7].headers.get('content-type')).toContain('application/problem+json');
      expect(answers.filter((_, i) => i !== 7).map((a) => a.status)).toEqual(Array(19).fill(202));
      const ids: Array<{ event_id: string }> = await db.query(
        `SELECT event_id FROM usage_events WHERE project_id = $1 ORDER BY 1`,
        [projectId],
      );
      expect(ids).toHaveLength(38);
      expect(ids.map((r) => r.event_id)).not.toContain('also-7');
      expect((await storedOf(projectId)).rolled).toBe(38);
    } finally {
      await db.query(`DROP TRIGGER refuse_poison ON usage_event_keys`);
      await db.query(`DROP FUNCTION refuse_poison()`);
    }
  });
  it('replays met by the cheap all-new statement are stored once: through the checked statement, and after its run ends', async () => {
    const { projectId, client } = await projectWithIngestKey(t.http);
    const event = (id: string) => usageEvent({ event_id: id, usage: { output_image_tokens: 1000 } });
    // All new: the cheap statement stores them.
    expect((await client.post('/v1/events', { events: [event('a'), event('b')] })).body.accepted).toBe(2);
    // A stored key fails the cheap statement as a whole; nothing of it may stay (c is new), and the checked one
    // stores c and answers a as a duplicate.
    const mixed = await client.post('/v1/events', { events: [event('c'), event('a')] });
    expect(mixed.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'duplicate']);
    // Replays and new events through the run of checked statements, and past its end, back on the cheap one.
    for (let i = 0; i <= CHECKED_AFTER_A_REPLAY; i++) {
      const answer = await client.post('/v1/events', { events: [event(`n${i}`), event('b')] });
      expect(answer.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'duplicate']);
    }
    const fresh = await client.post('/v1/events', { events: [event('last')] });
    expect(fresh.body.accepted).toBe(1);
    const events = 3 + CHECKED_AFTER_A_REPLAY + 1 + 1;
    expect(events).toBe(105);
    expect(await storedOf(projectId)).toEqual({
      events,
      keys: events,
      rolled: events,
      cost: '3.150000', // 105 x 1,000 image output tokens at $30 per million
      tagged: events,
      byUser: events,
    });
  });
});
