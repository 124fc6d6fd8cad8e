import { Global, Module } from '@nestjs/common';
import { PricingModule } from '@tokentally/pricing';
import { DatabaseGauges } from './database-gauges';
import { MetricsController } from './metrics.controller';
import { IngestMetrics, Metrics } from './metrics';

/**
 * GET /metrics and the metrics registry of the api (docs/observability.md).
 * Global so that a feature's controller can take IngestMetrics; the worker
 * does not import it (no HTTP port), so they take it as @Optional().
 */
@Global()
@Module({
  imports: [PricingModule],
  controllers: [MetricsController],
  providers: [Metrics, IngestMetrics, DatabaseGauges],
  exports: [Metrics, IngestMetrics],
})
export class ObservabilityModule {}
