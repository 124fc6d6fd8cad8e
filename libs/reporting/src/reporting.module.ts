import { Module } from '@nestjs/common';
import { PricingModule } from '@tokentally/pricing';
import { ChartsController } from './charts.controller';
import { DashboardController } from './dashboard/dashboard.controller';
import { DimensionsController } from './dimensions.controller';
import { DimensionValuesService } from './dimension-values.service';
import { DimensionValuesRepository } from './dimension-values.sql';
import { ChartLinks } from './charts/chart-links.service';
import { ChartLinksRepository } from './charts/chart-links.sql';
import { ChartRenderer } from './charts/chart-renderer.service';
import { ChargebackController, CostCentersController } from './cost-centers.controller';
import { CostCentersService } from './cost-centers.service';
import { CostCentersRepository } from './cost-centers.sql';
import { MonthCloseController } from './month-close.controller';
import { MonthCloseService } from './month-close.service';
import { MonthCloseRepository } from './month-close.sql';
import { ReportsController } from './reports.controller';
import { ReportsExportService } from './reports-export.service';
import { ReportsService } from './reports.service';
import { ReportsRepository } from './reports.sql';

@Module({
  imports: [PricingModule],
  controllers: [
    ReportsController,
    MonthCloseController,
    ChargebackController,
    CostCentersController,
    DimensionsController,
    ChartsController,
    DashboardController,
  ],
  providers: [
    ReportsRepository,
    MonthCloseRepository,
    CostCentersRepository,
    CostCentersService,
    DimensionValuesRepository,
    ChartLinksRepository,
    ReportsService,
    ReportsExportService,
    MonthCloseService,
    DimensionValuesService,
    ChartRenderer,
    ChartLinks,
  ],
  exports: [ReportsService, MonthCloseService, DimensionValuesService, ChartRenderer, ChartLinks],
})
export class ReportingModule {}
