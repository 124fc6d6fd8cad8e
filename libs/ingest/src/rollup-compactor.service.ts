import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@tokentally/common';
import { RollupsRepository } from './ingest.sql';

const COMPACT_EVERY_MS = 1000;
const DELTAS_PER_RUN = 50_000;

/**
 * Folds rollup deltas into the hourly rollups in the background (the user
 * family's also into its daily and monthly tables, in the same statement).
 * Correctness does not depend on it (reports read rollups and deltas
 * together); it keeps the delta tables small. One compactor at a time across
 * replicas.
 */
@Injectable()
export class RollupCompactor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RollupCompactor.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    @Inject(RollupsRepository) private readonly rollups: RollupsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runJobs) return;
    this.timer = setInterval(
      () => void this.compactOnce().catch((error) => this.logger.warn(`rollup compaction failed: ${error}`)),
      COMPACT_EVERY_MS,
    );
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Moves up to DELTAS_PER_RUN deltas into the rollup. */
  compactOnce(): Promise<void> {
    this.running ??= this.rollups.compact(DELTAS_PER_RUN).finally(() => {
      this.running = null;
    });
    return this.running;
  }
}
