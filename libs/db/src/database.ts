import { Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig } from '@tokentally/common';
import { MIGRATIONS } from '../../../migrations';
import { startEmbeddedPostgres, EmbeddedPostgres } from './embedded/embedded-postgres';

export type DatabaseKind = 'postgres' | 'embedded';

/** The one DataSource of a process, and what it runs on. */
export class Database {
  constructor(
    readonly dataSource: DataSource,
    readonly kind: DatabaseKind,
    private readonly embedded: EmbeddedPostgres | null,
  ) {}

  /** The embedded database serves exactly one connection (PGlite has one session). */
  get maxConnections(): number {
    return this.kind === 'embedded' ? 1 : (this.dataSource.options as { poolSize?: number }).poolSize ?? 10;
  }

  /**
   * Runs a statement as a named prepared statement: PostgreSQL parses and
   * plans it once per connection instead of on every call (the ingest hot path).
   */
  async queryPrepared<T = Record<string, unknown>>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    const result = await pool.query({ name, text, values });
    return result.rows as T[];
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded?.stop();
  }
}

const MIGRATIONS_LOCK_KEY = 7_291_001; // pg_advisory_lock key shared by every TokenTally process

const common = {
  type: 'postgres',
  migrations: MIGRATIONS,
  migrationsTableName: 'typeorm_migrations',
  migrationsTransactionMode: 'each',
  synchronize: false,
  logging: false,
  // PGlite lacks uuid-ossp; gen_random_uuid() is in core PostgreSQL 13+.
  uuidExtension: 'pgcrypto',
} as const;

/**
 * Connects to DATABASE_URL, or starts the embedded PostgreSQL under DATA_DIR,
 * and brings the schema up to date. Same driver, same SQL, same migrations.
 */
export async function openDatabase(config: AppConfig, logger = new Logger('Database')): Promise<Database> {
  let embedded: EmbeddedPostgres | null = null;
  let options: DataSourceOptions;
  if (config.databaseUrl) {
    options = { ...common, url: config.databaseUrl, poolSize: config.dbPoolSize, applicationName: 'tokentally' };
  } else {
    const started = Date.now();
    embedded = await startEmbeddedPostgres(config.dataDir);
    logger.log(`embedded PostgreSQL ready in ${Date.now() - started} ms (data in ${embedded.dir})`);
    options = {
      ...common,
      host: embedded.host,
      port: embedded.port,
      username: 'postgres',
      password: 'postgres',
      database: 'postgres',
      poolSize: 1,
      // pg would drop an idle connection after 10 s and could lose the only slot.
      extra: { idleTimeoutMillis: 0 },
    };
  }
  const dataSource = new DataSource(options);
  const database = new Database(dataSource, embedded ? 'embedded' : 'postgres', embedded);
  try {
    await dataSource.initialize();
    await migrate(database, logger);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  return database;
}

/** Runs pending migrations; on a shared server, one process at a time. */
export async function migrate(database: Database, logger = new Logger('Database')): Promise<void> {
  const { dataSource } = database;
  if (database.kind === 'embedded') {
    // The folder lock already makes this process the only one; holding an
    // advisory lock would need a second connection, which PGlite cannot give.
    await logMigrations(await dataSource.runMigrations({ transaction: 'each' }), logger);
    return;
  }
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    await lockRunner.query('SELECT pg_advisory_lock($1)', [MIGRATIONS_LOCK_KEY]);
    await logMigrations(await dataSource.runMigrations({ transaction: 'each' }), logger);
  } finally {
    await lockRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_LOCK_KEY]).catch(() => undefined);
    await lockRunner.release();
  }
}

async function logMigrations(applied: Array<{ name: string }>, logger: Logger): Promise<void> {
  for (const migration of applied) logger.log(`applied migration ${migration.name}`);
}
