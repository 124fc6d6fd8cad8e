import { Attribution, takeAttributionHeaders, tokentally } from './context';
import { TokenTallyClient } from './client';
import { azureDeployment, detectProvider, normalizeModel } from './provider';
import { sseEvents } from './sse';
import { TokenTallyOptions } from './types';
import {
  callsFromResponse,
  EMPTY_FACTS,
  emptyUsage,
  ExtractedCall,
  Operation,
  operationOf,
  RequestFacts,
  requestFacts,
  StreamTally,
} from './usage';
import { parseSkimmed } from './skim';
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

interface PreparedCall {
  operation: Operation;
  facts: RequestFacts;
  provider: string;
  attribution: Attribution | null;
  eventId: string;
  startedAt: number;
  startedPerf: number;
}

/**
 * A fetch for `new OpenAI({ fetch })` that records the usage of every image,
 * Responses and Chat Completions call. The caller's request goes out as it
 * was (less X-TokenTally-* headers) and its response comes back untouched:
 * JSON bodies are read from a clone, streams are observed as they flow.
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

  const record = (call: PreparedCall, found: ExtractedCall[], status: 'ok' | 'error', latencyMs: number) => {
    const base = options.dimensions ?? {};
    const perCall = call.attribution ?? {};
    const { tags: callTags, ...callDimensions } = perCall;
    const dimensions = { ...base, ...callDimensions };
    const tags = { ...options.tags, ...callTags };
    for (const extracted of found.length > 0
      ? found
      : [{ model: call.facts.model, usage: emptyUsage() } as ExtractedCall]) {
      const model = extracted.model ?? 'unknown';
      tally.track({
        event_id: extracted.part ? `${call.eventId}:${extracted.part}` : call.eventId,
        timestamp: new Date(call.startedAt).toISOString(),
        provider: call.provider,
        model: normalizeModel(model),
        operation: call.operation,
        usage: extracted.usage,
        images: extracted.images,
        image_size: extracted.image_size,
        image_quality: extracted.image_quality,
        status: extracted.status ?? status,
        latency_ms: Math.round(latencyMs),
        dimensions: Object.keys(dimensions).length ? dimensions : undefined,
        tags: Object.keys(tags).length ? tags : undefined,
      });
    }
  };

  const instrumented = async function tokenTallyFetch(
    input: Parameters<typeof fetch>[0],
    init?: RequestInit,
  ): Promise<Response> {
    let call: PreparedCall | null = null;
    let outgoing = init;
    try {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const { attribution: fromHeaders, headers } = takeAttributionHeaders(init?.headers);
      if (headers) outgoing = { ...init, headers };
      const operation = operationOf(new URL(url).pathname);
      if (operation) {
        const facts = factsOf(init?.body);
        if (!facts.model) facts.model = azureDeployment(url);
        const context = tokentally.current();
        call = {
          operation,
          facts,
          provider: options.provider ?? detectProvider(url),
          attribution:
            context || fromHeaders
              ? { ...context, ...fromHeaders, tags: { ...context?.tags, ...fromHeaders?.tags } }
              : null,
          eventId: uuidv7(),
          startedAt: Date.now(),
          startedPerf: performance.now(),
        };
      }
    } catch (error) {
      report(error);
      call = null;
    }
    if (!call) return inner(input, outgoing);

    let response: Response;
    try {
      response = await inner(input, outgoing);
    } catch (error) {
      // The call failed before an answer: recorded as an error with no tokens.
      const failed = call;
      try {
        record(failed, [], 'error', performance.now() - failed.startedPerf);
      } catch (e) {
        report(e);
      }
      throw error;
    }
    try {
      return await observe(call, response);
    } catch (error) {
      report(error);
      if (response.bodyUsed) throw error; // the body could not be read: the caller would have failed too
      return response;
    }
  };

  /**
   * A JSON answer is read once and handed back as an identical Response: about
   * twice as cheap as clone(), whose tee() costs more than the rest of the
   * middleware. The openai client reads the whole body at once anyway.
   */
  const readJson = async (call: PreparedCall, response: Response): Promise<Response> => {
    const bytes = await response.arrayBuffer();
    const copy = new Response(bytes, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    Object.defineProperty(copy, 'url', { value: response.url });
    const latency = performance.now() - call.startedPerf;
    const recorded = new Promise<void>((resolve) =>
      setImmediate(() => {
        try {
          record(
            call,
            callsFromResponse(call.operation, call.facts, parseSkimmed(new TextDecoder().decode(bytes))),
            'ok',
            latency,
          );
        } catch (error) {
          report(error);
        }
        resolve();
      }),
    );
    tally.expect(recorded);
    return copy;
  };

  const observe = (call: PreparedCall, response: Response): Response | Promise<Response> => {
    if (!response.ok) {
      record(call, [], 'error', performance.now() - call.startedPerf);
      return response;
    }
    const type = response.headers.get('content-type') ?? '';
    if (type.includes('text/event-stream') && response.body) {
      const wrapped = new Response(observeStream(call, response.body), {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      Object.defineProperty(wrapped, 'url', { value: response.url });
      return wrapped;
    }
    if (type.includes('json')) return readJson(call, response);
    record(call, [], 'ok', performance.now() - call.startedPerf);
    return response;
  };

  /**
   * The caller's stream, byte for byte, read through: its usage is recorded
   * once, when the stream ends, fails, or is cancelled by the caller (the
   * openai client cancels when a loop `break`s, often right after the
   * completed event: that call happened and is recorded). A stream left
   * before anything billable was seen, or an image stream that ended without
   * a completed image, is recorded as an error with no tokens.
   */
  const observeStream = (call: PreparedCall, source: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> => {
    const found = new StreamTally(call.operation, call.facts);
    const events = sseEvents((data) => found.add(data));
    const reader = source.getReader();
    let recorded = false;
    const finish = (how: 'end' | 'cancel' | 'error') => {
      if (recorded) return;
      recorded = true;
      try {
        const calls = found.calls();
        const imageStream = call.operation === 'images.generate' || call.operation === 'images.edit';
        const failed = calls.length === 0 && (how !== 'end' || imageStream);
        record(call, calls, failed ? 'error' : 'ok', performance.now() - call.startedPerf);
      } catch (error) {
        report(error);
      }
    };
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (error) {
          finish('error');
          controller.error(error);
          return;
        }
        if (next.done) {
          events.end();
          finish('end');
          controller.close();
          return;
        }
        controller.enqueue(next.value);
        events.push(next.value);
      },
      cancel(reason) {
        finish('cancel');
        return reader.cancel(reason);
      },
    });
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
