import { Module } from '@nestjs/common';
import { PricingModule } from '@tokentally/pricing';
import { ChartsController } from './charts.controller';
import { DashboardController } from './dashboard/dashboard.controller';
import { ChartLinks } from './charts/chart-links.service';
import { ChartRenderer } from './charts/chart-renderer.service';
import { ReportsController } from './reports.controller';
import { ReportsExportService } from './reports-export.service';
import { ReportsService } from './reports.service';

@Module({
  imports: [PricingModule],
  controllers: [ReportsController, ChartsController, DashboardController],
  providers: [ReportsService, ReportsExportService, ChartRenderer, ChartLinks],
  exports: [ReportsService, ChartRenderer, ChartLinks],
})
export class ReportingModule {}
