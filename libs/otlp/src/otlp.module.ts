import { Module } from '@nestjs/common';
import { AuthModule } from '@tokentally/auth';
import { IngestModule } from '@tokentally/ingest';
import { OtlpController } from './otlp.controller';
import { OtlpTracesService } from './otlp-traces.service';

/** OTLP/HTTP trace input: GenAI semantic-convention spans become usage events. Issue 16, part 4 (docs/otlp.md). */
@Module({
  imports: [AuthModule, IngestModule],
  controllers: [OtlpController],
  providers: [OtlpTracesService],
})
export class OtlpModule {}
