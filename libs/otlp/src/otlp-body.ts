import { Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DomainError } from '@tokentally/common';
import type { FastifyInstance, FastifyRequest, preParsingAsyncHookHandler } from 'fastify';

/** The OTLP/HTTP traces path (OTLP's default `/v1/traces`, under TokenTally's `/v1/otlp`). */
export const OTLP_TRACES_PATH = '/v1/otlp/v1/traces';
export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';
/**
 * The body limit of the OTLP route, before and after gzip: exporters drop a batch answered 413 (they do not retry
 * it), and spans that carry prompts and answers make batches of several MB. The OpenTelemetry Collector takes
 * 20 MiB by default; 16 MiB here, every other route keeps 1 MB.
 */
export const OTLP_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

const isOtlpRoute = (request: FastifyRequest) => request.routeOptions.url === OTLP_TRACES_PATH;

/**
 * What the OTLP route reads besides the JSON every route reads, installed on
 * the Fastify instance by apps/api/src/app.ts:
 *
 * - `application/x-protobuf` bodies, as a Buffer, on the OTLP route only:
 *   every other route answers them 415 as before (as any type but JSON).
 * - `Content-Encoding: gzip` on the OTLP route only (OTLP exporters may
 *   compress): inflated as it arrives, and OTLP_BODY_LIMIT_BYTES holds for
 *   the inflated body too (a small gzip bomb is a 413, not a gigabyte in memory).
 *   Another encoding is a 415. Other routes read their bodies as before.
 */
export function installOtlpBodyParsing(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(PROTOBUF_CONTENT_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
    if (isOtlpRoute(request)) done(null, body);
    else
      done(
        new DomainError('unsupported_media_type', 'Send the body as application/json.', [
          { path: '(content-type)', message: 'must be application/json' },
        ]),
        undefined,
      );
  });
  // On this one route (Nest registers its routes after this runs): no other route gets the hook.
  fastify.addHook('onRoute', (route) => {
    if (route.url !== OTLP_TRACES_PATH) return;
    const before = route.preParsing ? [route.preParsing].flat() : [];
    route.preParsing = [...before, inflateGzip(OTLP_BODY_LIMIT_BYTES)] as typeof route.preParsing;
    route.bodyLimit = OTLP_BODY_LIMIT_BYTES;
  });
}

/** A preParsing hook: a gzip body inflated (at most `limit` bytes), no encoding as is, another encoding 415. */
function inflateGzip(limit: number): preParsingAsyncHookHandler {
  return async (request, _reply, payload) => {
    const header = request.headers['content-encoding'];
    const encoding = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim().toLowerCase();
    if (encoding === '' || encoding === 'identity') return payload;
    if (encoding !== 'gzip')
      throw new DomainError(
        'unsupported_media_type',
        `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported; send the body as is or gzip.`,
        [{ path: '(content-encoding)', message: 'must be gzip or left out' }],
      );
    return gunzipWithin(payload, limit);
  };
}

/**
 * The inflated body, at most `limit` bytes. It carries
 * `receivedEncodedLength` (the bytes read from the client), which Fastify
 * checks against its body limit and Content-Length, as its documentation
 * asks of a preParsing stream that decompresses.
 */
function gunzipWithin(payload: Readable, limit: number): Readable {
  const gunzip = createGunzip();
  let inflated = 0;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      inflated += chunk.length;
      if (inflated > limit) {
        callback(
          new DomainError(
            'payload_too_large',
            `The request body is larger than ${Math.round(limit / 1024 / 1024)} MB once decompressed.`,
            [{ path: '(body)', message: `must be at most ${limit} bytes after gzip decompression` }],
          ),
        );
        return;
      }
      callback(null, chunk);
    },
  }) as Transform & { receivedEncodedLength: number };
  out.receivedEncodedLength = 0;
  payload.on('data', (chunk: Buffer) => {
    out.receivedEncodedLength += chunk.length;
  });
  payload.on('error', (error) => out.destroy(error));
  gunzip.on('error', () =>
    out.destroy(
      DomainError.validation(
        [{ path: '(body)', message: 'is not valid gzip data' }],
        'The body says Content-Encoding: gzip but is not valid gzip data.',
      ),
    ),
  );
  // Inflating stops at once (no bomb is inflated to the end); the rest of the body is read and dropped.
  out.on('error', () => {
    payload.unpipe(gunzip);
    gunzip.destroy();
    payload.resume();
  });
  payload.pipe(gunzip).pipe(out);
  return out;
}
