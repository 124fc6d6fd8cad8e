export * from './reporting.module';
export * from './reports.service';
export * from './dto/report-query.dto';
export * from './charts/chart-renderer.service';
export type { TotalItem } from './reports.sql';
export * from './charts/chart-links.service';
export * from './month-close.service';
export * from './dimension-values.service';
