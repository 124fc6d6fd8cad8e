export * from './pricing.service';
export * from './pricing-refresh.service';
export * from './pricing.module';
export { versionView } from './pricing.controller';
export { PRICE_VERSION_EXAMPLE } from './pricing.api';
