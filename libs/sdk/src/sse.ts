import { ByteBuilder, indexOfByte, JsonSkimmer } from './skim';

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const NEWLINE = Uint8Array.of(LF);
const CR_BYTES = Uint8Array.of(CR);
/** Event data up to this size is kept whole and parsed as it is; larger data is skimmed as it arrives. */
const SMALL_EVENT = 4 * 1024;
/** Enough of an event's data to read a leading `{"type":"…"`. */
const TYPE_PREFIX = 160;
const TYPE_FIELD = /^\s*\{\s*"type"\s*:\s*"([^"\\]*)"/;
const USAGE_FIELD = /"usage"\s*:\s*\{/;
const utf8 = new TextDecoder();

/**
 * Tells from an event's `type` (the first field of OpenAI's events; null when
 * the data does not start with it) whether its data may carry usage. Events
 * it turns down are not read at all: their bytes are only searched for the
 * end of the line.
 */
export type EventFilter = (type: string | null) => boolean;

const EVERY_EVENT: EventFilter = () => true;

/** The data of the event being read: kept whole while small, skimmed once large, dropped when not wanted. */
class EventData {
  private readonly whole = new ByteBuilder();
  private skimmer: JsonSkimmer | null = null;
  private typeRead = false;
  private skipped = false;
  private lines = 0;

  constructor(private readonly wanted: EventFilter) {}

  get empty(): boolean {
    return this.lines === 0;
  }

  /** A `data:` line starts: lines of one event are joined with a newline. */
  startLine(): void {
    if (this.lines++ > 0) this.push(NEWLINE, 0, 1);
  }

  push(bytes: Uint8Array, from: number, to: number): void {
    if (this.skipped) return;
    if (!this.typeRead) {
      const take = Math.min(to, from + TYPE_PREFIX - this.whole.length);
      if (take > from) this.whole.append(bytes, from, take);
      from = Math.max(from, take);
      if (this.whole.length < TYPE_PREFIX) return;
      if (!this.readType()) return;
    }
    if (this.skimmer) {
      this.skimmer.push(bytes, from, to);
      return;
    }
    if (this.whole.length + (to - from) <= SMALL_EVENT) {
      this.whole.append(bytes, from, to);
      return;
    }
    this.skimmer = new JsonSkimmer();
    this.skimmer.push(this.whole.view());
    this.whole.clear();
    this.skimmer.push(bytes, from, to);
  }

  /** The event's data (long strings skimmed away), or null when its type carries no usage. */
  take(): string | null {
    const wanted = this.typeRead ? !this.skipped : this.readType();
    const text = !wanted ? null : this.skimmer ? this.skimmer.text() : this.whole.text();
    this.whole.clear();
    this.skimmer = null;
    this.typeRead = false;
    this.skipped = false;
    this.lines = 0;
    return text;
  }

  /** Reads the type from the first bytes; false (and the event dropped) when it is not wanted. */
  private readType(): boolean {
    this.typeRead = true;
    const type = TYPE_FIELD.exec(utf8.decode(this.whole.view()))?.[1] ?? null;
    if (this.wanted(type)) return true;
    this.skipped = true;
    this.whole.clear();
    return false;
  }
}

/**
 * Reads server-sent events from bytes as they arrive: `push` each chunk,
 * `end` when the stream closes. Events whose data may carry usage are parsed
 * and handed to `onEvent`. Never throws: the caller's stream must never
 * suffer from our parsing.
 *
 * Real image events are one `data:` line of 1-3 MB of base64 arriving in
 * 16-64 KB chunks. The bytes are never decoded whole: lines are split on
 * bytes (memchr for the newline), an event whose `type` carries no usage
 * (partial images, output items) is dropped after its first bytes, and the
 * data of one that does is skimmed as it comes (skim.ts), so what is parsed
 * is a few hundred bytes whatever the size of the images. Lines end with LF
 * or CRLF.
 */
export function sseEvents(
  onEvent: (data: Record<string, unknown>) => void,
  wanted: EventFilter = EVERY_EVENT,
): {
  push(chunk: Uint8Array): void;
  end(): void;
} {
  const data = new EventData(wanted);
  /** 0: reading a field name; 1: reading a data value; 2: skipping the rest of the line. */
  let state: 0 | 1 | 2 = 0;
  let name = '';
  let lineEmpty = true;
  /** After `data:`, one space is not part of the value. */
  let skipSpace = false;
  /** The data value read so far ended with CR: part of the value unless the line ends next. */
  let pendingCR = false;

  const dispatch = () => {
    if (data.empty) return;
    const text = data.take();
    if (text === null || text === '[DONE]' || !USAGE_FIELD.test(text)) return;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') onEvent(parsed as Record<string, unknown>);
    } catch {
      // not JSON: not ours to judge
    }
  };

  const endLine = () => {
    if (state === 0) {
      if (lineEmpty) dispatch();
      else if (name === 'data') data.startLine(); // `data` without a colon: an empty value
    }
    state = 0;
    name = '';
    lineEmpty = true;
    skipSpace = false;
    pendingCR = false;
  };

  const value = (bytes: Uint8Array, from: number, end: number, lineEnds: boolean) => {
    if (skipSpace && from < end) {
      if (bytes[from] === SPACE) from++;
      skipSpace = false;
    }
    if (pendingCR && end > from) {
      data.push(CR_BYTES, 0, 1);
      pendingCR = false;
    } else if (pendingCR && lineEnds) pendingCR = false; // that CR ended the line (CRLF split between chunks)
    let to = end;
    if (to > from && bytes[to - 1] === CR) {
      to--; // CRLF at a line end; held back otherwise, until the next byte tells
      if (!lineEnds) pendingCR = true;
    }
    data.push(bytes, from, to);
  };

  const consume = (bytes: Uint8Array) => {
    let at = 0;
    const n = bytes.length;
    while (at < n) {
      if (state === 0) {
        const byte = bytes[at++];
        if (byte === LF) endLine();
        else if (byte === CR) continue;
        else {
          lineEmpty = false;
          if (byte === COLON) {
            if (name === 'data') {
              data.startLine();
              state = 1;
              skipSpace = true;
            } else state = 2; // event:, id:, retry: and comments carry nothing we need: the data has its type
          } else if (name.length < 8) name += String.fromCharCode(byte);
          else state = 2;
        }
        continue;
      }
      const lf = indexOfByte(bytes, LF, at);
      const end = lf < 0 ? n : lf;
      if (state === 1) value(bytes, at, end, lf >= 0);
      if (lf < 0) return;
      state = 0; // the value is complete: the line ends as an empty name would not
      lineEmpty = false;
      name = '';
      endLine();
      at = lf + 1;
    }
  };

  const safely = (fn: () => void) => {
    try {
      fn();
    } catch {
      // never into the caller's stream
    }
  };

  return {
    push: (chunk) => safely(() => consume(chunk)),
    end: () =>
      safely(() => {
        if (state !== 0 || !lineEmpty) {
          if (state === 1) value(NEWLINE, 0, 0, true);
          if (state !== 0) {
            state = 0;
            name = '';
          }
          endLine();
        }
        dispatch();
      }),
  };
}

/**
 * Watches a server-sent-events byte stream as it flows to the caller: bytes
 * pass through unchanged and unbuffered, events go to `onEvent`, `onEnd` runs
 * when the stream closes.
 */
export function sseObserver(
  onEvent: (data: Record<string, unknown>) => void,
  onEnd: () => void,
  wanted: EventFilter = EVERY_EVENT,
): TransformStream<Uint8Array, Uint8Array> {
  const events = sseEvents(onEvent, wanted);
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      events.push(chunk);
    },
    flush() {
      events.end();
      onEnd();
    },
  });
}
