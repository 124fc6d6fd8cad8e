export * from './webhooks.module';
export * from './webhooks.service';
export * from './webhook-dispatcher.service';
export * from './payloads';
export * from './ssrf';
export * from './webhook-sender';
export { EVENT_TYPES } from './webhooks.dto';
export * from './secrets-at-rest.service';
