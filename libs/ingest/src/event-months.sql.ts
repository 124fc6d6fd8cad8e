import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { eventMonthTable, monthOfEventTable, utcMonthStart } from '@tokentally/core';
import { Queryable, queryRows } from '@tokentally/db';

/**
 * Statements of the monthly tables of raw events (`usage_events` is
 * partitioned by UTC month of occurred_at; migration 1795804200000).
 *
 * Making or dropping a month locks the parent table for a moment (ACCESS
 * EXCLUSIVE), which waits for reads of raw events in flight and holds ingest
 * behind it: `lock_timeout` bounds that wait, and a month that could not be
 * made or dropped is tried again on the next run (months are made three ahead).
 * One maker at a time across processes (`monthsLock`).
 */
const EVENT_MONTHS_SQL = {
  monthsLock: `SELECT pg_advisory_xact_lock(7291004)`,
  lockTimeout: (ms: number) => `SET LOCAL lock_timeout = ${Math.trunc(ms)}`,
  monthTables: `
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'usage_events'::regclass`,
  /** Table names come from eventMonthTable and bounds from Date.toISOString only: nothing a caller typed. */
  createMonth: (start: Date) => `
    CREATE TABLE IF NOT EXISTS ${eventMonthTable(start)} PARTITION OF usage_events
    FOR VALUES FROM ('${start.toISOString()}') TO ('${utcMonthStart(start, 1).toISOString()}')`,
  countMonth: (start: Date) => `SELECT count(*)::bigint AS events FROM ${eventMonthTable(start)}`,
  detachMonth: (start: Date) => `ALTER TABLE usage_events DETACH PARTITION ${eventMonthTable(start)}`,
  dropMonth: (start: Date) => `DROP TABLE ${eventMonthTable(start)}`,
  /** Keys of events no longer kept: a replay of one is refused at the edge (older than the retention). */
  forgetKeysBefore: `WITH gone AS (DELETE FROM usage_event_keys WHERE occurred_at < $1 RETURNING 1) SELECT count(*)::bigint AS keys FROM gone`,
} as const;

/** The lock wait of the worker's runs; a month it could not lock is tried again the next day. */
const MAINTENANCE_LOCK_TIMEOUT_MS = 2_000;
/** Ingest making a month for a late event waits longer: the event's request waits on it. */
const INGEST_LOCK_TIMEOUT_MS = 10_000;

@Injectable()
export class EventMonthsRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** The month starts of the monthly tables that exist, oldest first. */
  months(): Promise<Date[]> {
    return this.monthsIn(this.db);
  }

  /** Makes the tables of these months where missing; the months made. */
  ensureMonths(months: Date[], forIngest = false): Promise<Date[]> {
    return this.underMonthsLock(forIngest ? INGEST_LOCK_TIMEOUT_MS : MAINTENANCE_LOCK_TIMEOUT_MS, async (tx) => {
      const existing = new Set((await this.monthsIn(tx)).map((m) => m.getTime()));
      const made: Date[] = [];
      for (const month of months) {
        if (existing.has(month.getTime())) continue;
        await tx.query(EVENT_MONTHS_SQL.createMonth(month));
        made.push(month);
      }
      return made;
    });
  }

  /** Detaches and drops one month's table; the number of events it held. */
  dropMonth(month: Date): Promise<number> {
    return this.underMonthsLock(MAINTENANCE_LOCK_TIMEOUT_MS, async (tx) => {
      const [{ events }] = await queryRows<{ events: string }>(tx, EVENT_MONTHS_SQL.countMonth(month));
      await tx.query(EVENT_MONTHS_SQL.detachMonth(month));
      await tx.query(EVENT_MONTHS_SQL.dropMonth(month));
      return Number(events);
    });
  }

  /** Forgets the keys of events before `before`; how many. */
  async forgetKeysBefore(before: Date): Promise<number> {
    const [{ keys }] = await queryRows<{ keys: string }>(this.db, EVENT_MONTHS_SQL.forgetKeysBefore, [before]);
    return Number(keys);
  }

  private async monthsIn(db: Queryable): Promise<Date[]> {
    const rows = await queryRows<{ name: string }>(db, EVENT_MONTHS_SQL.monthTables);
    return rows
      .map((row) => monthOfEventTable(row.name))
      .filter((month): month is Date => month !== null)
      .sort((a, b) => a.getTime() - b.getTime());
  }

  private underMonthsLock<T>(lockTimeoutMs: number, work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.query(EVENT_MONTHS_SQL.lockTimeout(lockTimeoutMs));
      await tx.query(EVENT_MONTHS_SQL.monthsLock);
      return work(tx);
    });
  }
}
