import 'reflect-metadata';
import { loadConfigOrExit } from '@tokentally/common';
import { createApp } from './app';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, 'TokenTally');
  const { app, createdAdminKey } = await createApp(config);
  app.enableShutdownHooks();
  await app.listen({ port: config.port, host: config.host });
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
      `  Try it:  curl -H "Authorization: Bearer ${createdAdminKey}" ${url}/v1/pricing`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}

main().catch((error) => {
  console.error(`TokenTally failed to start: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
