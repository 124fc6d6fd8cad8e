import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AuthModule } from '@tokentally/auth';
import { AppConfig, ConfigModule } from '@tokentally/common';
import { DbModule } from '@tokentally/db';
import { IngestModule } from '@tokentally/ingest';
import { PricingModule } from '@tokentally/pricing';
import { ReportingModule } from '@tokentally/reporting';
import { BudgetsModule } from '@tokentally/budgets';
import { WebhooksModule } from '@tokentally/webhooks';
import { ObservabilityModule } from '@tokentally/observability';
import { OpenApiModule } from '@tokentally/openapi';
import { ReconciliationModule } from '@tokentally/reconciliation';
import { OtlpModule } from '@tokentally/otlp';

/** The HTTP process: every feature module, and by default the background jobs too. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ScheduleModule.forRoot(),
        ConfigModule.forRoot(config),
        DbModule.forRoot(),
        AuthModule,
        PricingModule,
        IngestModule,
        ReportingModule,
        WebhooksModule,
        BudgetsModule,
        ReconciliationModule,
        OtlpModule,
        ObservabilityModule,
        OpenApiModule,
      ],
    };
  }
}
