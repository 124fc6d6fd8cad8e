import { Module } from '@nestjs/common';
import { PricingController } from './pricing.controller';
import { PricingRefreshService } from './pricing-refresh.service';
import { PricingService } from './pricing.service';

@Module({
  controllers: [PricingController],
  providers: [PricingService, PricingRefreshService],
  exports: [PricingService, PricingRefreshService],
})
export class PricingModule {}
