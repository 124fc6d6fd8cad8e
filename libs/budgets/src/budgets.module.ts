import { Module } from '@nestjs/common';
import { ReportingModule } from '@tokentally/reporting';
import { WebhooksModule } from '@tokentally/webhooks';
import { AlertsController } from './alerts.controller';
import { AlertsService } from './alerts.service';
import { AlertsRepository } from './alerts.sql';
import { AnomalyDetector } from './anomaly-detector.service';
import { BudgetEvaluator } from './budget-evaluator.service';
import { BudgetsChartController } from './budgets-chart.controller';
import { BudgetsController } from './budgets.controller';
import { BudgetsService } from './budgets.service';
import { BudgetsRepository } from './budgets.sql';

@Module({
  imports: [ReportingModule, WebhooksModule],
  // The chart route is registered before the reporting lib's generic `:file` route is matched (static beats
  // parametric).
  controllers: [BudgetsController, AlertsController, BudgetsChartController],
  providers: [BudgetsRepository, AlertsRepository, BudgetsService, AlertsService, BudgetEvaluator, AnomalyDetector],
  exports: [BudgetsService, BudgetEvaluator],
})
export class BudgetsModule {}
