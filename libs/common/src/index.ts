export * from './config';
export * from './errors';
export * from './validation';
export * from './problem.filter';
export * from './config.module';
export * from './logger';
export * from './app-logger';
export * from './api-operation';
