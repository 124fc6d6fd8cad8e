import { parseSkimmed } from './skim';

/**
 * Reads server-sent events from bytes as they arrive: `push` each chunk,
 * `end` when the stream closes. Complete events are handed to `onEvent`;
 * only those that may carry usage are parsed, without their base64 payloads
 * (see skim.ts). Never throws: the caller's stream must never suffer from
 * our parsing.
 *
 * Real image events are one `data:` line of 1-3 MB of base64 arriving in
 * 16-64 KB chunks: each chunk is searched for line ends once, and the pieces
 * of an unfinished line are joined once when it ends (searching the whole
 * pending text on every chunk made a 12 MB stream cost 1.5 s).
 */
export function sseEvents(onEvent: (data: Record<string, unknown>) => void): {
  push(chunk: Uint8Array): void;
  end(): void;
} {
  const decoder = new TextDecoder();
  /** The unfinished line, in the pieces it arrived in. */
  let partial: string[] = [];
  let dataLines: string[] = [];

  const dispatch = () => {
    if (dataLines.length === 0) return;
    const data = dataLines.length === 1 ? dataLines[0] : dataLines.join('\n');
    dataLines = [];
    if (data === '[DONE]' || !/"usage"\s*:\s*\{/.test(data)) return;
    try {
      const parsed = parseSkimmed(data);
      if (parsed && typeof parsed === 'object') onEvent(parsed as Record<string, unknown>);
    } catch {
      // not JSON: not ours to judge
    }
  };

  const line = (text: string) => {
    if (text === '') dispatch();
    else if (text.startsWith('data:')) dataLines.push(text.slice(text[5] === ' ' ? 6 : 5));
    // `event:`, `id:`, `retry:` and comments carry nothing we need: the data has its `type`.
  };

  const consume = (text: string) => {
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0) {
        if (start < text.length) partial.push(start === 0 ? text : text.slice(start));
        return;
      }
      let whole = text.slice(start, newline);
      if (partial.length > 0) {
        partial.push(whole);
        whole = partial.join('');
        partial = [];
      }
      line(whole.endsWith('\r') ? whole.slice(0, -1) : whole);
      start = newline + 1;
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
    push: (chunk) => safely(() => consume(decoder.decode(chunk, { stream: true }))),
    end: () =>
      safely(() => {
        consume(decoder.decode());
        if (partial.length > 0) consume('\n');
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
): TransformStream<Uint8Array, Uint8Array> {
  const events = sseEvents(onEvent);
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
