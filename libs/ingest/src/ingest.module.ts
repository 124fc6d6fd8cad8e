import { Module } from '@nestjs/common';
import { PricingModule } from '@tokentally/pricing';
import { EventMonthsRepository } from './event-months.sql';
import { EventMonthsService } from './event-months.service';
import { EventsQueryService } from './events-query.service';
import { IngestController } from './ingest.controller';
import { IngestService } from './ingest.service';
import { IngestWriter } from './ingest-writer';
import { RollupsRepository, UsageEventsRepository } from './ingest.sql';
import { RollupCompactor } from './rollup-compactor.service';
import { RestatementController } from './restatement.controller';
import { RestatementService } from './restatement.service';
import { RestatementsRepository } from './restatement.sql';

@Module({
  imports: [PricingModule],
  controllers: [IngestController, RestatementController],
  providers: [
    UsageEventsRepository,
    RollupsRepository,
    RestatementsRepository,
    IngestService,
    IngestWriter,
    EventsQueryService,
    RollupCompactor,
    RestatementService,
    EventMonthsRepository,
    EventMonthsService,
  ],
  exports: [IngestService, RollupCompactor, RestatementService, EventMonthsService],
})
export class IngestModule {}
