import { MigrationInterface, QueryRunner } from 'typeorm';

/** As libs/core/src/event-months.ts names them (a migration keeps its own copy: it must not change later). */
function monthTable(start: Date): string {
  return `usage_events_y${String(start.getUTCFullYear()).padStart(4, '0')}m${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
}

function monthStart(at: Date, offset = 0): Date {
  const start = new Date(0);
  start.setUTCFullYear(at.getUTCFullYear(), at.getUTCMonth() + offset, 1);
  return start;
}

const INDEXES = [
  // Newest-first listing across projects, with a stable tiebreak for cursors; also how an event
  // is found by its key (usage_event_keys gives its time, so one month is read).
  `CREATE INDEX usage_events_occurred_idx ON usage_events (occurred_at, project_id, event_id)`,
  // Finding unpriced events again when a price arrives.
  `CREATE INDEX usage_events_unpriced_idx ON usage_events (provider, model, occurred_at) WHERE NOT priced`,
];

/**
 * A year of data (issue 14): `usage_events` becomes a table partitioned by
 * UTC month of `occurred_at`, one table per month, so RETENTION_MONTHS can
 * drop a whole month at once and a month's reads and indexes stay the size of
 * a month.
 *
 * A unique key of a partitioned table must hold the partition column, and an
 * event_id must be unique per project whatever its time (a replay with another
 * timestamp is still the same call). So the (project_id, event_id) key moves
 * to `usage_event_keys`, one narrow row per event with its time: ingest
 * inserts the key first (ON CONFLICT DO NOTHING) and stores only the events
 * whose key was new, and a lookup by key reads the time there, then that one
 * month. The events table keeps its two indexes; the key table's primary key
 * replaces the old one, so an event still costs two index entries and one more
 * small row.
 *
 * The events table has no foreign keys any more. Ingest takes project_id from
 * the key that authenticated the request and price_version_id from the price
 * book loaded from price_versions, and neither projects nor price versions are
 * ever deleted; the two checks were a fifth of PostgreSQL's time per event
 * (bench/RESULTS.md), and a table distributed by project_id is simpler without
 * them (docs/deploy.md).
 *
 * Months holding events, and the current one with three ahead, are made now;
 * the worker keeps making them ahead, and ingest makes a missing one for a
 * late or backfilled event.
 */
export class PartitionUsageEventsByMonth1795804200000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_events RENAME TO usage_events_unpartitioned`);
    await q.query(`DROP INDEX usage_events_occurred_idx`);
    await q.query(`DROP INDEX usage_events_unpriced_idx`);
    await q.query(`
      CREATE TABLE usage_events (LIKE usage_events_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
      PARTITION BY RANGE (occurred_at)`);
    const held: Array<{ month: Date }> = await q.query(
      `SELECT DISTINCT date_trunc('month', occurred_at, 'UTC') AS month FROM usage_events_unpartitioned`,
    );
    const months = new Map<number, Date>();
    for (const { month } of held) months.set(new Date(month).getTime(), monthStart(new Date(month)));
    for (let ahead = 0; ahead <= 3; ahead++) {
      const start = monthStart(new Date(), ahead);
      months.set(start.getTime(), start);
    }
    for (const start of months.values()) {
      await q.query(
        `CREATE TABLE ${monthTable(start)} PARTITION OF usage_events
         FOR VALUES FROM ('${start.toISOString()}') TO ('${monthStart(start, 1).toISOString()}')`,
      );
    }
    await q.query(`INSERT INTO usage_events SELECT * FROM usage_events_unpartitioned`);
    await q.query(`
      CREATE TABLE usage_event_keys (
        project_id uuid NOT NULL,
        event_id text NOT NULL,
        occurred_at timestamptz NOT NULL,
        CONSTRAINT usage_event_keys_pkey PRIMARY KEY (project_id, event_id)
      )`);
    await q.query(
      `INSERT INTO usage_event_keys (project_id, event_id, occurred_at) SELECT project_id, event_id, occurred_at FROM usage_events_unpartitioned`,
    );
    await q.query(`DROP TABLE usage_events_unpartitioned`);
    for (const index of INDEXES) await q.query(index);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_events RENAME TO usage_events_partitioned`);
    await q.query(`DROP INDEX usage_events_occurred_idx`);
    await q.query(`DROP INDEX usage_events_unpriced_idx`);
    await q.query(`CREATE TABLE usage_events (LIKE usage_events_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    await q.query(`INSERT INTO usage_events SELECT * FROM usage_events_partitioned`);
    await q.query(`DROP TABLE usage_events_partitioned`);
    await q.query(`DROP TABLE usage_event_keys`);
    await q.query(`ALTER TABLE usage_events ADD CONSTRAINT usage_events_pkey PRIMARY KEY (project_id, event_id)`);
    await q.query(`ALTER TABLE usage_events ADD FOREIGN KEY (project_id) REFERENCES projects (id)`);
    await q.query(`ALTER TABLE usage_events ADD FOREIGN KEY (price_version_id) REFERENCES price_versions (id)`);
    for (const index of INDEXES) await q.query(index);
  }
}
