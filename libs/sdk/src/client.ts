import { fitEvent } from './fit';
import { TokenTallyError, TokenTallyOptions, TrackInput, UsageEvent } from './types';
import { postJson } from './post';
import { isoTimestamp } from './time';
import { uuidv7 } from './uuid7';

const DEFAULTS = {
  batchSize: 100,
  flushIntervalMs: 1000,
  maxQueueSize: 10_000,
  maxRetryDelayMs: 30_000,
  requestTimeoutMs: 10_000,
};
const FIRST_RETRY_DELAY_MS = 500;
/** Statuses worth retrying; any other 4xx means the batch will never be taken. */
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Sends usage events to TokenTally in the background: a bounded in-memory
 * queue, batches, retries with exponential backoff and jitter (honouring
 * Retry-After). Event ids are fixed when an event is queued, so a retried
 * batch is never counted twice. Nothing here ever throws at the caller.
 */
export class TokenTallyClient {
  private readonly options: Required<
    Omit<TokenTallyOptions, 'dimensions' | 'tags' | 'provider' | 'deployments' | 'onError' | 'deliveryFetch'>
  > &
    TokenTallyOptions;
  private readonly queue: UsageEvent[] = [];
  private queueHead = 0;
  private inflight: UsageEvent[] | null = null;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private retryAt = 0;
  private droppedUnreported = 0;
  private dropReportTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly pendingWork = new Set<Promise<unknown>>();
  private readonly exitHook = () => {
    if (this.size() > 0 && !this.sending) void this.flush();
  };

  /** Totals since start, for monitoring. */
  readonly stats = { queued: 0, delivered: 0, dropped: 0, failed: 0, rejected: 0 };

  constructor(options: TokenTallyOptions) {
    this.options = { ...DEFAULTS, flushOnExit: true, ...options };
    this.options.batchSize = Math.min(1000, Math.max(1, this.options.batchSize));
    if (this.options.flushOnExit) process.on('beforeExit', this.exitHook);
  }

  /** Queues an event; returns its event_id. Never throws, never waits. */
  track(input: TrackInput): string {
    return this.enqueue({
      ...input,
      event_id: input.event_id ?? uuidv7(),
      timestamp: input.timestamp ?? isoTimestamp(Date.now()),
      status: input.status ?? 'ok',
    });
  }

  /**
   * Queues a complete event as it is, without the copy track() makes: for
   * the middleware, which builds each event afresh. Returns its event_id.
   */
  enqueue(event: UsageEvent): string {
    if (this.closed) {
      this.report({ type: 'dropped', message: 'TokenTally client is shut down; event dropped', count: 1 });
      return event.event_id;
    }
    if (this.size() >= this.options.maxQueueSize) {
      // Drop the oldest: the head of the batch in flight if there is one, else of the queue.
      if (this.inflight && this.inflight.length > 0) this.inflight.shift();
      else this.queueHead++;
      this.stats.dropped++;
      this.droppedUnreported++;
    }
    this.queue.push(fitEvent(event));
    this.stats.queued++;
    this.compact();
    if (this.droppedUnreported > 0 && !this.dropReportTimer) {
      // At most one drop report a second, with the count since the last one.
      this.reportDropped();
      this.dropReportTimer = setTimeout(() => {
        this.dropReportTimer = null;
        if (this.droppedUnreported > 0) this.reportDropped();
      }, 1000);
      this.dropReportTimer.unref();
    }
    this.schedule(this.size() >= this.options.batchSize ? 0 : this.options.flushIntervalMs);
    return event.event_id;
  }

  /**
   * Tells the client that an event is about to be tracked (usage still being
   * read from a response), so that flush() waits for it.
   */
  expect(work: Promise<unknown>): void {
    this.pendingWork.add(work);
    void work.finally(() => this.pendingWork.delete(work));
  }

  /** Events waiting (queued and in flight). */
  size(): number {
    return this.queue.length - this.queueHead + (this.inflight?.length ?? 0);
  }

  /**
   * Sends everything queued now. Resolves when the queue is empty, or when
   * TokenTally cannot be reached before `timeoutMs` (events stay queued).
   */
  async flush(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.pendingWork.size > 0) {
      // The timer is cleared once the work settles: left running, it kept a script that ends with
      // `await shutdown()` alive for the whole timeout (5 s) after everything was sent.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.pendingWork]),
        new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    while (this.size() > 0 && Date.now() < deadline) {
      const wait = this.retryAt - Date.now();
      if (wait > 0) {
        if (Date.now() + wait > deadline) return;
        await sleep(wait);
      }
      await this.sendNext();
    }
  }

  /** Stops the timer, flushes what it can within `timeoutMs`, and takes no more events. */
  async shutdown(timeoutMs = 5_000): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    process.off('beforeExit', this.exitHook);
    await this.flush(timeoutMs);
    this.closed = true;
    // Usage tracked while flush() waited planned a send of its own: flush() has sent it.
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    const at = Math.max(delayMs, this.retryAt - Date.now());
    if (this.timer) {
      if (at > 0) return; // a send is already planned
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sendNext().then(() => {
        if (this.size() > 0) this.schedule(this.size() >= this.options.batchSize ? 0 : this.options.flushIntervalMs);
      });
    }, at);
    this.timer.unref();
  }

  /** Sends one batch (the one in flight again, after a failure). */
  private sendNext(): Promise<void> {
    this.sending ??= this.deliver().finally(() => {
      this.sending = null;
    });
    return this.sending;
  }

  private async deliver(): Promise<void> {
    if (!this.inflight) {
      const available = this.queue.length - this.queueHead;
      if (available === 0) return;
      this.inflight = this.queue.slice(this.queueHead, this.queueHead + Math.min(available, this.options.batchSize));
      this.queueHead += this.inflight.length;
      this.compact();
    }
    const batch = this.inflight;
    let status = 0;
    let retryAfterMs = 0;
    try {
      const answer = await postJson(
        `${this.options.endpoint.replace(/\/$/, '')}/v1/events`,
        { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json' },
        JSON.stringify({ events: batch }),
        this.options.requestTimeoutMs,
        this.options.deliveryFetch,
      );
      status = answer.status;
      retryAfterMs = parseRetryAfter(answer.retryAfter);
      const text = answer.text;
      if (status === 202) {
        this.done(batch);
        this.stats.delivered += batch.length;
        const rejected = safeJson(text)?.rejected;
        if (Array.isArray(rejected) && rejected.length > 0) {
          this.stats.rejected += rejected.length;
          this.report({
            type: 'rejected',
            message: `TokenTally rejected ${rejected.length} events: ${JSON.stringify(rejected).slice(0, 500)}`,
            count: rejected.length,
            status,
          });
        }
        return;
      }
      if (!RETRYABLE.has(status) && status < 500) {
        this.done(batch);
        this.stats.failed += batch.length;
        this.report({
          type: 'delivery_failed',
          message: `TokenTally refused a batch (${status}): ${text.slice(0, 500)}`,
          count: batch.length,
          status,
        });
        return;
      }
      this.retryLater(batch, retryAfterMs, `TokenTally answered ${status}`, status);
    } catch (error) {
      this.retryLater(
        batch,
        retryAfterMs,
        `TokenTally unreachable: ${(error as Error)?.message ?? error}`,
        status || undefined,
        error,
      );
    }
  }

  private done(batch: UsageEvent[]): void {
    if (this.inflight === batch) this.inflight = null;
    this.attempt = 0;
    this.retryAt = 0;
  }

  private retryLater(
    batch: UsageEvent[],
    retryAfterMs: number,
    message: string,
    status?: number,
    cause?: unknown,
  ): void {
    this.attempt++;
    const backoff = Math.min(this.options.maxRetryDelayMs, FIRST_RETRY_DELAY_MS * 2 ** (this.attempt - 1));
    const jittered = backoff / 2 + Math.random() * (backoff / 2);
    const delay = Math.min(Math.max(jittered, retryAfterMs), Math.max(this.options.maxRetryDelayMs, retryAfterMs));
    this.retryAt = Date.now() + delay;
    this.report({
      type: 'retrying',
      message: `${message}; retrying ${batch.length} events in ${Math.round(delay)} ms`,
      count: batch.length,
      status,
      cause,
    });
    this.schedule(delay);
  }

  private compact(): void {
    // Drop consumed slots now and then instead of shifting on every event.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private reportDropped(): void {
    const count = this.droppedUnreported;
    this.droppedUnreported = 0;
    this.report({
      type: 'dropped',
      message: `TokenTally queue full (${this.options.maxQueueSize}): dropped the ${count} oldest events`,
      count,
    });
  }

  private report(error: TokenTallyError): void {
    try {
      this.options.onError?.(error);
    } catch {
      // a throwing handler must not break delivery
    }
  }
}

function parseRetryAfter(value: string | null): number {
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? 0 : Math.max(0, date - Date.now());
}

function safeJson(text: string): Record<string, unknown> | null {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
