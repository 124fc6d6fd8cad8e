import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createLogger, loadConfigOrExit, redactSecrets } from '@tokentally/common';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, 'TokenTally worker');
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    logger: createLogger(config),
  });
  app.enableShutdownHooks();
  await app.init(); // the jobs start with the context
}

main().catch((error) => {
  console.error(redactSecrets(`TokenTally worker failed to start: ${error instanceof Error ? error.message : error}`));
  process.exit(1);
});
