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
import { PeriodsController } from './periods.controller';
import { PeriodsService } from './periods.service';
import { PeriodsRepository } from './periods.sql';

@Module({
  imports: [PricingModule],
  controllers: [IngestController, RestatementController, PeriodsController],
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
    PeriodsRepository,
    PeriodsService,
  ],
  exports: [IngestService, RollupCompactor, RestatementService, EventMonthsService, PeriodsService],
})
export class IngestModule {}
