import { Module } from '@nestjs/common';
import { PricingController } from './pricing.controller';
import { PricingRefreshService } from './pricing-refresh.service';
import { PricingService } from './pricing.service';
import { PendingPricesRepository, PricingRunsRepository, PriceVersionsRepository } from './pricing.sql';

@Module({
  controllers: [PricingController],
  providers: [
    PriceVersionsRepository,
    PricingRunsRepository,
    PendingPricesRepository,
    PricingService,
    PricingRefreshService,
  ],
  exports: [PricingService, PricingRefreshService],
})
export class PricingModule {}
