import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { storage, Store } from 'nestjs-pino/storage';
import type { Level, Logger as Pino } from 'pino';
import { Metrics } from './metrics';
import { REQUEST_ID_HEADER } from './request-id';

/** A request slower than this is logged at info, whatever its status. */
export const SLOW_REQUEST_MS = 1000;

/**
 * The level of the line logged when a request is answered. Successful fast
 * requests are debug, so the ingest hot path writes nothing at the default
 * level (LOG_LEVEL=log); refusals (4xx) and slow requests are info; 5xx are
 * warn (ProblemFilter has already logged the error itself at error); 429s are
 * debug, because an abusive client would otherwise turn into a flood of lines.
 */
export function completionLevel(statusCode: number, elapsedMs: number): Level {
  if (statusCode >= 500) return 'warn';
  if (statusCode === 429) return 'debug';
  if (statusCode >= 400 || elapsedMs >= SLOW_REQUEST_MS) return 'info';
  return 'debug';
}

/**
 * Per request, in the api:
 *
 * - onRequest (before the API-key check, the rate limit and everything else
 *   that may answer): `x-request-id` on the answer, and the request's child
 *   logger (Fastify's `request.log`, bound to `request_id`) put in
 *   nestjs-pino's AsyncLocalStorage store, so every line Nest's Logger writes
 *   while serving the request carries its id. The same store nestjs-pino's
 *   LoggerModule middleware would fill, from one Fastify hook instead of a
 *   middleware chain on every request.
 * - onResponse: the latency histogram (route template, method, status class)
 *   and one log line at the level completionLevel gives.
 */
export function installHttpObservability(app: NestFastifyApplication, root: Pino): void {
  const fastify = app.getHttpAdapter().getInstance();
  const metrics = app.get(Metrics);
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    storage.run(new Store(request.log as Pino), done);
  });
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const elapsedMs = reply.elapsedTime;
    const route = request.routeOptions.url;
    metrics.observeRequest(request.method, route, reply.statusCode, elapsedMs);
    const level = completionLevel(reply.statusCode, elapsedMs);
    if (root.isLevelEnabled(level)) {
      request.log[level](
        { req: request, res: reply, response_time_ms: Math.round(elapsedMs * 10) / 10 },
        elapsedMs >= SLOW_REQUEST_MS ? 'slow request' : 'request completed',
      );
    }
    done();
  });
}
