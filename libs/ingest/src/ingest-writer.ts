import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { pgArrayLiteral } from '@tokentally/db';
import { IngestMetrics } from '@tokentally/observability';
import { EventMonthsService } from './event-months.service';
import { eventKey, StoredKey, UsageEventsRepository } from './ingest.sql';

/** One event ready to store: its id and time, and its row in the order of SQL.insertEvents. */
export interface EventToStore {
  eventId: string;
  timestamp: string;
  /** The columns after project_id, in the order of SQL.insertEvents. */
  values: unknown[];
}

interface Submission {
  projectId: string;
  events: EventToStore[];
  /** With the ids of the events not stored by this submission. */
  resolve(duplicates: Set<string>): void;
  reject(error: unknown): void;
}

/**
 * Statements in flight at once. While they run, requests that arrive wait and
 * then go together in one statement and one commit: under load the cost of a
 * statement and of a commit (its WAL flush) is shared by many requests, and a
 * lone request goes at once. Two keep PostgreSQL's two cores busy here (bench/RESULTS.md).
 */
export const STATEMENTS_IN_FLIGHT = 2;
/** Events per statement at most (a request holds at most 1,000). */
export const EVENTS_PER_STATEMENT = 2_000;
const COLUMNS = 27;

/**
 * Writes the events of concurrent ingest requests together (group commit in
 * the application). Each request still answers only after the statement that
 * holds its events has committed, and that statement holds the events' rollup
 * deltas too, so the 202-after-commit promise and exactly-once rollups hold.
 * An event id sent by two requests of one statement is stored for the first;
 * the second sees it as a duplicate. If a shared statement fails, each request
 * in it is written alone, so a request can only fail on its own events.
 *
 * What comes back is the duplicates, not the events stored: almost always
 * none, so the common answer is an empty set and no key is built for it.
 */
@Injectable()
export class IngestWriter {
  private readonly logger = new Logger(IngestWriter.name);
  private readonly waiting: Submission[] = [];
  private inFlight = 0;
  /** Statements run and requests written since start (a statement per request when the load is light). */
  readonly stats = { statements: 0, requests: 0 };

  constructor(
    @Inject(UsageEventsRepository) private readonly repository: UsageEventsRepository,
    @Inject(EventMonthsService) private readonly months: EventMonthsService,
    // Counters of GET /metrics (absent in the worker, which serves no HTTP).
    @Optional() @Inject(IngestMetrics) private readonly metrics?: IngestMetrics,
  ) {}

  /**
   * Stores a project's events (unique by id); resolves, once committed, with the ids of those this call did not
   * store: stored before, or sent first by another request of the same statement. The others are stored now.
   */
  write(projectId: string, events: EventToStore[]): Promise<Set<string>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ projectId, events, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < STATEMENTS_IN_FLIGHT && this.waiting.length > 0) {
      const group: Submission[] = [this.waiting.shift()!];
      let size = group[0].events.length;
      while (this.waiting.length > 0 && size + this.waiting[0].events.length <= EVENTS_PER_STATEMENT) {
        size += this.waiting[0].events.length;
        group.push(this.waiting.shift()!);
      }
      this.inFlight++;
      void this.writeGroup(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async writeGroup(group: Submission[]): Promise<void> {
    this.stats.statements++;
    this.stats.requests += group.length;
    this.metrics?.statementWritten(group.length);
    try {
      const storedBefore = await this.insert(group);
      if (group.length === 1) {
        group[0].resolve(eventIdsOf(storedBefore));
        return;
      }
      // An event sent by two requests of the statement was stored for the first; the later one sees a duplicate.
      const stored = new Set(storedBefore.map((key) => eventKey(key.project_id, key.event_id)));
      const claimed = new Set<string>();
      for (const submission of group) {
        const duplicates = new Set<string>();
        for (const event of submission.events) {
          const key = eventKey(submission.projectId, event.eventId);
          if (stored.has(key) || claimed.has(key)) duplicates.add(event.eventId);
          else claimed.add(key);
        }
        submission.resolve(duplicates);
      }
    } catch (error) {
      if (group.length === 1) {
        group[0].reject(error);
        return;
      }
      this.logger.warn(`a statement of ${group.length} ingest requests failed; writing each alone: ${error}`);
      for (const submission of group) {
        await this.insert([submission]).then(
          (storedBefore) => submission.resolve(eventIdsOf(storedBefore)),
          submission.reject,
        );
      }
    }
  }

  /**
   * One statement for the submissions' events; the keys of those stored before it. A month with no table yet is
   * made, then the statement runs again.
   */
  private async insert(group: Submission[]): Promise<StoredKey[]> {
    const columns = columnsOf(group);
    try {
      return await this.repository.insertEvents(columns);
    } catch (error) {
      if (!isMissingMonth(error)) throw error;
      await this.months.ensureMonthsOf(group.flatMap((s) => s.events.map((e) => e.timestamp)));
      return this.repository.insertEvents(columns);
    }
  }
}

/**
 * The events as one array literal per column (pgArrayLiteral), the first occurrence of each (project, event_id)
 * only, sorted by (project, event_id): two statements sharing keys then wait on each other in one order and never
 * deadlock.
 */
function columnsOf(group: Submission[]): string[] {
  // Unique by key whatever the callers sent: the key table would take a repeated key once, but both copies
  // would join it and be stored and counted.
  const rows: Array<{ projectId: string; event: EventToStore }> = [];
  const seen = new Set<string>();
  for (const { projectId, events } of group) {
    for (const event of events) {
      const key = eventKey(projectId, event.eventId);
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push({ projectId, event });
    }
  }
  rows.sort((a, b) =>
    a.projectId !== b.projectId
      ? a.projectId < b.projectId
        ? -1
        : 1
      : a.event.eventId < b.event.eventId
        ? -1
        : a.event.eventId > b.event.eventId
          ? 1
          : 0,
  );
  const columns: string[] = [];
  const values = new Array<unknown>(rows.length);
  for (let c = 0; c < COLUMNS; c++) {
    for (let r = 0; r < rows.length; r++) values[r] = c === 0 ? rows[r].projectId : rows[r].event.values[c - 1];
    columns.push(pgArrayLiteral(values));
  }
  return columns;
}

/** The event ids of keys (all of one project: a statement of a single request). */
function eventIdsOf(keys: StoredKey[]): Set<string> {
  return new Set(keys.map((key) => key.event_id));
}

/** PostgreSQL's answer to a row whose month of usage_events has no table: `no partition of relation ... found`. */
function isMissingMonth(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '23514' && /no partition of relation/.test(e.message ?? '');
}
