import { Module } from '@nestjs/common';
import { AuthModule } from '@tokentally/auth';
import { PricingModule } from '@tokentally/pricing';
import { WebhooksModule } from '@tokentally/webhooks';
import { ReconciliationJob } from './reconciliation-job.service';
import { ReconciliationController } from './reconciliation.controller';
import { ReconciliationService } from './reconciliation.service';
import { ReconciliationRepository } from './reconciliation.sql';

/**
 * Reconciliation of tracked spend with OpenAI's own bill (Costs and Usage
 * APIs). Issue 16, part 1; docs/reconciliation.md. Reads TokenTally's usage
 * from the rollups (its own statement), prices through PricingService, project
 * names through ApiKeysService, and sends drift through the webhook outbox.
 */
@Module({
  imports: [AuthModule, PricingModule, WebhooksModule],
  controllers: [ReconciliationController],
  providers: [ReconciliationRepository, ReconciliationService, ReconciliationJob],
  exports: [ReconciliationService],
})
export class ReconciliationModule {}
