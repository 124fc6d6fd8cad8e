import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * A local stand-in for the OpenAI API, answering in its real wire format for
 * gpt-image-2: Images API (JSON and SSE streams), Responses API with the
 * image_generation tool, and Chat Completions (JSON and streamed usage).
 */

/** Output tokens per image (the published gpt-image-1 table; gpt-image-2 may differ). */
const OUTPUT_TOKENS: Record<string, Record<string, number>> = {
  low: { '1024x1024': 272, '1024x1536': 408, '1536x1024': 400 },
  medium: { '1024x1024': 1056, '1024x1536': 1584, '1536x1024': 1568 },
  high: { '1024x1024': 4160, '1024x1536': 6240, '1536x1024': 6208 },
};
/** A 1x1 PNG: real image bytes, small. */
export const TINY_PNG_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * An answer given word for word, for tests that build the body themselves
 * (for example exactly per OpenAI's published schema): a JSON body, or a
 * server-sent-event stream whose events are written in `chunkBytes` slices.
 */
export type ScriptedAnswer =
  | { json: unknown; status?: number }
  | { sse: Array<Record<string, unknown> | string>; named?: boolean; chunkBytes?: number };

export interface FakeOpenAI {
  url: string;
  /** Every request received, in order. */
  received: ReceivedRequest[];
  /** Answer the next `count` requests with this status (an OpenAI error body). */
  failNext(count: number, status?: number): void;
  /** Answer the next request with exactly this (queued; the generated answers resume after). */
  serveNext(answer: ScriptedAnswer): void;
  close(): Promise<void>;
}

function imageUsage(prompt: string, size: string, quality: string, inputImageTokens = 0) {
  const textTokens = Math.max(1, Math.ceil(prompt.length / 4));
  const output = OUTPUT_TOKENS[quality]?.[size] ?? 4160;
  return {
    input_tokens: textTokens + inputImageTokens,
    input_tokens_details: { image_tokens: inputImageTokens, text_tokens: textTokens },
    output_tokens: output,
    total_tokens: textTokens + inputImageTokens + output,
  };
}

function sse(res: ServerResponse, events: Array<Record<string, unknown> | string>, named = true) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  for (const event of events) {
    if (typeof event === 'string') res.write(`data: ${event}\n\n`);
    else res.write(`${named ? `event: ${event.type}\n` : ''}data: ${JSON.stringify(event)}\n\n`);
  }
  res.end();
}

/** Writes a scripted stream as the network would deliver it: in slices, not one write per event. */
function sseInChunks(
  res: ServerResponse,
  events: Array<Record<string, unknown> | string>,
  named: boolean,
  chunkBytes: number,
) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const text = events
    .map((event) =>
      typeof event === 'string'
        ? `data: ${event}\n\n`
        : `${named ? `event: ${event.type}\n` : ''}data: ${JSON.stringify(event)}\n\n`,
    )
    .join('');
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += chunkBytes) res.write(bytes.subarray(at, at + chunkBytes));
  res.end();
}

function answerScripted(res: ServerResponse, answer: ScriptedAnswer) {
  if ('sse' in answer) return sseInChunks(res, answer.sse, answer.named ?? true, answer.chunkBytes ?? 16 * 1024);
  json(res, answer.status ?? 200, answer.json);
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Reads a field of a multipart/form-data body (enough for the fields the SDK sends). */
function formField(body: string, name: string): string | null {
  const match = new RegExp(`name="${name}"\\r\\n(?:[^\\r\\n]+\\r\\n)*\\r\\n([^\\r]*)\\r\\n`).exec(body);
  return match ? match[1] : null;
}

function handle(req: ReceivedRequest, res: ServerResponse) {
  const isJson = (req.headers['content-type'] ?? '').includes('json');
  const body: Record<string, any> = isJson && req.body ? JSON.parse(req.body) : {};
  const field = (name: string) => (isJson ? body[name] : formField(req.body, name));
  const size = field('size') ?? '1024x1024';
  const quality = field('quality') ?? 'high';
  const prompt = String(field('prompt') ?? '');
  const created = Math.floor(Date.now() / 1000);

  if (req.path === '/v1/images/generations' || req.path === '/v1/images/edits') {
    const edit = req.path.endsWith('edits');
    const usage = imageUsage(prompt, size, quality, edit ? 1290 : 0);
    const n = Number(field('n') ?? 1);
    if (String(field('stream')) === 'true') {
      const prefix = edit ? 'image_edit' : 'image_generation';
      const partials = Number(field('partial_images') ?? 0);
      const events: Array<Record<string, unknown>> = [];
      for (let i = 0; i < partials; i++) {
        events.push({
          type: `${prefix}.partial_image`,
          b64_json: TINY_PNG_B64,
          created_at: created,
          size,
          quality,
          background: 'opaque',
          output_format: 'png',
          partial_image_index: i,
        });
      }
      events.push({
        type: `${prefix}.completed`,
        b64_json: TINY_PNG_B64,
        created_at: created,
        size,
        quality,
        background: 'opaque',
        output_format: 'png',
        usage,
      });
      return sse(res, events);
    }
    return json(res, 200, {
      created,
      background: 'opaque',
      data: Array.from({ length: n }, () => ({ b64_json: TINY_PNG_B64 })),
      output_format: 'png',
      quality,
      size,
      usage,
    });
  }

  if (req.path === '/v1/responses') {
    const tool = (body.tools ?? []).find((t: { type: string }) => t.type === 'image_generation');
    const response = {
      id: 'resp_fake',
      object: 'response',
      created_at: created,
      status: 'completed',
      model: body.model,
      output: [
        ...(tool
          ? [
              {
                type: 'image_generation_call',
                id: 'ig_fake',
                status: 'completed',
                result: TINY_PNG_B64,
                size: tool.size ?? '1024x1024',
                quality: tool.quality ?? 'high',
              },
            ]
          : []),
        {
          type: 'message',
          id: 'msg_fake',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'Here is your image.', annotations: [] }],
        },
      ],
      usage: {
        input_tokens: 2100,
        input_tokens_details: { cached_tokens: 1000 },
        output_tokens: 180,
        output_tokens_details: { reasoning_tokens: 64 },
        total_tokens: 2280,
      },
      ...(tool
        ? { tool_usage: { image_gen: imageUsage('a cat in a hat', tool.size ?? '1024x1024', tool.quality ?? 'high') } }
        : {}),
    };
    if (body.stream) {
      return sse(res, [
        {
          type: 'response.created',
          sequence_number: 0,
          response: { ...response, status: 'in_progress', output: [], usage: null },
        },
        {
          type: 'response.output_text.delta',
          sequence_number: 1,
          item_id: 'msg_fake',
          output_index: 1,
          content_index: 0,
          delta: 'Here is your image.',
        },
        { type: 'response.completed', sequence_number: 2, response },
      ]);
    }
    return json(res, 200, response);
  }

  if (req.path === '/v1/chat/completions') {
    const usage = {
      prompt_tokens: 1200,
      completion_tokens: 90,
      total_tokens: 1290,
      prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
    };
    const base = { id: 'chatcmpl_fake', created, model: body.model };
    if (body.stream) {
      const withUsage = body.stream_options?.include_usage === true;
      return sse(
        res,
        [
          {
            ...base,
            object: 'chat.completion.chunk',
            choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello' }, finish_reason: null }],
            ...(withUsage ? { usage: null } : {}),
          },
          {
            ...base,
            object: 'chat.completion.chunk',
            choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
            ...(withUsage ? { usage: null } : {}),
          },
          ...(withUsage ? [{ ...base, object: 'chat.completion.chunk', choices: [], usage }] : []),
          '[DONE]',
        ],
        false,
      );
    }
    return json(res, 200, {
      ...base,
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
      usage,
    });
  }

  json(res, 404, {
    error: {
      message: `Unknown request URL: ${req.method} ${req.path}`,
      type: 'invalid_request_error',
      code: 'unknown_url',
    },
  });
}

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const received: ReceivedRequest[] = [];
  let failures: Array<number> = [];
  const scripted: ScriptedAnswer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedRequest = {
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0],
        headers: req.headers,
        body: Buffer.concat(chunks).toString('latin1'),
      };
      received.push(request);
      const failure = failures.shift();
      if (failure) {
        return json(res, failure, {
          error: {
            message: 'Your request was rejected by the fake.',
            type: 'invalid_request_error',
            param: null,
            code: 'fake_failure',
          },
        });
      }
      const answer = scripted.shift();
      if (answer) return answerScripted(res, answer);
      handle(request, res);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    received,
    failNext: (count, status = 400) => {
      failures = Array.from({ length: count }, () => status);
    },
    serveNext: (answer) => {
      scripted.push(answer);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
