import { JsonSkimmer, withoutLongStrings } from './skim';
import { sseEvents } from './sse';
import { BodyObserver } from './tap';
import { callsFromResponse, ExtractedCall, Operation, RequestFacts, StreamTally, streamEventFilter } from './usage';

/** What an answer's observer needs of its call. */
export interface ObservedCall {
  operation: Operation;
  facts: RequestFacts;
  startedPerf: number;
  /** Milliseconds from the request to the answer's headers: the latency of an answer never read. */
  answeredAfterMs: number;
}

export type Recorder = (found: ExtractedCall[], status: 'ok' | 'error', latencyMs: number) => void;

const utf8 = new TextEncoder();

/**
 * A JSON answer: its calls read from what the caller read, recorded once.
 * A body read whole is `ok` (with no usage when it is not JSON we know); a
 * body that failed to be read is an `error`; a body never read, or a stream
 * the caller cancelled, is `ok` with no usage: the call was answered, what it
 * cost is unknown.
 */
export class JsonAnswer implements BodyObserver {
  private skimmer: JsonSkimmer | null = null;
  private recorded = false;

  constructor(
    private readonly call: ObservedCall,
    private readonly record: Recorder,
  ) {}

  parsed(value: unknown): void {
    this.done(callsFromResponse(this.call.operation, this.call.facts, value), 'ok');
  }

  text(text: string): void {
    this.done(this.fromText(withoutLongStrings(text)), 'ok');
  }

  bytes(piece: Uint8Array): void {
    (this.skimmer ??= new JsonSkimmer()).push(piece);
  }

  end(): void {
    this.done(this.skimmer ? this.fromText(this.skimmer.text()) : [], 'ok');
  }

  opaque(): void {
    this.done([], 'ok');
  }

  failed(how: 'error' | 'cancel'): void {
    this.done([], how === 'error' ? 'error' : 'ok');
  }

  unread(): void {
    this.done([], 'ok', this.call.answeredAfterMs);
  }

  private fromText(text: string): ExtractedCall[] {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return [];
    }
    return callsFromResponse(this.call.operation, this.call.facts, body);
  }

  private done(found: ExtractedCall[], status: 'ok' | 'error', latencyMs?: number): void {
    if (this.recorded) return;
    this.recorded = true;
    this.skimmer = null;
    this.record(found, status, latencyMs ?? performance.now() - this.call.startedPerf);
  }
}

/**
 * A server-sent-events answer: its usage recorded once, when the stream
 * ends, fails, or is cancelled by the caller (the openai client cancels when
 * a loop `break`s, often right after the completed event: that call happened
 * and is recorded). A stream left before anything billable was seen, never
 * read at all, or an image stream that ended without a completed image, is
 * recorded as an error with no tokens.
 */
export class StreamAnswer implements BodyObserver {
  private readonly tally: StreamTally;
  private readonly events: ReturnType<typeof sseEvents>;
  private recorded = false;

  constructor(
    private readonly call: ObservedCall,
    private readonly record: Recorder,
  ) {
    const tally = new StreamTally(call.operation, call.facts);
    this.tally = tally;
    this.events = sseEvents((data) => tally.add(data), streamEventFilter(call.operation));
  }

  parsed(): void {
    this.finish('end'); // json() of a stream: no events to read
  }

  text(text: string): void {
    // Not how streams are read (the body is): the text is encoded again, once.
    this.events.push(utf8.encode(text));
    this.end();
  }

  bytes(piece: Uint8Array): void {
    this.events.push(piece);
  }

  end(): void {
    this.events.end();
    this.finish('end');
  }

  opaque(): void {
    this.finish('end');
  }

  failed(how: 'error' | 'cancel'): void {
    this.finish(how);
  }

  unread(): void {
    this.finish('cancel', this.call.answeredAfterMs);
  }

  private finish(how: 'end' | 'cancel' | 'error', latencyMs?: number): void {
    if (this.recorded) return;
    this.recorded = true;
    const calls = this.tally.calls();
    const imageStream = this.call.operation === 'images.generate' || this.call.operation === 'images.edit';
    const failed = calls.length === 0 && (how !== 'end' || imageStream);
    this.record(calls, failed ? 'error' : 'ok', latencyMs ?? performance.now() - this.call.startedPerf);
  }
}
