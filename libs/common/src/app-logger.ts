import { hostname } from 'node:os';
import type { LoggerService } from '@nestjs/common';
import { Logger as NestPinoLogger, PinoLogger } from 'nestjs-pino';
// nestjs-pino's request context: the store its middleware fills. The api fills the same store from a Fastify hook
// (libs/observability, http-observability.ts), so Nest's Logger writes through the request's child logger.
import { storage } from 'nestjs-pino/storage';
import pino, { DestinationStream, Level, Logger as Pino } from 'pino';
import { AppConfig, LogLevelName } from './config';
import { redactSecrets, redactValue } from './logger';

/** LOG_LEVEL (Nest's names) to pino's levels. */
const PINO_LEVEL: Record<LogLevelName, Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

const REDACTED = '[REDACTED]';

/**
 * Header paths pino blanks after serialization, whatever put them there: a
 * second net behind the serializers below (which log no headers at all).
 */
const REDACT_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];

/** Keys whose values are Fastify's request and reply: the serializers below turn them into a few redacted fields. */
const SERIALIZED_KEYS = new Set(['req', 'res']);

/** The request as logged: no headers, no body, the URL redacted (the `sig` of a shared chart link). */
function serializeRequest(request: {
  method?: string;
  url?: string;
  ip?: string;
  routeOptions?: { url?: string };
}): Record<string, unknown> {
  return {
    method: request.method,
    url: typeof request.url === 'string' ? redactSecrets(request.url) : undefined,
    route: request.routeOptions?.url,
    remote_address: request.ip,
  };
}

function serializeResponse(reply: { statusCode?: number }): Record<string, unknown> {
  return { status_code: reply.statusCode };
}

function serializeError(error: unknown): unknown {
  const out = error instanceof Error ? pino.stdSerializers.err(error) : error;
  return redactValue(out);
}

/**
 * Every argument of a log call through redactValue (libs/common/src/logger.ts),
 * before pino serializes it: strings, errors, objects (credential-named fields
 * blanked at any depth). Fastify's request and reply objects under `req` and
 * `res` are left to the serializers, which log only redacted fields of them.
 */
function redactArgument(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Error)
    return redactValue(value);
  let kept: Record<string, unknown> | null = null;
  let rest = value as Record<string, unknown>;
  for (const key of SERIALIZED_KEYS) {
    if (key in rest && rest[key] !== null && typeof rest[key] === 'object') {
      kept ??= {};
      kept[key] = rest[key];
      if (rest === value) rest = { ...rest };
      delete rest[key];
    }
  }
  const redacted = redactValue(rest) as Record<string, unknown>;
  return kept ? { ...redacted, ...kept } : redacted;
}

export interface CreateLoggerOptions {
  /** Where the lines go; default: process.stdout (JSON lines, or readable lines with LOG_FORMAT=pretty). */
  destination?: DestinationStream;
  /** The process, on every line: `api` (default) or `worker`. */
  name?: string;
  /** Log nothing at all (tests). */
  silent?: boolean;
}

/**
 * Text that may hold a credential: a field name of logger.ts's SECRET_FIELDS
 * or the start of one of its PATTERNS. A line without any is written as is.
 */
const MAY_HOLD_SECRET =
  /authorization|cookie|api[-_]?key|secret|signature|password|"sig"|sig=|sig%3d|bearer|basic|tt_|whsec_/i;

/**
 * The last step of every line, after pino has serialized it: a line that may
 * hold a credential is parsed, passed through redactValue (field names and
 * text patterns) and written again. This catches what the steps before cannot
 * see, such as the bindings of a child logger (pino does not run formatters
 * on them). Parsed rather than edited as text, so the line stays valid JSON.
 */
function redactLine(line: string): string {
  if (!MAY_HOLD_SECRET.test(line)) return line;
  try {
    return JSON.stringify(redactValue(JSON.parse(line))) + '\n';
  } catch {
    return redactSecrets(line);
  }
}

/**
 * The pino logger behind every log line of the api and the worker: JSON lines
 * (`level` as a name, `time` ISO 8601), filtered by LOG_LEVEL, credentials
 * redacted with logger.ts's redactValue and redactSecrets: every argument
 * before serialization, the request, reply and error serializers' output,
 * header paths, and finally the whole line (redactLine).
 */
export function createRootLogger(
  config: Pick<AppConfig, 'logLevel' | 'logFormat'>,
  options: CreateLoggerOptions = {},
): Pino {
  const destination =
    options.destination ?? (config.logFormat === 'pretty' ? prettyStdout() : { write: writeToStdout });
  return pino(
    {
      level: options.silent ? 'silent' : PINO_LEVEL[config.logLevel],
      base: { process: options.name ?? 'api', pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map(redactArgument) as Parameters<typeof method>);
        },
        streamWrite: redactLine,
      },
      serializers: { req: serializeRequest, res: serializeResponse, err: serializeError },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
    },
    destination,
  );
}

/** process.stdout.write looked up on each line (a test may replace it), one synchronous write per line. */
function writeToStdout(line: string): void {
  process.stdout.write(line);
}

const LEVEL_WIDTH = 5;

/** LOG_FORMAT=pretty: `12:00:01.234 INFO  [Context] message (request_id) {other fields}` for a terminal. */
function prettyStdout(): DestinationStream {
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        process.stdout.write(line);
        return;
      }
      const { time, level, msg, message, context, request_id, process: _p, pid: _pid, hostname: _h, ...rest } = entry;
      const clock = typeof time === 'string' ? time.slice(11, 23) : '';
      const text = [
        clock,
        String(level ?? '')
          .toUpperCase()
          .padEnd(LEVEL_WIDTH),
        context ? `[${String(context)}]` : '',
        String(msg ?? message ?? ''),
        request_id ? `(${String(request_id)})` : '',
        Object.keys(rest).length > 0 ? JSON.stringify(rest) : '',
      ]
        .filter(Boolean)
        .join(' ');
      process.stdout.write(text + '\n');
    },
  };
}

/**
 * nestjs-pino's PinoLogger writing through the logger of the request being
 * served (the store nestjs-pino keeps in AsyncLocalStorage, filled per request
 * by the api: its lines carry `request_id`), or else through this app's own
 * root logger. nestjs-pino's own fallback is one logger per process, which
 * would mix up two apps in one test process.
 */
class RequestScopedPinoLogger extends PinoLogger {
  constructor(private readonly root: Pino) {
    super({ pinoHttp: { logger: root } });
  }

  override get logger(): Pino {
    return storage.getStore()?.logger ?? this.root;
  }
}

/**
 * Nest's LoggerService over pino (nestjs-pino's Logger): Nest's `Logger`
 * calls anywhere in the api or the worker become JSON lines with their
 * `context`, and the request id when logged while serving a request.
 */
export class AppLogger extends NestPinoLogger implements LoggerService {
  constructor(readonly root: Pino) {
    super(new RequestScopedPinoLogger(root), {});
  }
}

/**
 * The logger of the api and the worker: JSON lines on stdout (LOG_FORMAT=pretty:
 * readable lines), at LOG_LEVEL, credentials redacted from every line.
 */
export function createLogger(
  config: Pick<AppConfig, 'logLevel' | 'logFormat'>,
  options: CreateLoggerOptions = {},
): AppLogger {
  return new AppLogger(createRootLogger(config, options));
}

/** The pino logger behind a Nest logger made by createLogger; a silent one for `false` or any other logger. */
export function rootLoggerOf(logger: LoggerService | false): Pino {
  return logger instanceof AppLogger ? logger.root : createRootLogger({ logLevel: 'error', logFormat: 'json' }, SILENT);
}

const SILENT: CreateLoggerOptions = { silent: true, destination: { write: () => undefined } };
