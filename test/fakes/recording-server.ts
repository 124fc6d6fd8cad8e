import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/** A request a fake provider received, as tests look at it. */
export interface RecordedRequest {
  method: string;
  /** The path without its query. */
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  /** The body as text: UTF-8, or latin1 (one character per byte) for multipart uploads. */
  body: string;
}

export interface RecordingServer<R extends RecordedRequest = RecordedRequest> {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Every request received, in order. */
  received: R[];
  close(): Promise<void>;
}

/**
 * The plumbing the provider fakes share: an HTTP server on 127.0.0.1 at a
 * random port that reads each request whole, records it (`record` may add
 * what a fake wants to keep, such as the parsed body) and hands it to `answer`.
 */
export async function startRecordingServer<R extends RecordedRequest = RecordedRequest>(
  answer: (request: R, res: ServerResponse) => void,
  options: { bodyEncoding?: BufferEncoding; record?: (request: RecordedRequest) => R } = {},
): Promise<RecordingServer<R>> {
  const received: R[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString(options.bodyEncoding ?? 'utf8'),
      };
      const request = options.record ? options.record(recorded) : (recorded as R);
      received.push(request);
      answer(request, res);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The text of a Chat Completions request's messages (string contents and text parts), as a fake counts its prompt. */
export function promptText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  return messages
    .map((message) => {
      const content = (message as { content?: unknown })?.content;
      if (typeof content === 'string') return content;
      if (Array.isArray(content))
        return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
      return '';
    })
    .join('');
}
