import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AuthModule } from '@tokentally/auth';
import { AppConfig, ConfigModule } from '@tokentally/common';
import { DbModule } from '@tokentally/db';
import { IngestModule } from '@tokentally/ingest';
import { PricingModule } from '@tokentally/pricing';
import { BudgetsModule } from '@tokentally/budgets';
import { WebhooksModule } from '@tokentally/webhooks';
import { ReconciliationModule } from '@tokentally/reconciliation';

/**
 * The background jobs alone (rollup compaction, pricing pull, budget
 * evaluation, webhook delivery), for deployments that scale api replicas
 * apart and run them with RUN_JOBS=false.
 */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ScheduleModule.forRoot(),
        ConfigModule.forRoot({ ...config, runJobs: true }),
        DbModule.forRoot({ http: false }),
        AuthModule,
        PricingModule,
        IngestModule,
        WebhooksModule,
        BudgetsModule,
        ReconciliationModule,
      ],
    };
  }
}
