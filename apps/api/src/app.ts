import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { HttpException, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { ApiKeysService, installAuthHook, Principal, Role } from '@tokentally/auth';
import { AppConfig, createLogger, DomainError, ProblemFilter, rootLoggerOf } from '@tokentally/common';
import { installHttpObservability, REQUEST_ID_HEADER, requestIdOf } from '@tokentally/observability';
import { installOtlpBodyParsing } from '@tokentally/otlp';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { AppModule } from './app.module';

export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface CreatedApp {
  app: NestFastifyApplication;
  /** Set only when this start created the first admin key: show it once. */
  createdAdminKey: string | null;
}

/** Builds the api application (not yet listening); used by main.ts and the e2e tests. */
export async function createApp(
  config: AppConfig,
  logger: LoggerService | false = createLogger(config),
): Promise<CreatedApp> {
  const limits = config.http;
  // Fastify logs through the app's pino logger (silent when `logger` is false): each request gets a child bound to
  // its id, which Nest's Logger uses while serving it. Fastify's own request lines are off: installHttpObservability
  // writes one per answered request, at a level that keeps the hot path quiet (docs/observability.md).
  const root = rootLoggerOf(logger);
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // An event id (200 UTF-16 units: at most 3 UTF-8 bytes each, 3 characters
    // per percent-encoded byte, so 1,800) is a path segment of
    // GET /v1/events/:project/:event; Fastify's default of 100 answered 414.
    routerOptions: { maxParamLength: 200 * 4 * 3 },
    loggerInstance: root,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    // x-request-id: the caller's when it is a sane token, else a new UUID (requestIdOf checks the header).
    requestIdHeader: false,
    genReqId: requestIdOf,
    trustProxy: limits.trustProxy,
    // A request (headers and body) must arrive within requestTimeout, its
    // headers within headersTimeout: a client trickling bytes is answered 408
    // and cut off. Node checks these every connectionsCheckingInterval.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    // Answers Fastify gives before any route or filter runs, as problem+json too.
    frameworkErrors: (
      error: Error & { statusCode?: number; code?: string },
      request: FastifyRequest,
      reply: FastifyReply,
    ) => {
      const status = error.statusCode ?? 400;
      const detail =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'A path segment of the URL is too long.'
          : error.code === 'FST_ERR_BAD_URL'
            ? 'The URL is not valid (bad percent-encoding).'
            : status >= 500
              ? 'Something went wrong on our side.'
              : error.message;
      const body = problemBody(status, detail, request.url?.split('?')[0]);
      void reply
        .status(status)
        .header('content-type', PROBLEM_TYPE)
        .header(REQUEST_ID_HEADER, request.id)
        .send(JSON.stringify(body));
    },
    clientErrorHandler: clientErrorAnswer,
  });
  const fastify = adapter.getInstance();
  // Only JSON bodies are accepted: anything else is 415, not a string in a handler.
  fastify.removeContentTypeParser(['text/plain']);
  // Bytes that are not UTF-8 would be decoded to U+FFFD and stored so (an event_id cut mid-character
  // could then answer another event "duplicate"): refused with a 400 before parsing.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    // `content-type: application/json` with nothing after it is no body, as generic clients send for a POST without
    // one (POST /v1/pricing/refresh); a route that needs a body names it as missing, never "not valid JSON".
    if ((body as Buffer).length === 0) {
      done(null, undefined);
      return;
    }
    if (!isUtf8(body as Buffer)) {
      done(
        DomainError.validation([{ path: '(body)', message: 'must be UTF-8 text' }], 'The body is not valid UTF-8.'),
        undefined,
      );
      return;
    }
    parseJson(request, (body as Buffer).toString('utf8'), done);
  });
  // OTLP/HTTP traces also come as protobuf and gzip: read so on that route only (docs/otlp.md).
  installOtlpBodyParsing(fastify);
  if (limits.maxConnectionsPerIp > 0) limitConnectionsPerAddress(fastify.server, limits.maxConnectionsPerIp);
  closeSilentConnections(fastify.server, limits.headersTimeoutMs);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger,
    // Fastify's own JSON parser only: no form bodies (they would answer 400, not 415).
    bodyParser: false,
    bufferLogs: false,
    abortOnError: false,
  });
  app.useGlobalFilters(new ProblemFilter());
  // First of the hooks, so that even a 401 or a 429 carries its x-request-id.
  installHttpObservability(app, root);
  await registerProtections(app, config);
  await app.init();
  const { createdKey } = await app.get(ApiKeysService).ensureAdminKey(config.adminApiKey);
  return { app, createdAdminKey: createdKey };
}

/**
 * Security headers, CORS, the API-key check before the body is read, and
 * per-key rate limits. Order matters: Fastify runs these onRequest hooks in
 * the order they are added, and route-level hooks (the rate limit) after them.
 */
async function registerProtections(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const limits = config.http;
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        // The dashboard loads its scripts (Chart.js included), stylesheet and
        // data from this service only; no inline script. Its bars set widths
        // with inline style attributes, hence 'unsafe-inline' for styles only.
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        // The favicon is a data: URL.
        'img-src': ["'self'", 'data:'],
        'font-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'object-src': ["'none'"],
        'base-uri': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
      },
    },
    // Served on plain http (localhost, a private address) as often as behind
    // TLS: do not force https on the operator's other hosts.
    strictTransportSecurity: { maxAge: 15_552_000, includeSubDomains: false },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    xFrameOptions: { action: 'deny' },
  });
  const fastify = app.getHttpAdapter().getInstance();
  // The signed chart links of alerts are meant to be shown by chat tools and mail clients.
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url === '/v1/charts/shared/:file')
      reply.header('cross-origin-resource-policy', 'cross-origin');
  });
  if (limits.corsOrigins.length > 0) {
    app.enableCors({
      origin: limits.corsOrigins.includes('*') ? '*' : limits.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', REQUEST_ID_HEADER],
      exposedHeaders: [
        'retry-after',
        'x-ratelimit-limit',
        'x-ratelimit-remaining',
        'x-ratelimit-reset',
        REQUEST_ID_HEADER,
      ],
      maxAge: 600,
    });
  }
  const { windowSeconds, perSecond } = limits.rateLimit;
  const maxPerWindow = (rate: number) => Math.max(1, Math.floor(rate * windowSeconds));
  // Missing or unknown keys count against their address at the anonymous rate, before any key lookup.
  installAuthHook(
    app,
    limits.rateLimit.enabled ? { max: maxPerWindow(perSecond.anonymous), windowMs: windowSeconds * 1000 } : null,
  );
  if (limits.rateLimit.enabled) {
    const principalOf = (request: FastifyRequest) =>
      (request as FastifyRequest & { principal?: Principal | null }).principal ?? null;
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      timeWindow: windowSeconds * 1000,
      cache: 50_000,
      // Keyed by the API key (its id: never the secret) or, without a key, by client address.
      keyGenerator: (request) => {
        const principal = principalOf(request);
        return principal ? `key:${principal.keyId}` : `ip:${request.ip}`;
      },
      max: (request) => {
        const role: Role | undefined = principalOf(request)?.role;
        return maxPerWindow(role ? perSecond[role] : perSecond.anonymous);
      },
      // Health checks are never limited (a load balancer polls them).
      allowList: (request) => request.routeOptions.url === '/health' || request.routeOptions.url === '/health/ready',
      errorResponseBuilder: (request, context) =>
        new HttpException(
          `Too many requests from this ${principalOf(request) ? 'API key' : 'client address'}: at most ${context.max} every ${windowSeconds} s. Retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} s.`,
          429,
        ),
    });
  }
}

const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
};

/** The same RFC 9457 shape as libs/common's ProblemFilter, for answers given before Nest is involved. */
function problemBody(status: number, detail: string, instance?: string) {
  const title = TITLES[status] ?? 'Error';
  return {
    type: `urn:tokentally:problem:${title.toLowerCase().replace(/[^a-z]+/g, '_')}`,
    title,
    status,
    detail,
    ...(instance ? { instance } : {}),
    errors: [] as Array<{ path: string; message: string }>,
  };
}

/**
 * Node's parser errors (headers or URL too large, a request that took too
 * long, garbage) as problem+json on the raw socket; Fastify's default writes
 * application/json. Then the connection is closed, as Node does.
 */
function clientErrorAnswer(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request line or headers are larger than the server accepts (16 KB).']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request did not arrive in time; send it again at a normal pace.']
        : [400, 'The request is not valid HTTP.'];
  // Never write into a response that has already started on this connection.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(problemBody(status, detail));
    socket.write(
      `HTTP/1.1 ${status} ${TITLES[status]}\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        // Node refused the request before Fastify gave it an id: a fresh one, so this answer has one too.
        `${REQUEST_ID_HEADER}: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * At most `max` open connections per client address: beyond that a new
 * connection is closed at once (nothing of its request has been read, so
 * there is no HTTP answer). Behind a proxy every client shares its address:
 * raise HTTP_MAX_CONNECTIONS_PER_IP there or set it to 0.
 */
function limitConnectionsPerAddress(
  server: { on(event: 'connection', listener: (socket: Socket) => void): unknown },
  max: number,
): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

/**
 * A connection that sends nothing at all is closed after the headers timeout:
 * Node's headersTimeout starts with the first byte, so a silent socket would
 * otherwise stay open until the idle timeout (or, with the per-address cap,
 * hold one of its slots for ever).
 */
function closeSilentConnections(
  server: { on(event: 'connection', listener: (socket: Socket) => void): unknown },
  afterMs: number,
): void {
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, afterMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

/** What main.ts prints on the terminal at start: the admin key appears once, here only, never in the log stream. */
export function startupBanner(config: AppConfig, createdAdminKey: string | null): string {
  const url = config.publicUrl;
  const lines = [
    '',
    '  TokenTally is running',
    `  Dashboard and API:  ${url}/`,
    `  Health:             ${url}/health`,
    `  Database:           ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PostgreSQL in ${config.dataDir}`}`,
  ];
  if (createdAdminKey) {
    lines.push(
      '',
      `  Admin API key (shown only this once, store it now):`,
      `    ${createdAdminKey}`,
      '',
      `  Try it:  curl -H "Authorization: Bearer $TOKENTALLY_KEY" ${url}/v1/pricing`,
    );
  }
  return lines.join('\n') + '\n\n';
}
