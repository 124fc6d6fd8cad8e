import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { APP_CONFIG, AppConfig } from '@tokentally/common';
import { addDays, utcDay } from './reconciliation.dto';
import { ReconciliationService, RunView } from './reconciliation.service';

/** The registered name of the daily job. */
export const RECONCILIATION_JOB = 'reconciliation-daily';

/**
 * The daily reconciliation (RECONCILE_CRON, default 04:30 UTC): the
 * RECONCILE_DAYS days before today (default 3), so each day is reconciled
 * again while OpenAI's figures for it settle. Registered only where jobs run
 * and an admin key is set. Safe to tick on every replica: the run of a day
 * is a row with a unique key, so one replica runs it and the others skip; and
 * safe to run twice, as a drift alert fires once per day, row and figures.
 */
@Injectable()
export class ReconciliationJob implements OnApplicationBootstrap {
  private readonly logger = new Logger(ReconciliationJob.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ReconciliationService) private readonly reconciliation: ReconciliationService,
    @Inject(SchedulerRegistry) private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runJobs || !this.config.reconciliation.adminKey) return;
    const job = CronJob.from({
      cronTime: this.config.reconciliation.cron,
      onTick: () => void this.reconcileDaily(),
      start: true,
      timeZone: 'UTC',
    });
    this.scheduler.addCronJob(RECONCILIATION_JOB, job);
  }

  /** The daily run of `now`'s UTC day; null when another replica has it (or it failed to start: logged). */
  async reconcileDaily(now = new Date()): Promise<RunView | null> {
    const today = utcDay(now);
    const range = { from: addDays(today, -this.config.reconciliation.days), to: addDays(today, -1) };
    try {
      const run = await this.reconciliation.run(range, 'schedule', null, `daily:${today}`);
      if (run?.status === 'failed') this.logger.warn(`daily reconciliation failed: ${run.error}`);
      return run;
    } catch (error) {
      this.logger.error(`daily reconciliation could not run: ${(error as Error)?.message ?? error}`);
      return null;
    }
  }
}
