import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { APP_CONFIG, AppConfig } from '@tokentally/common';
import { monthsHolding, rawEventsKeptSince, utcMonthStart } from '@tokentally/core';
import { EventMonthsRepository } from './event-months.sql';

/** Months made ahead of the current one, so ingest never waits to make one in the normal course. */
export const MONTHS_AHEAD = 3;
export const EVENT_MONTHS_JOB = 'event-months';

export interface EventMonthsRun {
  made: string[];
  dropped: Array<{ month: string; events: number }>;
  keysForgotten: number;
  /** Raw events before this instant are no longer kept (RETENTION_MONTHS); null: all are kept. */
  keptSince: string | null;
}

/**
 * The monthly tables of raw events: made ahead of time, and dropped when
 * older than RETENTION_MONTHS. Dropping a month removes its raw events only;
 * the rollups (hourly, and the user rollups by day and month) keep every
 * total, so reports over it still answer (docs/deploy.md, "A year of data and
 * more"). Runs in the process that runs the jobs: at start and every day.
 */
@Injectable()
export class EventMonthsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EventMonthsService.name);
  private running: Promise<EventMonthsRun> | null = null;

  constructor(
    @Inject(EventMonthsRepository) private readonly months: EventMonthsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runJobs) return;
    void this.maintain().catch((error) => this.logger.warn(`event months upkeep failed: ${error?.message ?? error}`));
  }

  async onModuleDestroy(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  @Cron('17 0 * * *', { name: EVENT_MONTHS_JOB, timeZone: 'UTC' })
  async maintainDaily(): Promise<void> {
    if (!this.config.runJobs) return;
    await this.maintain().catch((error) => this.logger.warn(`event months upkeep failed: ${error?.message ?? error}`));
  }

  /** Makes the current month and MONTHS_AHEAD ahead, and drops the months RETENTION_MONTHS no longer keeps. */
  maintain(now = Date.now()): Promise<EventMonthsRun> {
    this.running ??= this.run(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Makes the tables of the months of these event times where missing (a late or backfilled event). */
  async ensureMonthsOf(timestamps: string[]): Promise<void> {
    const made = await this.months.ensureMonths(monthsHolding(timestamps), true);
    if (made.length > 0) this.logger.log(`made event months ${made.map(monthLabel).join(', ')} for late events`);
  }

  private async run(now: number): Promise<EventMonthsRun> {
    const ahead = Array.from({ length: MONTHS_AHEAD + 1 }, (_, i) => utcMonthStart(now, i));
    const made = await this.months.ensureMonths(ahead);
    const keptSince = rawEventsKeptSince(now, this.config.retentionMonths);
    const dropped: EventMonthsRun['dropped'] = [];
    let keysForgotten = 0;
    if (keptSince) {
      for (const month of await this.months.months()) {
        if (month >= keptSince) break;
        dropped.push({ month: monthLabel(month), events: await this.months.dropMonth(month) });
      }
      // A full read of the key table, so only when a month went; keys left by a run stopped in between only make
      // such an old event a duplicate, and it is refused at the edge anyway.
      if (dropped.length > 0) keysForgotten = await this.months.forgetKeysBefore(keptSince);
    }
    if (made.length > 0) this.logger.log(`made event months ${made.map(monthLabel).join(', ')}`);
    for (const { month, events } of dropped)
      this.logger.log(`dropped the raw events of ${month} (${events} events; RETENTION_MONTHS keeps their rollups)`);
    return { made: made.map(monthLabel), dropped, keysForgotten, keptSince: keptSince?.toISOString() ?? null };
  }
}

function monthLabel(month: Date): string {
  return month.toISOString().slice(0, 7);
}
