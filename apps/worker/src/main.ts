import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createLogger, loadConfigOrExit, redactSecrets } from '@tokentally/common';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, 'TokenTally worker');
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    // The same JSON lines as the api's (libs/common/src/app-logger.ts), with "process":"worker".
    logger: createLogger(config, { name: 'worker' }),
  });
  app.enableShutdownHooks();
  await app.init(); // the jobs start with the context
  // Plain text for whoever started it (the api prints its banner the same way): the jobs are running.
  process.stdout.write('TokenTally worker started\n');
}

main().catch((error) => {
  console.error(redactSecrets(`TokenTally worker failed to start: ${error instanceof Error ? error.message : error}`));
  process.exit(1);
});
