/** The attribution dimensions TokenTally reports on. */
export interface Dimensions {
  team?: string;
  user?: string;
  feature?: string;
  environment?: string;
}

/** Token counts in TokenTally's six disjoint kinds. */
export interface TokenUsage {
  input_text_tokens: number;
  cached_input_text_tokens: number;
  input_image_tokens: number;
  cached_input_image_tokens: number;
  output_image_tokens: number;
  output_text_tokens: number;
}

/** One model call, in the wire format of TokenTally's POST /v1/events. */
export interface UsageEvent {
  event_id: string;
  timestamp: string;
  provider: string;
  model: string;
  operation?: string;
  usage: Partial<TokenUsage>;
  images?: number;
  image_size?: string;
  image_quality?: string;
  status: 'ok' | 'error';
  latency_ms?: number;
  dimensions?: Dimensions;
  tags?: Record<string, string>;
  /** What the provider itself reported the call cost (OpenRouter's `usage.cost`), USD as a decimal string. */
  provider_cost_usd?: string;
}

/** What `track()` takes: event_id and timestamp are filled in when absent. */
export type TrackInput = Omit<UsageEvent, 'event_id' | 'timestamp' | 'status'> &
  Partial<Pick<UsageEvent, 'event_id' | 'timestamp' | 'status'>>;

export type TokenTallyErrorType = 'dropped' | 'delivery_failed' | 'rejected' | 'retrying' | 'internal';

/** Reported through `onError`; the middleware never throws into the caller. */
export interface TokenTallyError {
  type: TokenTallyErrorType;
  message: string;
  /** Events concerned (dropped, failed or rejected). */
  count: number;
  status?: number;
  cause?: unknown;
}

export interface TokenTallyOptions {
  /** Base URL of TokenTally, for example http://localhost:3000. */
  endpoint: string;
  /** An ingest key (`tt_...`). */
  apiKey: string;
  /** Attached to every event (per-call values win). */
  dimensions?: Dimensions;
  tags?: Record<string, string>;
  /** Provider slug; detected from the request's host or path (and an `AzureOpenAI` client) when absent. */
  provider?: string;
  /**
   * Azure OpenAI deployment names and the model each serves (`{ 'img-prod': 'gpt-image-2' }`): an answer that
   * names no model (the Images API's) is recorded under the deployment's model. Without an entry, the model the
   * request names, else the deployment name.
   */
  deployments?: Record<string, string>;
  /** Events per request to TokenTally (default 100, at most 1000). */
  batchSize?: number;
  /** Longest wait before a partial batch is sent (default 1000 ms). */
  flushIntervalMs?: number;
  /** Events held in memory at most; the oldest are dropped beyond (default 10,000). */
  maxQueueSize?: number;
  /** Ceiling of the retry backoff (default 30 s). */
  maxRetryDelayMs?: number;
  /** Timeout of one delivery request (default 10 s). */
  requestTimeoutMs?: number;
  /** Told about drops, failed deliveries and rejected events. */
  onError?: (error: TokenTallyError) => void;
  /** fetch used to reach TokenTally (default: node:http or node:https, with connections kept alive). */
  deliveryFetch?: typeof fetch;
  /** Flush on process exit (default true). */
  flushOnExit?: boolean;
}
