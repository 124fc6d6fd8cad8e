/**
 * Watches a server-sent-events byte stream as it flows to the caller. Bytes
 * pass through unchanged and unbuffered; complete events are handed to
 * `onEvent` (only those that may carry usage are JSON-parsed).
 */
export function sseObserver(
  onEvent: (data: Record<string, unknown>) => void,
  onEnd: () => void,
): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let pending = '';
  let dataLines: string[] = [];

  const dispatch = () => {
    if (dataLines.length === 0) return;
    const data = dataLines.join('\n');
    dataLines = [];
    if (data === '[DONE]' || !/"usage"\s*:\s*\{/.test(data)) return;
    try {
      const parsed = JSON.parse(data);
      if (parsed && typeof parsed === 'object') onEvent(parsed);
    } catch {
      // not JSON: not ours to judge
    }
  };

  const consume = (text: string) => {
    pending += text;
    let newline: number;
    while ((newline = pending.search(/\r?\n/)) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + (pending[newline] === '\r' ? 2 : 1));
      if (line === '') dispatch();
      else if (line.startsWith('data:')) dataLines.push(line.slice(line[5] === ' ' ? 6 : 5));
      // `event:`, `id:`, `retry:` and comments carry nothing we need: the data has its `type`.
    }
  };

  const safely = (fn: () => void) => {
    try {
      fn();
    } catch {
      // the caller's stream must never suffer from our parsing
    }
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      safely(() => consume(decoder.decode(chunk, { stream: true })));
    },
    flush() {
      safely(() => {
        consume(decoder.decode());
        if (pending) consume('\n');
        dispatch();
      });
      onEnd();
    },
  });
}
