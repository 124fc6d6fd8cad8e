import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DATABASE_RETRY_AFTER_SECONDS, DomainError, FieldError, isConnectionError, ProblemKind } from './errors';

const STATUS_OF: Record<ProblemKind, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
};

const TITLE_OF: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors: FieldError[];
  [extension: string]: unknown;
}

/** Renders every error as RFC 9457 application/problem+json. */
export function toProblem(error: unknown, instance?: string): Problem {
  if (error instanceof DomainError) {
    const status = STATUS_OF[error.kind];
    return problem(status, error.message, error.errors, instance, error.kind, error.extensions);
  }
  if (error instanceof HttpException) {
    // Nest hands errors that Fastify raised before a route ran (body size,
    // JSON syntax, content type) to the filters as HttpExceptions.
    const status = error.getStatus();
    switch (status) {
      case 413: {
        // One problem type for every 413, whoever raised it (a DomainError of ours, or Fastify's body limit).
        // OpenTelemetry traces take 16 MB (libs/otlp, OTLP_BODY_LIMIT_BYTES); every other route 1 MB.
        const limit = instance?.startsWith('/v1/otlp/') ? '16 MB' : '1 MB';
        return problem(
          413,
          `The request body is larger than ${limit}.`,
          [{ path: '(body)', message: `must be at most ${limit}` }],
          instance,
          'payload_too_large',
        );
      }
      case 415: {
        // The OpenTelemetry route also reads protobuf (docs/otlp.md); every other route reads JSON only.
        const types = instance?.startsWith('/v1/otlp/')
          ? 'application/json or application/x-protobuf'
          : 'application/json';
        return problem(
          415,
          `Send the body as ${types}.`,
          [{ path: '(content-type)', message: `must be ${types}` }],
          instance,
          'unsupported_media_type',
        );
      }
    }
    const response = error.getResponse();
    const message =
      typeof response === 'object' && response && 'message' in response
        ? String((response as { message: unknown }).message)
        : error.message;
    if (status === 400 && /JSON/i.test(message)) {
      return problem(
        400,
        'The request body is not valid JSON.',
        [{ path: '(body)', message: 'is not valid JSON' }],
        instance,
      );
    }
    return problem(status, message, [], instance);
  }
  if (isConnectionError(error)) {
    // Never the driver's words: they name hosts, databases and SQL.
    return problem(
      503,
      'The database is unreachable right now; retry in a few seconds.',
      [],
      instance,
      'database_unavailable',
      {
        retry_after_s: DATABASE_RETRY_AFTER_SECONDS,
      },
    );
  }
  return problem(500, 'Something went wrong on our side; it has been logged.', [], instance);
}

function problem(
  status: number,
  detail: string,
  errors: FieldError[],
  instance: string | undefined,
  kind?: string,
  extensions: Record<string, unknown> = {},
): Problem {
  const title = TITLE_OF[status] ?? 'Error';
  const slug = kind ?? title.toLowerCase().replace(/[^a-z]+/g, '_');
  return {
    type: `urn:tokentally:problem:${slug}`,
    title,
    status,
    detail,
    ...(instance ? { instance } : {}),
    errors,
    ...extensions,
  };
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    sendProblem(reply, request, error, this.logger);
  }
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: unknown, logger: Logger): void {
  const body = toProblem(error, request.url?.split('?')[0]);
  if (body.status === 503) {
    // Expected while the database is away: one line, no stack, no correlation hunt.
    const retryAfter = typeof body.retry_after_s === 'number' ? body.retry_after_s : DATABASE_RETRY_AFTER_SECONDS;
    reply.header('retry-after', String(retryAfter));
    logger.warn({
      message: 'service unavailable',
      method: request.method,
      url: request.url,
      error: error instanceof Error ? error.message : String(error),
    });
  } else if (body.status >= 500) {
    const correlationId = randomUUID();
    body.correlation_id = correlationId;
    logger.error({
      message: 'unhandled error',
      correlation_id: correlationId,
      method: request.method,
      url: request.url,
      error: describe(error),
    });
  }
  if (body.status === 401) reply.header('www-authenticate', 'Bearer');
  reply
    .status(body.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send(JSON.stringify(body));
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
