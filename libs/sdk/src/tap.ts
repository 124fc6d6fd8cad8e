/**
 * Reading usage from an answer without reading its body ourselves.
 *
 * The caller's own Response is handed back, with instance-own `json`,
 * `text`, `arrayBuffer`, `bytes`, `blob`, `formData` and `body` in front of
 * its prototype's: each calls the original, gives the caller its value
 * untouched, and shows the observer what was produced. The prototype, the
 * headers, `url`, `status`, `bodyUsed`, `clone()` and `instanceof Response`
 * stay as they were. Whatever the caller parses is parsed once, by the
 * caller: usage is read from the parsed object (json()), skimmed from the
 * text (text()) or from the bytes (the others, and the body stream as it is
 * read). The first read is the one observed; a second fails as it always
 * would. A body never read is told to the observer when the Response is
 * garbage-collected.
 *
 * The own properties are the same functions for every response (they find
 * the response's tap through a symbol), and their descriptors are made once:
 * V8 then shares one hidden class between tapped responses, and tapping costs
 * two or three microseconds, where closures made per response cost fifteen.
 */

/** What a tapped answer's body turned out to be, in the form the caller read it. */
export interface BodyObserver {
  /** json(): the caller's parsed value. */
  parsed(value: unknown): void;
  /** text(): the caller's string. */
  text(text: string): void;
  /** arrayBuffer(), bytes(), blob() and the body stream: each piece as it passes, then end(). */
  bytes(piece: Uint8Array): void;
  end(): void;
  /** formData(): read whole, in a form usage is not read from. */
  opaque(): void;
  /** The read failed (the caller gets the error), or the caller cancelled the body stream. */
  failed(how: 'error' | 'cancel'): void;
  /** The Response was garbage-collected and its body never read. */
  unread(): void;
}

export interface TapHooks {
  /** Work still under way after the caller has its value (a Blob read back): flush() waits for it. */
  pending(work: Promise<unknown>): void;
  /** An observer threw: told, never thrown at the caller. */
  report(error: unknown): void;
}

type Method = (this: unknown, ...args: unknown[]) => Promise<unknown>;
type BodyGetter = (this: unknown) => unknown;
type ReadName = 'json' | 'text' | 'arrayBuffer' | 'bytes' | 'blob' | 'formData';

const READS: ReadName[] = ['json', 'text', 'arrayBuffer', 'bytes', 'blob', 'formData'];
const TAP = Symbol('tokentally.tap');

/**
 * The state of one tapped response, held by the response only (the registry
 * holds `watch`, which has no way back to it).
 */
interface Tap {
  observer: BodyObserver;
  hooks: TapHooks;
  /** The methods the response had before (its prototype's, as a rule). */
  originals: Partial<Record<ReadName, Method>>;
  inheritedBody: BodyGetter | null;
  /** The held value of the garbage-collection watch. */
  watch: UnreadWatch;
  /** What the watch is on: an empty object only the response holds, which dies with it (see below). */
  lifeline: object;
  /** Whether reads of the body stream are shown to the observer: decided at its first read (a claim). */
  streamObserved?: boolean;
  /** The body stream has ended, failed or been cancelled: nothing more to show. */
  streamDone?: boolean;
}

/**
 * A body never read is seen through a FinalizationRegistry. What is watched
 * is not the response but an empty object only the response holds: V8 keeps
 * every watched object alive through young-generation collections, and a
 * watched Response (its headers, streams and state) was promoted to the old
 * generation on every call, which cost more than the rest of the middleware.
 * The empty object is promoted instead and goes with the next full
 * collection after the response, when the record is made. It is registered
 * without an unregister token (a token made registering four times dearer):
 * a body that was read is marked claimed, and its watch then does nothing.
 */
interface UnreadWatch {
  observer: BodyObserver;
  hooks: TapHooks;
  claimed: boolean;
}

const unreadBodies = new FinalizationRegistry<UnreadWatch>(({ observer, hooks, claimed }) => {
  if (!claimed) safely(hooks, () => observer.unread());
});
const bodyGetters = new WeakMap<object, BodyGetter | null>();

function safely(hooks: TapHooks, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    hooks.report(error);
  }
}

/** The first read of the body claims it: only that one is observed. */
function claim(tap: Tap): boolean {
  if (tap.watch.claimed) return false;
  tap.watch.claimed = true;
  return true;
}

/** What the caller's value shows, per read. */
const SEEN: Record<ReadName, (tap: Tap, value: unknown) => void> = {
  json: (tap, value) => tap.observer.parsed(value),
  text: (tap, value) => tap.observer.text(value as string),
  arrayBuffer: (tap, value) => {
    tap.observer.bytes(new Uint8Array(value as ArrayBuffer));
    tap.observer.end();
  },
  bytes: (tap, value) => {
    tap.observer.bytes(value as Uint8Array);
    tap.observer.end();
  },
  blob: (tap, value) => {
    // The caller's Blob is left as undici made it; its bytes are read back apart, off the caller's path.
    const { observer, hooks } = tap;
    hooks.pending(
      (value as Blob).arrayBuffer().then(
        (bytes) => safely(hooks, () => (observer.bytes(new Uint8Array(bytes)), observer.end())),
        () => safely(hooks, () => observer.opaque()),
      ),
    );
  },
  formData: (tap) => tap.observer.opaque(),
};

function tappedRead(name: ReadName): Method {
  const seen = SEEN[name];
  return function (this: unknown, ...args: unknown[]) {
    const tap = (this as Record<symbol, Tap | undefined> | null)?.[TAP];
    const original = tap?.originals[name];
    if (!tap || !original) return (Object.getPrototypeOf(this) as Record<string, Method>)[name].apply(this, args);
    if (!claim(tap)) return original.apply(this, args);
    return original.apply(this, args).then(
      (value) => {
        safely(tap.hooks, () => seen(tap, value));
        return value;
      },
      (error: unknown) => {
        safely(tap.hooks, () => tap.observer.failed('error'));
        throw error;
      },
    );
  };
}

/** Descriptors made once: the same values on every tapped response. */
const READ_DESCRIPTORS = Object.fromEntries(
  READS.map((name) => [name, { value: tappedRead(name), writable: true, configurable: true, enumerable: false }]),
) as Record<ReadName, PropertyDescriptor>;

const BODY_DESCRIPTOR: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(this: unknown) {
    const tap = (this as Record<symbol, Tap | undefined> | null)?.[TAP];
    if (!tap?.inheritedBody) return undefined;
    // The response's own stream, as undici holds it now (clone() replaces it with a branch of a tee).
    const body = tap.inheritedBody.call(this);
    return isWebStream(body) && !readThroughBranches.has(body) ? tappedStream(body, tap) : body;
  },
};

/** The `body` accessor the response inherits (undici's Response.prototype), looked up once per prototype. */
function inheritedBodyGetter(response: object): BodyGetter | null {
  if (Object.prototype.hasOwnProperty.call(response, 'body')) return null;
  const proto = Object.getPrototypeOf(response) as object | null;
  if (!proto) return null;
  let getter = bodyGetters.get(proto);
  if (getter === undefined) {
    getter = null;
    for (let at: object | null = proto; at; at = Object.getPrototypeOf(at) as object | null) {
      const descriptor = Object.getOwnPropertyDescriptor(at, 'body');
      if (descriptor) {
        getter = (descriptor.get as BodyGetter | undefined) ?? null;
        break;
      }
    }
    bodyGetters.set(proto, getter);
  }
  return getter;
}

function isWebStream(value: unknown): value is ReadableStream<Uint8Array> {
  return !!value && typeof (value as ReadableStream).getReader === 'function';
}

/**
 * Puts the observer between the caller and the body of `response`. Throws
 * only if the response cannot take own properties (then nothing is changed
 * that matters: the caller's reads go to the prototype as before).
 */
export function tapBody(response: Response, observer: BodyObserver, hooks: TapHooks): void {
  const target = response as unknown as Record<string | symbol, unknown>;
  const originals: Tap['originals'] = {};
  for (const name of READS) {
    const original = target[name];
    if (typeof original === 'function') originals[name] = original as Method;
  }
  const watch: UnreadWatch = { observer, hooks, claimed: false };
  const lifeline = {};
  const tap: Tap = { observer, hooks, originals, inheritedBody: inheritedBodyGetter(response), watch, lifeline };
  target[TAP] = tap; // a symbol: out of Object.keys, for...in and JSON; assigned, a third of a defineProperty
  for (const name of READS) if (originals[name]) Object.defineProperty(response, name, READ_DESCRIPTORS[name]);
  if (tap.inheritedBody) Object.defineProperty(response, 'body', BODY_DESCRIPTOR);
  unreadBodies.register(lifeline, watch);
}

const TAPPED = Symbol('tokentally.tapped');
const readThroughBranches = new WeakSet<object>();
type Stream = ReadableStream<Uint8Array>;
type Reader = ReadableStreamDefaultReader<Uint8Array>;

/**
 * The body stream, tapped where it is read: the caller gets undici's own
 * stream, whose readers show each chunk to the observer as it is handed
 * over. That is one `.then` per chunk; a stream wrapped around it, as before,
 * cost two or three microseconds a chunk, a third of a millisecond for an
 * image stream. Every way of reading it goes through getReader(): for await
 * and values() read through a reader of it, pipeTo(), pipeThrough() and tee()
 * through a stream wrapped around one (the slower way, for the rarer use).
 * Whichever reads first claims the tap (json() and the others included), so
 * one read is observed and undici's own reads (json() of the stream, clone())
 * are never observed twice.
 */
function tappedStream(stream: Stream, tap: Tap): Stream {
  const target = stream as unknown as Record<string | symbol, unknown>;
  if (target[TAPPED]) return stream;
  const proto = Object.getPrototypeOf(stream) as Stream;
  target[TAPPED] = true;
  define(stream, 'getReader', function (this: Stream, ...args: unknown[]) {
    const reader = (proto.getReader as (...a: unknown[]) => Reader).apply(this, args);
    return this === stream ? tappedReader(reader, tap) : reader;
  });
  const iterate = function (this: Stream, options?: { preventCancel?: boolean }) {
    const reader = (proto.getReader as () => Reader).call(this);
    return readerIterator(reader, this === stream ? tap : null, options?.preventCancel === true);
  };
  define(stream, 'values', iterate);
  define(stream, Symbol.asyncIterator, iterate);
  define(stream, 'cancel', function (this: Stream, reason?: unknown) {
    if (this === stream) settle(tap, 'cancel');
    return proto.cancel.call(this, reason);
  });
  define(stream, 'pipeTo', function (this: Stream, ...args: Parameters<Stream['pipeTo']>) {
    return readThrough(this.getReader()).pipeTo(...args);
  });
  define(stream, 'pipeThrough', function (this: Stream, ...args: Parameters<Stream['pipeThrough']>) {
    return readThrough(this.getReader()).pipeThrough(...args);
  });
  define(stream, 'tee', function (this: Stream) {
    // clone() tees the body too: its branches read through the tapped reader, so they are not tapped again.
    const branches = readThrough(this.getReader()).tee();
    for (const branch of branches) readThroughBranches.add(branch);
    return branches;
  });
  return stream;
}

/** A non-enumerable own method, like the prototype's. */
function define(target: object, name: string | symbol, value: unknown): void {
  Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
}

/** At the body stream's first read or cancel: does this read get observed (it claims the tap)? */
function observing(tap: Tap): boolean {
  tap.streamObserved ??= claim(tap);
  return tap.streamObserved && !tap.streamDone;
}

function settle(tap: Tap, how: 'end' | 'error' | 'cancel'): void {
  if (!observing(tap)) return;
  tap.streamDone = true;
  safely(tap.hooks, () => (how === 'end' ? tap.observer.end() : tap.observer.failed(how)));
}

/** What a body reader's read() resolves to (the DOM lib's ReadableStreamReadResult, which this build lacks). */
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;

/** Shows one read's result to the observer: a chunk, or the end. */
function show(tap: Tap, result: ReadResult): void {
  if (result.done) settle(tap, 'end');
  else if (tap.streamObserved && !tap.streamDone) {
    try {
      tap.observer.bytes(result.value); // once a chunk: no closure made for it
    } catch (error) {
      tap.hooks.report(error);
    }
  }
}

function tappedReader(reader: Reader, tap: Tap): Reader {
  const read = reader.read;
  const cancel = reader.cancel;
  const seen = (result: ReadResult) => (show(tap, result), result);
  const failed = (error: unknown) => {
    settle(tap, 'error');
    throw error;
  };
  define(reader, 'read', function (this: Reader, ...args: unknown[]) {
    const next = (read as (...a: unknown[]) => Promise<ReadResult>).apply(this, args);
    return this === reader && observing(tap) ? next.then(seen, failed) : next;
  });
  define(reader, 'cancel', function (this: Reader, reason?: unknown) {
    if (this === reader) settle(tap, 'cancel');
    return cancel.call(this, reason);
  });
  return reader;
}

/**
 * for await over a plain reader of the stream, as ReadableStream's own async iterator does (released at
 * the end, cancelled on return), each read shown to the tap in the same `.then` that releases it: one
 * promise a chunk, as many as the stream's own iterator makes.
 */
function readerIterator(reader: Reader, tap: Tap | null, preventCancel: boolean): AsyncIterableIterator<Uint8Array> {
  let finished = false;
  const release = () => {
    finished = true;
    reader.releaseLock();
  };
  return {
    next() {
      if (finished) return Promise.resolve({ value: undefined, done: true });
      const observed = tap !== null && observing(tap);
      return reader.read().then(
        (result) => {
          if (observed) show(tap, result);
          if (result.done) release();
          return result as IteratorResult<Uint8Array>;
        },
        (error: unknown) => {
          if (observed) settle(tap, 'error');
          release();
          throw error;
        },
      );
    },
    async return(value?: unknown) {
      if (!finished) {
        finished = true;
        if (tap && !preventCancel) settle(tap, 'cancel');
        const cancelled = preventCancel ? undefined : reader.cancel(value);
        reader.releaseLock();
        await cancelled;
      }
      return { value, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** A stream read through from a (tapped) reader, for pipeTo(), pipeThrough() and tee(). */
function readThrough(reader: Reader): Stream {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await reader.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
