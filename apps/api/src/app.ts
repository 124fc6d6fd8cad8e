import { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiKeysService } from '@tokentally/auth';
import { AppConfig, createLogger, ProblemFilter } from '@tokentally/common';
import { AppModule } from './app.module';

export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface CreatedApp {
  app: NestFastifyApplication;
  /** Set only when this start created the first admin key: show it once. */
  createdAdminKey: string | null;
}

/** Builds the api application (not yet listening); used by main.ts and the e2e tests. */
export async function createApp(config: AppConfig, logger: LoggerService | false = createLogger(config)): Promise<CreatedApp> {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, logger: false });
  const fastify = adapter.getInstance();
  // Only JSON bodies are accepted: anything else is 415, not a string in a handler.
  fastify.removeContentTypeParser(['text/plain']);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger,
    // Fastify's own JSON parser only: no form bodies (they would answer 400, not 415).
    bodyParser: false,
    bufferLogs: false,
    abortOnError: false,
  });
  app.useGlobalFilters(new ProblemFilter());
  await app.init();
  const { createdKey } = await app.get(ApiKeysService).ensureAdminKey(config.adminApiKey);
  return { app, createdAdminKey: createdKey };
}
