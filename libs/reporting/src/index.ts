export * from './reporting.module';
export * from './reports.service';
export * from './dto/report-query.dto';
