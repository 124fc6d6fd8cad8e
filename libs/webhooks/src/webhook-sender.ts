import { request as httpRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { guardedLookup, refusalOfUrl } from './ssrf';

export const SEND_TIMEOUT_MS = 10_000;
const MAX_REDIRECTS = 3;
const EXCERPT_BYTES = 1024;

export interface SendResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** Seconds the receiver asked us to wait (Retry-After), if any. */
  retryAfterSeconds: number | null;
  responseExcerpt: string | null;
}

export interface SendOptions {
  allowPrivate: boolean;
  timeoutMs?: number;
  /** Replaces the address guard (tests prove redirects are checked hop by hop). */
  refusal?: (url: URL) => Promise<string | null>;
}

/**
 * POSTs a webhook body. The whole exchange, redirects included, has one
 * deadline. Every hop is checked against the SSRF guard before connecting
 * and connects only to the addresses it checked. Redirects (at most 3) are
 * followed only within the origin of the endpoint (same scheme, host and
 * port), by POSTing the same body there: the signed body and its
 * `webhook-*` headers never go to a host the endpoint's owner did not
 * register, nor from https down to http. A redirect elsewhere fails the
 * attempt with an error naming the target.
 */
export async function sendWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: SendOptions,
): Promise<SendResult> {
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? SEND_TIMEOUT_MS);
  const done = (partial: Partial<SendResult>): SendResult => ({
    statusCode: null,
    error: null,
    retryAfterSeconds: null,
    responseExcerpt: null,
    ...partial,
    durationMs: Date.now() - started,
  });
  let target = new URL(url);
  const origin = target.origin;
  for (let hop = 0; ; hop++) {
    const refusal = options.refusal ? await options.refusal(target) : await refusalOfUrl(target, options.allowPrivate);
    if (refusal) return done({ error: `refused: ${refusal}${hop > 0 ? ` (after a redirect to ${target.href})` : ''}` });
    let response: Awaited<ReturnType<typeof post>>;
    try {
      response = await post(
        target,
        body,
        headers,
        deadline - Date.now(),
        options.allowPrivate || Boolean(options.refusal),
      );
      if (response === 'timeout')
        return done({ error: `timed out after ${(options.timeoutMs ?? SEND_TIMEOUT_MS) / 1000} s` });
    } catch (error) {
      return done({ error: describe(error) });
    }
    const { statusCode, location } = response;
    if ([301, 302, 303, 307, 308].includes(statusCode) && location) {
      if (hop >= MAX_REDIRECTS) return done({ statusCode, error: `more than ${MAX_REDIRECTS} redirects` });
      let next: URL;
      try {
        next = new URL(location, target);
      } catch {
        return done({ statusCode, error: `HTTP ${statusCode} with an invalid Location` });
      }
      if (next.origin !== origin) {
        return done({
          statusCode,
          error: `HTTP ${statusCode} redirect to another origin (${next.protocol === 'http:' || next.protocol === 'https:' ? next.origin : next.protocol}) not followed: only redirects within ${origin} are; register the final URL`,
        });
      }
      target = next;
      continue;
    }
    return done({
      statusCode,
      error: statusCode >= 200 && statusCode < 300 ? null : `HTTP ${statusCode}`,
      retryAfterSeconds: parseRetryAfter(response.retryAfter),
      responseExcerpt: response.excerpt || null,
    });
  }
}

function post(url: URL, body: string, headers: Record<string, string>, timeoutMs: number, skipLookupGuard: boolean) {
  return new Promise<
    { statusCode: number; location: string | undefined; retryAfter: string | undefined; excerpt: string } | 'timeout'
  >((resolve, reject) => {
    if (timeoutMs <= 0) return resolve('timeout');
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': 'TokenTally-Webhooks/1',
      },
      // Literal IPs were judged by refusalOfUrl; names are judged here, at the address actually used.
      lookup: skipLookupGuard ? undefined : (guardedLookup(false) as LookupFunction),
    });
    const timer = setTimeout(() => {
      resolve('timeout');
      request.destroy();
    }, timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < EXCERPT_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      response.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      response.on('end', () => {
        clearTimeout(timer);
        resolve({
          statusCode: response.statusCode ?? 0,
          location: response.headers.location,
          retryAfter: response.headers['retry-after'],
          excerpt: Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8'),
        });
      });
    });
    request.end(body);
  });
}

function parseRetryAfter(value: string | undefined): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'ERR_WEBHOOK_DESTINATION_REFUSED') return `refused: ${e.message}`;
  if (e?.code === 'ECONNREFUSED') return 'connection refused';
  if (e?.code === 'ENOTFOUND') return 'host not found';
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? e);
}
