import { Database } from '@tokentally/db';
import { SQL } from '../../libs/ingest/src/ingest.sql';
import { startTestApp, TestApp } from '../support/app';
import { createEmbeddedTestDatabase, createTestDatabase } from '../support/database';
import { projectWithIngestKey, usageEvent } from '../support/factories';

/**
 * Injected fault: an execution of a named prepared statement that PostgreSQL
 * refuses. On the embedded database (PGlite) the failed statement stayed on
 * the session and every later batch failed with `prepared statement
 * "tt_insert_events" already exists` until a restart. Run on the embedded
 * database always, and on PostgreSQL too when DATABASE_URL is set.
 */
const kinds = process.env.DATABASE_URL ? (['embedded', 'postgres'] as const) : (['embedded'] as const);

describe.each(kinds)('a failed prepared-statement execution (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, kind === 'embedded' ? createEmbeddedTestDatabase() : await createTestDatabase());
  });
  afterAll(async () => {
    await t.close();
    await t.database.drop();
  });

  it('does not poison the session: the same statement runs after a refused value', async () => {
    const database = t.app.get(Database);
    await expect(database.queryPrepared('tt_fault_probe', 'SELECT $1::int AS n', ['not a number'])).rejects.toThrow(
      /invalid input syntax/,
    );
    await expect(database.queryPrepared('tt_fault_probe', 'SELECT $1::int AS n', ['not a number'])).rejects.toThrow(
      /invalid input syntax/,
    );
    expect(await database.queryPrepared('tt_fault_probe', 'SELECT $1::int AS n', ['42'])).toEqual([{ n: 42 }]);
    expect(await database.queryPrepared('tt_fault_probe', 'SELECT $1::int AS n', ['43'])).toEqual([{ n: 43 }]);
  });

  it('keeps ingest working after the insert statement itself failed', async () => {
    const project = await projectWithIngestKey(t.http);
    expect((await project.client.post('/v1/events', usageEvent())).status).toBe(202);
    const database = t.app.get(Database);
    // The ingest statement with a timestamp PostgreSQL refuses (as many array parameters as the statement takes).
    const parameters = Math.max(...[...SQL.insertEvents.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    const bad = [
      project.projectId,
      ['bad-1'],
      ['not a timestamp'],
      ...Array.from({ length: parameters - 3 }, () => [null]),
    ];
    await expect(database.queryPrepared('tt_insert_events', SQL.insertEvents, bad)).rejects.toThrow();
    for (let i = 0; i < 3; i++) {
      const answer = await project.client.post('/v1/events', { events: [usageEvent(), usageEvent()] });
      expect(answer.status).toBe(202);
      expect(answer.body.accepted).toBe(2);
    }
  });
});
