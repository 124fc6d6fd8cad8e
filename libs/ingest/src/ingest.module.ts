import { Module } from '@nestjs/common';
import { PricingModule } from '@tokentally/pricing';
import { EventsQueryService } from './events-query.service';
import { IngestController } from './ingest.controller';
import { IngestService } from './ingest.service';
import { RollupCompactor } from './rollup-compactor.service';

@Module({
  imports: [PricingModule],
  controllers: [IngestController],
  providers: [IngestService, EventsQueryService, RollupCompactor],
  exports: [IngestService, RollupCompactor],
})
export class IngestModule {}
