export * from './database';
export * from './db.module';
export { DataDirInUseError } from './embedded/data-dir-lock';
export * from './event-bus';
export * from './rows';
