export * from './ingest.module';
export * from './ingest.service';
export * from './rollup-compactor.service';
export * from './dto/usage-event.dto';
export * from './restatement.service';
export * from './event-months.service';
export * from './ingest-writer';
export * from './periods.service';
