import 'reflect-metadata';
import { loadConfigOrExit, redactSecrets } from '@tokentally/common';
import { createApp, startupBanner } from './app';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, 'TokenTally');
  const { app, createdAdminKey } = await createApp(config);
  app.enableShutdownHooks();
  await app.listen({ port: config.port, host: config.host });
  // Plain text on stdout for whoever started the service, not a log line: the
  // generated admin key is printed here once and nowhere else.
  process.stdout.write(startupBanner(config, createdAdminKey));
}

main().catch((error) => {
  console.error(redactSecrets(`TokenTally failed to start: ${error instanceof Error ? error.message : error}`));
  process.exit(1);
});
