import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { IngestMetrics } from '@tokentally/observability';
import { EventMonthsService } from './event-months.service';
import { eventKey, UsageEventsRepository } from './ingest.sql';

/** One event ready to store: its project, id and time, and its row in the order of SQL.insertEvents. */
export interface EventToStore {
  projectId: string;
  eventId: string;
  timestamp: string;
  /** The columns after project_id, in the order of SQL.insertEvents. */
  values: unknown[];
}

interface Submission {
  events: EventToStore[];
  resolve(inserted: Set<string>): void;
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
const COLUMNS = 26;

/**
 * Writes the events of concurrent ingest requests together (group commit in
 * the application). Each request still answers only after the statement that
 * holds its events has committed, and that statement holds the events' rollup
 * deltas too, so the 202-after-commit promise and exactly-once rollups hold.
 * An event id sent by two requests of one statement is stored for the first;
 * the second sees it as a duplicate. If a shared statement fails, each request
 * in it is written alone, so a request can only fail on its own events.
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
   * Stores the events (unique by project and id); resolves, once committed, with the keys (eventKey) of the
   * events this call stored (not those stored before, nor those another request of the statement sent first).
   */
  write(events: EventToStore[]): Promise<Set<string>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ events, resolve, reject });
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
      const inserted = await this.insert(group.flatMap((s) => s.events));
      // An event sent by two requests of the statement was stored for the first one; the later one sees a duplicate.
      const claimed = new Set<string>();
      for (const submission of group) {
        const own = new Set<string>();
        for (const event of submission.events) {
          const key = eventKey(event.projectId, event.eventId);
          if (inserted.has(key) && !claimed.has(key)) {
            claimed.add(key);
            own.add(key);
          }
        }
        submission.resolve(own);
      }
    } catch (error) {
      if (group.length === 1) {
        group[0].reject(error);
        return;
      }
      this.logger.warn(`a statement of ${group.length} ingest requests failed; writing each alone: ${error}`);
      for (const submission of group) {
        await this.insert(submission.events).then(submission.resolve, submission.reject);
      }
    }
  }

  /** One statement for these events; a month with no table yet is made, then the statement runs again. */
  private async insert(events: EventToStore[]): Promise<Set<string>> {
    const columns = columnsOf(events);
    try {
      return await this.repository.insertEvents(columns);
    } catch (error) {
      if (!isMissingMonth(error)) throw error;
      await this.months.ensureMonthsOf(events.map((e) => e.timestamp));
      return this.repository.insertEvents(columns);
    }
  }
}

/**
 * The events as one array per column, the first occurrence of each (project, event_id) only, sorted by
 * (project, event_id): two statements sharing keys then wait on each other in one order and never deadlock.
 */
function columnsOf(events: EventToStore[]): unknown[][] {
  const unique = new Map<string, EventToStore>();
  for (const event of events) {
    const key = eventKey(event.projectId, event.eventId);
    if (!unique.has(key)) unique.set(key, event);
  }
  const rows = [...unique.values()].sort((a, b) =>
    a.projectId !== b.projectId
      ? a.projectId < b.projectId
        ? -1
        : 1
      : a.eventId < b.eventId
        ? -1
        : a.eventId > b.eventId
          ? 1
          : 0,
  );
  const columns: unknown[][] = Array.from({ length: COLUMNS }, () => new Array(rows.length));
  rows.forEach((row, i) => {
    columns[0][i] = row.projectId;
    for (let c = 1; c < COLUMNS; c++) columns[c][i] = row.values[c - 1];
  });
  return columns;
}

/** PostgreSQL's answer to a row whose month of usage_events has no table: `no partition of relation ... found`. */
function isMissingMonth(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '23514' && /no partition of relation/.test(e.message ?? '');
}
