import { createTestDatabase, TestDatabase } from '../support/database';
import { api, ledger, makeBatches, openForChecks, projectAndIngestKey, serviceEnv, sleep } from '../support/faults';
import { ServiceProcess, startService } from '../support/service';

/**
 * Injected fault: the api process is SIGKILLed in the middle of batched
 * ingest, then started again on the same database (PostgreSQL or the
 * embedded one, whichever this run uses). Clients resend what was not
 * acknowledged (and some of what was). 202 means committed: nothing
 * acknowledged is lost, nothing is counted twice, rollups equal the events.
 */
describe('SIGKILL during batched ingest', () => {
  const BATCHES = 150;
  const BATCH_SIZE = 100;
  const SENDERS = 4;
  const KILLS = 2;
  let database: TestDatabase;
  let service: ServiceProcess | null = null;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await service?.kill('SIGKILL');
    await database.drop();
  });

  it('loses no acknowledged event and counts none twice, across kills and resends', async () => {
    const started = Date.now();
    const batches = makeBatches(BATCHES, BATCH_SIZE);
    const acked = new Set<number>();
    const statuses: Record<string, number> = {};
    let requests = 0;
    let resentAcknowledged = 0;
    let duplicatesOnResend = 0;
    let committedUnacknowledged = 0; // events of batches cut off by a kill that had been committed anyway

    service = await startService(serviceEnv(database));
    const { projectId, key } = await projectAndIngestKey(service.url);

    /** Sends batches `todo` with SENDERS connections until all are acknowledged or `stop()` says so. */
    const send = async (url: string, todo: number[], stop: () => boolean) => {
      let next = 0;
      const sender = async () => {
        while (!stop() && next < todo.length) {
          const index = todo[next++];
          requests++;
          try {
            const response = await api(url, key, 'POST', '/v1/events', { events: batches[index] });
            statuses[response.status] = (statuses[response.status] ?? 0) + 1;
            if (response.status === 202) {
              if (acked.has(index)) {
                resentAcknowledged++;
                duplicatesOnResend += response.body.duplicates;
              } else {
                expect(response.body.accepted + response.body.duplicates).toBe(BATCH_SIZE);
                committedUnacknowledged += response.body.duplicates;
              }
              acked.add(index);
            }
          } catch {
            statuses.connection_error = (statuses.connection_error ?? 0) + 1;
          }
        }
      };
      await Promise.all(Array.from({ length: SENDERS }, sender));
    };

    // Each round: load, and SIGKILL the process once a share of the batches is acknowledged.
    const perRound = Math.floor(BATCHES / (KILLS + 1));
    for (let kill = 1; kill <= KILLS; kill++) {
      const goal = perRound * kill;
      let killed = false;
      const pending = [...Array(BATCHES).keys()].filter((i) => !acked.has(i));
      const load = send(service.url, pending, () => killed);
      while (acked.size < goal && service.alive()) await sleep(5);
      await service.kill('SIGKILL');
      killed = true;
      await load;
      expect(service.output()).not.toMatch(/Unhandled|unhandled 'error'/);
      service = await startService(serviceEnv(database));
    }

    // After the last restart: resend everything not acknowledged, and some of what was.
    const acknowledgedBefore = [...acked];
    const resend = [...Array(BATCHES).keys()]
      .filter((i) => !acked.has(i))
      .concat(acknowledgedBefore.filter((_, i) => i % 10 === 0));
    await send(service.url, resend, () => false);
    expect(acked.size).toBe(BATCHES);
    const ready = await api(service.url, key, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    await service.kill('SIGTERM');
    service = null;

    const db = await openForChecks(database);
    try {
      const allIds = batches.flat().map((event) => event.event_id as string);
      const check = await ledger(db, projectId, allIds);
      const figures = {
        database: database.kind,
        kills: KILLS,
        batches: BATCHES,
        batch_size: BATCH_SIZE,
        requests,
        statuses,
        resent_acknowledged_batches: resentAcknowledged,
        duplicates_on_resend: duplicatesOnResend,
        unacknowledged_but_committed_events: committedUnacknowledged,
        events_acknowledged: acked.size * BATCH_SIZE,
        events_stored: check.stored,
        rollup_events: check.rollupEvents,
        events_cost_usd: check.eventsCost,
        rollup_cost_usd: check.rollupCost,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      };
      process.stdout.write(`faults-sigkill figures: ${JSON.stringify(figures)}\n`);

      expect(check.stored).toBe(BATCHES * BATCH_SIZE); // every acknowledged event, once
      expect(check.distinct).toBe(check.stored);
      expect(check.acknowledgedStored).toBe(allIds.length);
      expect(duplicatesOnResend).toBe(resentAcknowledged * BATCH_SIZE); // a resent acknowledged batch adds nothing
      expect(check.rollupEvents).toBe(check.stored);
      expect(check.rollupCost).toBe(check.eventsCost);
      expect(check.rollupOutputTokens).toBe(check.eventsOutputTokens);
      expect(Object.keys(statuses).filter((status) => status !== '202' && status !== 'connection_error')).toEqual([]);
    } finally {
      await db.close();
    }
  }, 120_000);
});
