export * from './pricing.service';
export * from './pricing.module';
