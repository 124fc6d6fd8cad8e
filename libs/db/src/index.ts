export * from './database';
export * from './db.module';
export { DataDirInUseError } from './embedded/data-dir-lock';
export * from './event-bus';
export * from './outbox.sql';
export * from './rows';
export * from './signals.sql';
export * from './touched-codec';
export * from './usage-signal-relay';
