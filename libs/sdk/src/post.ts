import { Agent as HttpAgent, IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** What a POST to TokenTally answered: the status, its Retry-After, and the body (the first 64 KB). */
export interface PostAnswer {
  status: number;
  retryAfter: string | null;
  text: string;
}

/** More of an answer than this is not kept: TokenTally's answers are small, and only read for errors. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Connections kept open between batches. Node's own agents are not used: they keep connections alive only
 * from Node 19 on. An idle kept-alive socket does not keep the process alive (the agent unrefs it).
 */
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * POSTs a JSON body and reads the answer, failing after `timeoutMs` in all. Through node:http(s) unless a
 * fetch is given: undici's fetch cost three to four times the CPU per batch (its Request, Response,
 * Headers and web streams; more again where AsyncLocalStorage is in use, as with OpenTelemetry), some
 * tens of microseconds per event, which was most of what the middleware cost a call.
 */
export function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  fetchImpl?: typeof fetch,
): Promise<PostAnswer> {
  return fetchImpl
    ? postWithFetch(fetchImpl, url, headers, body, timeoutMs)
    : postWithNode(url, headers, body, timeoutMs);
}

async function postWithFetch(
  fetchImpl: typeof fetch,
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostAnswer> {
  const response = await fetchImpl(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), text: await response.text() };
}

function postWithNode(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostAnswer> {
  return new Promise<PostAnswer>((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') throw new Error(`TokenTally endpoint must be http or https: ${url}`);
    // Fires after `request` is made (a timer never runs before the executor returns).
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    const fail = (error: unknown) => {
      clearTimeout(timer);
      reject(error);
    };
    const request = (secure ? httpsRequest : httpRequest)(
      target,
      {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (answer: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        answer.on('data', (chunk: Buffer) => {
          if (kept >= MAX_ANSWER_BYTES) return;
          chunks.push(chunk);
          kept += chunk.length;
        });
        answer.on('error', fail);
        answer.on('close', () => {
          if (!answer.complete) fail(new Error('the answer was cut short'));
        });
        answer.on('end', () => {
          clearTimeout(timer);
          const retryAfter = answer.headers['retry-after'];
          resolve({
            status: answer.statusCode ?? 0,
            retryAfter: (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    request.on('error', fail);
    request.end(body);
  });
}
