import { JsonAnswer, ObservedCall, Recorder, StreamAnswer } from './answers';
import { Attribution, takeAttributionHeaders, tokentally } from './context';
import { TokenTallyClient } from './client';
import { GATEWAY_PROVIDER, gatewayImageCall, GatewayImageCall, gatewayImageFacts } from './gateway';
import { azureDeployment, normalizeModel, pathOf, providerDetector } from './provider';
import { parseSkimmed } from './skim';
import { tapBody, TapHooks } from './tap';
import { isoTimestamp } from './time';
import { Dimensions, TokenTallyOptions } from './types';
import {
  EMPTY_FACTS,
  emptyUsage,
  ExtractedCall,
  operationOf,
  RequestFacts,
  requestFacts,
  withApiDefaults,
} from './usage';
import { uuidv7 } from './uuid7';

type Fetch = typeof fetch;

export interface TokenTallyFetchOptions extends TokenTallyOptions {
  /** The fetch to wrap (default: the global fetch). */
  fetch?: Fetch;
  /** Share one delivery queue between several clients. */
  client?: TokenTallyClient;
}

const INSTRUMENTED = Symbol.for('tokentally.instrumented');
/** Request bodies longer than this are not parsed whole; their facts are read by pattern. */
const MAX_PARSED_BODY = 256 * 1024;

interface PreparedCall extends ObservedCall {
  provider: string;
  attribution: Attribution | null;
  eventId: string;
  startedAt: number;
  /** Read for the facts once the request is on its way (see `completeFacts`); null after. */
  pending: { url: string; body: RequestInit['body'] } | null;
  /** A Vercel AI Gateway image call (gateway.ts), or null. */
  gateway: GatewayImageCall | null;
}

/** A copy of a record that is not empty, frozen: shared by the events of every call without attribution of its own. */
function nonEmpty<T extends object>(value: T | undefined): Readonly<T> | undefined {
  return value && Object.keys(value).length > 0 ? Object.freeze({ ...value }) : undefined;
}

/**
 * A fetch for `new OpenAI({ fetch })` that records the usage of every image,
 * Responses and Chat Completions call. The caller's request goes out as it
 * was (less X-TokenTally-* headers) and the caller gets its own Response
 * back: its body is never read by the middleware. Usage is read from what
 * the caller reads (tap.ts): the object json() parsed (the openai client's
 * way: nothing of the answer is touched but its usage fields, whatever the
 * size of its images), or the text, bytes or stream, searched for quotes and
 * line ends with memchr and never decoded or copied whole (skim.ts, sse.ts).
 *
 * This replaced reading the body here (arrayBuffer(), a new Response from
 * the bytes, then decoding and parsing them again): 4 to 5 ms of CPU per
 * 2 MB answer. The event is built and queued as soon as the caller's read
 * gives its value, on the caller's path: a microsecond or two, less than the
 * setImmediate and promise that deferring it cost.
 */
export function tokenTallyFetch(options: TokenTallyFetchOptions): Fetch & { tokenTally: TokenTallyClient } {
  const tally = options.client ?? new TokenTallyClient(options);
  const inner: Fetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
  const report = (cause: unknown) =>
    options.onError?.({
      type: 'internal',
      message: `TokenTally middleware: ${(cause as Error)?.message ?? cause}`,
      count: 0,
      cause,
    });
  const hooks: TapHooks = { pending: (work) => tally.expect(work), report };
  const detectProvider = providerDetector();
  const deployments = options.deployments;
  const modelOfDeployment = (name: string | null): string | undefined =>
    name !== null &&
    deployments &&
    Object.prototype.hasOwnProperty.call(deployments, name) &&
    typeof deployments[name] === 'string' &&
    deployments[name]
      ? deployments[name]
      : undefined;
  // Merged once here: per call only when tokentally.run() or X-TokenTally-* headers add their own.
  const baseDimensions = nonEmpty(options.dimensions);
  const baseTags = nonEmpty(options.tags);

  const record = (call: PreparedCall, found: ExtractedCall[], status: 'ok' | 'error', latencyMs: number) => {
    let dimensions: Readonly<Dimensions> | undefined = baseDimensions;
    let tags: Readonly<Record<string, string>> | undefined = baseTags;
    if (call.attribution) {
      const { tags: callTags, ...callDimensions } = call.attribution;
      dimensions = nonEmpty({ ...options.dimensions, ...callDimensions });
      tags = nonEmpty({ ...options.tags, ...callTags });
    }
    const timestamp = isoTimestamp(call.startedAt);
    const latency = Math.round(latencyMs);
    const calls = found.length > 0 ? found : [{ model: call.facts.model, usage: emptyUsage() } as ExtractedCall];
    for (const extracted of calls) {
      tally.enqueue({
        event_id: extracted.part ? `${call.eventId}:${extracted.part}` : call.eventId,
        timestamp,
        provider: call.provider,
        model: normalizeModel(extracted.model ?? 'unknown'),
        operation: call.operation,
        usage: extracted.usage,
        images: extracted.images,
        image_size: extracted.image_size,
        image_quality: extracted.image_quality,
        status: extracted.status ?? status,
        latency_ms: latency,
        dimensions,
        tags,
        provider_cost_usd: extracted.provider_cost_usd,
      });
    }
  };

  /** The call failed before an answer: recorded as an error with no tokens. */
  const unanswered = (call: PreparedCall) => {
    try {
      completeFacts(call);
      record(call, [], 'error', performance.now() - call.startedPerf);
    } catch (error) {
      report(error);
    }
  };

  /**
   * What must be read before the request leaves, and nothing more: the
   * operation (is it tracked?), the start time, the provider and the
   * attribution in effect (the caller's async context is only here). The
   * request facts (the body's JSON) and the event id are made by
   * `completeFacts`, once the request is on its way, while the network and
   * the provider work: on a small call that parse was most of the middleware's
   * cost on the caller's path.
   */
  const prepare = (url: string, headerAttribution: Attribution | null, init?: RequestInit): PreparedCall | null => {
    const path = pathOf(url);
    const gateway = gatewayImageCall(path, init, headerAttribution);
    const operation = gateway ? gateway.operation : path === null ? null : operationOf(path);
    if (!operation) return null;
    const context = tokentally.current();
    const attribution = gateway ? gateway.attribution : headerAttribution;
    return {
      operation,
      facts: EMPTY_FACTS,
      provider: options.provider ?? (gateway ? GATEWAY_PROVIDER : detectProvider(url)),
      attribution:
        context || attribution
          ? { ...context, ...attribution, tags: { ...context?.tags, ...attribution?.tags } }
          : null,
      eventId: '',
      startedAt: Date.now(),
      startedPerf: performance.now(),
      answeredAfterMs: 0,
      pending: { url, body: init?.body },
      gateway,
    };
  };

  /** The facts and event id of a prepared call; at the latest when its answer (or failure) comes. */
  const completeFacts = (call: PreparedCall): void => {
    const pending = call.pending;
    if (!pending) return;
    call.pending = null;
    call.eventId = uuidv7(call.startedAt);
    try {
      const facts = call.gateway ? gatewayImageFacts(pending.body, call.gateway) : factsOf(pending.body);
      // Azure: a deployment named in the path, or (the v1 API) in the body's model, stands for the model it serves.
      const deployment = azureDeployment(pending.url);
      facts.model = modelOfDeployment(deployment ?? facts.model) ?? facts.model ?? deployment;
      call.facts = withApiDefaults(facts);
    } catch (error) {
      report(error); // recorded without the request's facts
    }
  };

  const instrumented = function tokenTallyFetch(input: Parameters<Fetch>[0], init?: RequestInit): Promise<Response> {
    let call: PreparedCall | null = null;
    let outgoing = init;
    try {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const { attribution, headers } = takeAttributionHeaders(init?.headers);
      if (headers) outgoing = { ...init, headers };
      call = prepare(url, attribution, outgoing);
      if (call?.gateway?.body !== undefined) outgoing = { ...outgoing, body: call.gateway.body };
    } catch (error) {
      report(error); // not tracked: the request goes out as it came
    }
    let answer: Promise<Response>;
    try {
      answer = inner(input, outgoing);
    } catch (error) {
      if (call) unanswered(call);
      return Promise.reject(error);
    }
    if (!call) return answer;
    const prepared = call;
    // After the request has been handed over (undici writes it in the microtasks that follow).
    setImmediate(completeFacts, prepared);
    return answer.then(
      (response) => observe(prepared, response),
      (error: unknown) => {
        unanswered(prepared);
        throw error;
      },
    );
  };

  /**
   * The caller's Response, as it came: a failed call is recorded at once; a
   * JSON or event-stream answer is recorded when the caller reads its body
   * (tap.ts), or when the Response is garbage-collected unread; any other
   * answer is recorded with no usage.
   */
  const observe = (call: PreparedCall, response: Response): Response => {
    try {
      call.answeredAfterMs = performance.now() - call.startedPerf;
      completeFacts(call);
      if (!response.ok) {
        record(call, [], 'error', call.answeredAfterMs);
        return response;
      }
      const type = response.headers.get('content-type') ?? '';
      const stream = type.includes('text/event-stream');
      if (!stream && !type.includes('json')) {
        record(call, [], 'ok', call.answeredAfterMs);
        return response;
      }
      const done: Recorder = (found, status, latencyMs) => record(call, found, status, latencyMs);
      const answer = stream ? new StreamAnswer(call, done) : new JsonAnswer(call, done);
      try {
        tapBody(response, answer, hooks);
      } catch (error) {
        report(error); // a Response that takes no own properties: recorded now, without usage
        answer.opaque();
      }
    } catch (error) {
      report(error);
    }
    return response;
  };

  Object.defineProperty(instrumented, INSTRUMENTED, { value: true });
  return Object.assign(instrumented, { tokenTally: tally });
}

export function isInstrumented(fetchImpl: unknown): boolean {
  return typeof fetchImpl === 'function' && (fetchImpl as unknown as Record<symbol, unknown>)[INSTRUMENTED] === true;
}

/** Request facts from the body as the openai client sends it: a JSON string, or FormData for uploads. */
function factsOf(body: RequestInit['body'] | undefined): RequestFacts {
  if (typeof body === 'string') {
    if (body.length <= MAX_PARSED_BODY) {
      try {
        return requestFacts(JSON.parse(body));
      } catch {
        return { ...EMPTY_FACTS };
      }
    }
    // A large body (inline base64 images): parse what is left without its long strings,
    // so that the image tool's config is read too; by pattern if even that fails.
    try {
      return requestFacts(parseSkimmed(body) as Record<string, unknown>);
    } catch {
      // fall through
    }
    const field = (name: string) => new RegExp(`"${name}"\\s*:\\s*"([^"]{1,200})"`).exec(body)?.[1] ?? null;
    return {
      ...EMPTY_FACTS,
      model: field('model'),
      size: field('size'),
      quality: field('quality'),
      stream: /"stream"\s*:\s*true/.test(body),
    };
  }
  if (body && typeof (body as FormData).get === 'function' && typeof (body as FormData).append === 'function') {
    return requestFacts(body as FormData);
  }
  return { ...EMPTY_FACTS };
}
