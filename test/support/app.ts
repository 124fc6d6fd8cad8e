import 'reflect-metadata';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig, loadConfig } from '@tokentally/common';
import { createApp } from '../../apps/api/src/app';
import { createTestDatabase, TestDatabase } from './database';
import { HttpClient } from './http';

export const TEST_ADMIN_KEY = 'tt_test_admin_key_0123456789abcdef';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  url: string;
  database: TestDatabase;
  http: HttpClient;
  /** The admin key this start created, when the database had none and ADMIN_API_KEY was unset. */
  createdAdminKey: string | null;
  /** Shuts the app down and drops its database. */
  close(): Promise<void>;
}

/** Boots the real api app on a fresh database, listening on a loopback port. */
export async function startTestApp(
  env: Record<string, string | undefined> = {},
  database?: TestDatabase,
): Promise<TestApp> {
  const db = database ?? (await createTestDatabase());
  const config = loadConfig({
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: 'warn',
    PORT: '0',
    // Tests start pulls themselves, against local fake sources.
    PRICING_REFRESH_ON_START: 'false',
    ...db.env,
    ...env,
  });
  const { app, createdAdminKey } = await createApp(config, false);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  let closed = false;
  return {
    app,
    config,
    url,
    database: db,
    http: new HttpClient(url, config.adminApiKey ?? createdAdminKey),
    createdAdminKey,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      if (!database) await db.drop();
    },
  };
}
