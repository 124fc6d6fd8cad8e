export { withTokenTally, tokenTallyOf } from './with-tokentally';
export { tokenTallyFetch } from './fetch';
export type { TokenTallyFetchOptions } from './fetch';
export { TokenTallyClient } from './client';
export { tokentally } from './context';
export type { Attribution } from './context';
export { detectProvider, normalizeModel } from './provider';
export { uuidv7 } from './uuid7';
export type {
  Dimensions,
  TokenUsage,
  UsageEvent,
  TrackInput,
  TokenTallyOptions,
  TokenTallyError,
  TokenTallyErrorType,
} from './types';
