import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, createLogger, loadConfig } from '@tokentally/common';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`TokenTally worker cannot start. ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { logger: createLogger(config) });
  app.enableShutdownHooks();
  await app.init(); // the jobs start with the context
}

main().catch((error) => {
  console.error(`TokenTally worker failed to start: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
