import { TokenTallyClient } from './client';
import { isInstrumented, tokenTallyFetch, TokenTallyFetchOptions } from './fetch';

const TALLY = Symbol.for('tokentally.client');

/** What withTokenTally needs of a client: the `fetch` every openai-node major keeps on the instance. */
interface FetchHolder {
  fetch?: unknown;
}

/**
 * Instruments an existing OpenAI (or AzureOpenAI) client in place and returns
 * it, type unchanged. Every request of every resource goes through the
 * middleware; calling it twice on one client changes nothing.
 */
export function withTokenTally<C extends object>(client: C, options: TokenTallyFetchOptions): C {
  const holder = client as C & FetchHolder;
  if (isInstrumented(holder.fetch)) return client;
  const original = typeof holder.fetch === 'function' ? (holder.fetch as typeof fetch) : undefined;
  // An AzureOpenAI client (the openai package's; it alone carries an apiVersion) calls Azure, whatever its endpoint.
  const provider = options.provider ?? (isAzureClient(client) ? 'azure' : undefined);
  const instrumented = tokenTallyFetch({ ...options, provider, fetch: original ?? options.fetch });
  holder.fetch = instrumented;
  Object.defineProperty(client, TALLY, { value: instrumented.tokenTally, configurable: true });
  return client;
}

function isAzureClient(client: object): boolean {
  return typeof (client as { apiVersion?: unknown }).apiVersion === 'string';
}

/** The delivery client behind an instrumented OpenAI client, for flush() and shutdown(). */
export function tokenTallyOf(client: object): TokenTallyClient | undefined {
  return (client as Record<symbol, TokenTallyClient | undefined>)[TALLY];
}
