import { ConsoleLogger, LoggerService, LogLevel } from '@nestjs/common';
import { AppConfig, LogLevelName } from './config';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Structured JSON lines by default (LOG_FORMAT=pretty for a terminal), filtered by LOG_LEVEL. */
export function createLogger(config: Pick<AppConfig, 'logLevel' | 'logFormat'>): LoggerService {
  const logLevels = LEVELS.slice(0, LEVELS.indexOf(config.logLevel as LogLevelName) + 1);
  return new ConsoleLogger({ json: config.logFormat === 'json', logLevels, prefix: 'TokenTally' });
}
