import { Logger } from '@nestjs/common';
import { Client, type ClientConfig, type Pool, type PoolClient } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig, isConnectionError } from '@tokentally/common';
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
    return this.kind === 'embedded' ? 1 : ((this.dataSource.options as { poolSize?: number }).poolSize ?? 10);
  }

  private get pool(): Pool {
    return (this.dataSource.driver as unknown as { master: Pool }).master;
  }

  /**
   * The connection pool now, for GET /metrics: connections open, idle, and
   * queries waiting for one. The embedded database is reached through a pool
   * of one connection, so `waiting` is its queue. Zeros before start-up.
   */
  poolStats(): { total: number; idle: number; waiting: number; max: number } {
    const pool = this.dataSource.isInitialized ? (this.pool as Pool | undefined) : undefined;
    return {
      total: pool?.totalCount ?? 0,
      idle: pool?.idleCount ?? 0,
      waiting: pool?.waitingCount ?? 0,
      max: this.maxConnections,
    };
  }

  /**
   * Runs a statement as a named prepared statement: PostgreSQL parses and
   * plans it once per connection instead of on every call (the ingest hot path).
   *
   * A failed execution must not leave the name behind on the session: PGlite
   * keeps a statement whose execution failed while pg forgets it, and every
   * later call then fails with `prepared statement "..." already exists`. So on
   * an error the statement is deallocated on the same connection, and a
   * connection that cannot be cleaned up is dropped from the pool.
   */
  async queryPrepared<T = Record<string, unknown>>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const result = await client.query({ name, text, values });
      return result.rows as T[];
    } catch (error) {
      if (isConnectionError(error)) broken = error as Error;
      else broken = await forgetPrepared(client, name);
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /**
   * The pool's connection settings (URL, password, TLS, timeouts), for a
   * connection of its own outside the pool: LISTEN needs one session for as
   * long as it listens. PostgreSQL only.
   */
  dedicatedClientConfig(applicationName: string): ClientConfig {
    const options = this.pool.options;
    // pg-pool hides the password from enumeration: it is copied by name.
    return { ...options, password: options.password, application_name: applicationName, keepAlive: true };
  }

  /**
   * Readiness: the database answers and every migration of this build is
   * applied. Returns the reason when not ready.
   */
  async readiness(timeoutMs = READINESS_TIMEOUT_MS): Promise<{ ready: true } | { ready: false; reason: string }> {
    try {
      const applied = await withTimeout(
        this.dataSource.query(`SELECT name FROM ${common.migrationsTableName}`) as Promise<Array<{ name: string }>>,
        timeoutMs,
      );
      const done = new Set(applied.map((row) => row.name));
      const pending = this.dataSource.migrations.map((m) => m.name ?? m.constructor.name).filter((n) => !done.has(n));
      if (pending.length > 0) return { ready: false, reason: `${pending.length} database migration(s) pending` };
      return { ready: true };
    } catch (error) {
      if (error instanceof ReadinessTimeout)
        return { ready: false, reason: `database did not answer within ${timeoutMs} ms` };
      if (isConnectionError(error)) return { ready: false, reason: 'database unreachable' };
      if ((error as { code?: string }).code === '42P01') return { ready: false, reason: 'database migrations pending' };
      return { ready: false, reason: 'database query failed' };
    }
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded?.stop();
  }
}

const MIGRATIONS_LOCK_KEY = 7_291_001; // pg_advisory_lock key shared by every TokenTally process

/**
 * How long a request waits for a new connection (or for a free one in a full
 * pool) before failing with a connection-class error, answered 503. Without
 * it a request waits for ever while the database is away. PostgreSQL only:
 * the embedded database has one connection and a queue in front of it.
 */
export const DB_CONNECT_TIMEOUT_MS = 5_000;
/** /health/ready gives the database this long to answer. */
export const READINESS_TIMEOUT_MS = 2_000;

const logger = new Logger('Database');

/**
 * Every pooled client gets an `error` listener the moment it is created. pg
 * emits `error` on a client whose connection dies while no query is running
 * on it (pg_terminate_backend, a restart, a network cut); pg-pool and TypeORM
 * listen only while the client is idle or held by a query runner, and an
 * `error` event with no listener kills the process. The pool drops the dead
 * client when it is next released or found idle, and opens a new one.
 */
class ListenedClient extends Client {
  constructor(config?: ConstructorParameters<typeof Client>[0]) {
    super(config);
    this.on('error', (error: Error & { code?: string }) => {
      logger.warn(`database connection lost: ${error.code ? `${error.code} ` : ''}${error.message}`);
    });
  }
}

class ReadinessTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new ReadinessTimeout()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * After a failed execution of a named statement: forget it on both sides so
 * the next call parses it afresh. Returns an error when the connection is in
 * a state that cannot be trusted (then the pool drops it).
 */
async function forgetPrepared(client: PoolClient, name: string): Promise<Error | undefined> {
  const connection = (
    client as unknown as {
      connection?: { parsedStatements?: Record<string, string>; submittedNamedStatements?: Record<string, string> };
    }
  ).connection;
  delete connection?.parsedStatements?.[name];
  delete connection?.submittedNamedStatements?.[name];
  try {
    const existing = await client.query('SELECT 1 FROM pg_prepared_statements WHERE name = $1', [name]);
    if (existing.rowCount) await client.query(`DEALLOCATE "${name.replace(/"/g, '""')}"`);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function poolErrorHandler(error: Error & { code?: string }): void {
  logger.warn(`database pool error: ${error.code ? `${error.code} ` : ''}${error.message}`);
}

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
    options = {
      ...common,
      url: config.databaseUrl,
      poolSize: config.dbPoolSize,
      applicationName: 'tokentally',
      connectTimeoutMS: DB_CONNECT_TIMEOUT_MS,
      poolErrorHandler,
      extra: { Client: ListenedClient, keepAlive: true },
    };
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
      extra: { idleTimeoutMillis: 0, Client: ListenedClient },
      poolErrorHandler,
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
