import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '../support/database';
import { api, makeBatches, projectAndIngestKey, serviceEnv, sleep } from '../support/faults';
import { ServiceProcess, startService } from '../support/service';

/**
 * Injected faults on a PostgreSQL server (DATABASE_URL): backends terminated
 * under load, then the database refusing connections for a few seconds. The
 * process never exits, answers 503 + Retry-After (never 500) meanwhile, says
 * why on /health/ready, and recovers by itself. The embedded database has no
 * server to take away: skipped there.
 */
const onPostgres = process.env.DATABASE_URL ? describe : describe.skip;

onPostgres('the database going away under load (PostgreSQL)', () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let admin: Client;
  let name: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    name = new URL(database.env.DATABASE_URL!).pathname.slice(1);
    admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    service = await startService(serviceEnv(database));
  });
  afterAll(async () => {
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await admin.end();
    await service?.kill('SIGKILL');
    await database.drop();
  });

  const terminate = async () =>
    (
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [name],
      )
    ).rowCount ?? 0;

  /** Ingest load with a few connections; records every answer and checks the failed ones as it goes. */
  function load(key: string) {
    const statuses: Record<string, number> = {};
    const bad: string[] = [];
    let requests = 0;
    let stopped = false;
    let batch = 0;
    const batches = makeBatches(400, 20);
    const sender = async () => {
      while (!stopped) {
        requests++;
        let response: Awaited<ReturnType<typeof api>>;
        try {
          response = await api(service.url, key, 'POST', '/v1/events', { events: batches[batch++ % batches.length] });
        } catch {
          statuses.connection_error = (statuses.connection_error ?? 0) + 1; // the process is gone
          bad.push('no answer');
          await sleep(100);
          continue;
        }
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        if (response.status !== 202) {
          const retryAfter = Number(response.headers.get('retry-after'));
          const problemJson = /application\/problem\+json/.test(response.headers.get('content-type') ?? '');
          if (
            response.status !== 503 ||
            !(retryAfter >= 1 && retryAfter <= 30) ||
            !problemJson ||
            /terminat|ECONN|pg_|SQL/i.test(response.text)
          ) {
            bad.push(
              `${response.status} retry-after=${response.headers.get('retry-after')} ${response.text.slice(0, 300)}`,
            );
          }
          await sleep(20);
        }
      }
    };
    const senders = Array.from({ length: 6 }, sender);
    return {
      statuses,
      bad,
      requests: () => requests,
      stop: async () => {
        stopped = true;
        await Promise.all(senders);
      },
    };
  }

  it('survives pg_terminate_backend under ingest load: the process stays up and the pool replaces dead connections', async () => {
    const { key } = await projectAndIngestKey(service.url);
    const traffic = load(key);
    let terminated = 0;
    for (let i = 0; i < 6; i++) {
      await sleep(400);
      terminated += await terminate();
    }
    await sleep(500);
    await traffic.stop();
    process.stdout.write(
      `faults-database-away figures (terminate): ${JSON.stringify({ terminations: 6, backends_terminated: terminated, requests: traffic.requests(), statuses: traffic.statuses })}\n`,
    );
    // A crash prints `Error: terminating ...` at the start of a line; a job logging the same error is a JSON line.
    expect({
      alive: service.alive(),
      crash: service.output().match(/^(?:.*Unhandled 'error'.*|Error: terminating.*)$/gm),
    }).toEqual({ alive: true, crash: null });
    expect(terminated).toBeGreaterThan(0);
    expect(traffic.bad).toEqual([]);
    const after = await api(service.url, key, 'POST', '/v1/events', { events: makeBatches(1, 10)[0] });
    expect(after.status).toBe(202);
  });

  it('answers 503 with Retry-After while connections are refused, says why on /health/ready, and recovers by itself', async () => {
    const { key } = await projectAndIngestKey(service.url);
    expect((await api(service.url, key, 'GET', '/health/ready')).status).toBe(200);
    const traffic = load(key);
    await sleep(500);
    const awayAt = Date.now();
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await terminate();
    await sleep(300);

    // While away: liveness 200, readiness 503 with the reason, every API answer 503 + Retry-After.
    const live = await api(service.url, key, 'GET', '/health');
    const ready = await api(service.url, key, 'GET', '/health/ready');
    const ingest = await api(service.url, key, 'POST', '/v1/events', { events: makeBatches(1, 5)[0] });
    const report = await api(service.url, 'tt_test_admin_key_0123456789abcdef', 'GET', '/v1/projects');
    expect(live.status).toBe(200);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', reason: 'database unreachable' });
    for (const answer of [ingest, report]) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(answer.body).toMatchObject({ status: 503, type: 'urn:tokentally:problem:database_unavailable' });
      expect(answer.text).not.toMatch(/not currently accepting|tt_e2e|terminat|ECONN/);
    }

    await sleep(Math.max(0, 4_000 - (Date.now() - awayAt)));
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    const backAt = Date.now();
    // Recovers without a restart: ingest accepted again, ready again.
    let recoveredMs = -1;
    for (let i = 0; i < 100; i++) {
      const answer = await api(service.url, key, 'POST', '/v1/events', { events: makeBatches(1, 5)[0] });
      if (answer.status === 202) {
        recoveredMs = Date.now() - backAt;
        break;
      }
      await sleep(100);
    }
    await sleep(300);
    await traffic.stop();
    const readyAgain = await api(service.url, key, 'GET', '/health/ready');
    process.stdout.write(
      `faults-database-away figures (refused ~${backAt - awayAt} ms): ${JSON.stringify({
        requests: traffic.requests(),
        statuses: traffic.statuses,
        recovered_ms_after_database_back: recoveredMs,
        ready_while_away: ready.body,
      })}\n`,
    );
    expect(recoveredMs).toBeGreaterThanOrEqual(0);
    expect(readyAgain.status).toBe(200);
    expect(service.alive()).toBe(true);
    expect(traffic.statuses['500']).toBeUndefined();
    expect(traffic.statuses['503']).toBeGreaterThan(0);
    expect(traffic.bad).toEqual([]);
  });
});
