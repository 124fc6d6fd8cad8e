export * from './metrics';
export * from './database-gauges';
export * from './metrics.controller';
export * from './http-observability';
export * from './request-id';
export * from './observability.module';
