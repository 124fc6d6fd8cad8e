import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Client } from 'pg';
import { APP_CONFIG, AppConfig, isConnectionError } from '@tokentally/common';
import { Database, DatabaseKind } from './database';
import { EventBus, TouchedScope } from './event-bus';
import { SIGNALS_SQL, USAGE_CHANNEL } from './signals.sql';
import { decodeTouched, encodeTouched, MAX_ENCODED_SCOPES, scopeKey, Touched } from './touched-codec';

/** An api process gathers what its requests stored for this long, then sends one NOTIFY for all of it. */
export const NOTIFY_WINDOW_MS = 200;
/** After a NOTIFY failed (database away), what it carried waits this long, with what came since, and goes again. */
const NOTIFY_RETRY_MS = 1_000;
/** The listener reconnects after this long, doubling up to the maximum while the database stays away. */
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 10_000;
/**
 * The listening connection is pinged this often and dropped when an answer
 * takes longer than the timeout: a connection whose peer vanished without a
 * word (a network cut) would otherwise listen to nothing for ever.
 */
const PING_EVERY_MS = 30_000;
const PING_TIMEOUT_MS = 10_000;
/** How the listening session shows in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'tokentally-signals';

/** What this process does with `usage.ingested` beyond itself. */
export type RelayRole = 'publisher' | 'listener' | 'none';

/**
 * Carries `usage.ingested` between processes on PostgreSQL, so the quick
 * budget pass runs within seconds when api replicas (RUN_JOBS=false) and a
 * worker run apart (docs/budgets.md, "Api and worker apart").
 *
 * - A process that does not run the jobs is a **publisher**: it gathers the
 *   scopes its committed ingests touched for NOTIFY_WINDOW_MS and sends one
 *   `pg_notify` for the lot from the pool, off the request path. Requests
 *   never wait for it.
 * - A process that runs the jobs is a **listener**: it LISTENs on a
 *   connection of its own (not the pool) and re-emits each notification on
 *   its EventBus, where the BudgetEvaluator hears it as it hears its own
 *   ingests. After every (re)connect it emits "everything": signals sent
 *   while nobody listened are gone, but what they were about is stored, and
 *   a pass that starts after LISTEN is on sees all of it.
 * - The embedded database is one process: signals stay in-process.
 */
@Injectable()
export class UsageSignalRelay implements OnApplicationBootstrap {
  private readonly logger = new Logger('UsageSignals');
  private role: RelayRole = 'none';
  private stopped = false;
  // Publisher.
  private pending: Map<string, TouchedScope> | 'everything' = new Map();
  private flushTimer: NodeJS.Timeout | null = null;
  /** The NOTIFYs in flight, one after the other. */
  private flushing: Promise<void> = Promise.resolve();
  private failing = false;
  // Listener.
  private client: Client | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private failedAttempts = 0;
  private connectedBefore = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Database) private readonly database: Database,
    @Inject(EventBus) private readonly events: EventBus,
  ) {}

  static roleOf(runJobs: boolean, kind: DatabaseKind): RelayRole {
    if (kind !== 'postgres') return 'none';
    return runJobs ? 'listener' : 'publisher';
  }

  /**
   * After every module's onModuleInit, so the listeners of `usage.ingested`
   * (BudgetEvaluator subscribes in onModuleInit) are there before the first
   * "everything".
   */
  onApplicationBootstrap(): void {
    this.role = UsageSignalRelay.roleOf(this.config.runJobs, this.database.kind);
    if (this.role === 'publisher') this.events.on('usage.ingested', ({ touched }) => this.gather(touched));
    if (this.role === 'listener') void this.connect();
  }

  /**
   * Sends what is gathered and closes the listening connection. Called by
   * DbModule right before the database closes (requests have stopped by then).
   */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of [this.flushTimer, this.reconnectTimer, this.pingTimer]) if (timer) clearTimeout(timer);
    if (this.role === 'publisher') await this.enqueueFlush();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  // ---- Publisher -------------------------------------------------------------------------------------------------

  /** Cheap and synchronous: called by ingest for every stored batch. */
  private gather(touched: Touched): void {
    this.merge(touched);
    this.scheduleFlush(NOTIFY_WINDOW_MS);
  }

  private merge(touched: Touched): void {
    if (this.pending === 'everything') return;
    if (touched === 'everything') this.pending = 'everything';
    else {
      for (const scope of touched) this.pending.set(scopeKey(scope), scope);
      // More distinct scopes than a payload can hold: stop keeping them.
      if (this.pending.size > MAX_ENCODED_SCOPES) this.pending = 'everything';
    }
  }

  private scheduleFlush(ms: number): void {
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.enqueueFlush();
    }, ms);
    this.flushTimer.unref();
  }

  private enqueueFlush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flush());
    return this.flushing;
  }

  /** One NOTIFY for everything gathered; never throws. */
  private async flush(): Promise<void> {
    const touched = this.pending;
    if (touched !== 'everything' && touched.size === 0) return;
    this.pending = new Map();
    const payload = encodeTouched(touched === 'everything' ? touched : [...touched.values()]);
    try {
      await this.database.dataSource.query(SIGNALS_SQL.notify, [payload]);
      if (this.failing) this.logger.log('usage signals sent again');
      this.failing = false;
    } catch (error) {
      // Kept for the next try. A payload the server refused for itself (not for being away) goes as "everything".
      this.merge(isConnectionError(error) && touched !== 'everything' ? [...touched.values()] : 'everything');
      if (!this.failing)
        this.logger.warn(
          `could not send a usage signal (${(error as Error)?.message ?? error}); ` +
            `retrying every ${NOTIFY_RETRY_MS} ms, the minute evaluation covers it meanwhile`,
        );
      this.failing = true;
      this.scheduleFlush(NOTIFY_RETRY_MS);
    }
  }

  // ---- Listener --------------------------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    this.reconnectTimer = null;
    if (this.stopped) return;
    const client = new Client(this.database.dedicatedClientConfig(LISTENER_APPLICATION_NAME));
    this.client = client;
    // An `error` with no listener would kill the process; this one stays for the client's whole life.
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (message) => {
      if (this.client !== client || message.channel !== USAGE_CHANNEL) return;
      void this.events.signal('usage.ingested', { touched: decodeTouched(message.payload) });
    });
    try {
      await client.connect();
      await client.query(SIGNALS_SQL.listen);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.client !== client) return; // lost or stopped meanwhile
    this.failedAttempts = 0;
    this.logger.log(
      this.connectedBefore
        ? 'listening for usage signals again; evaluating every budget for what was stored meanwhile'
        : `listening for usage signals of other processes (LISTEN ${USAGE_CHANNEL})`,
    );
    this.connectedBefore = true;
    this.pingTimer = setInterval(() => void this.ping(client), PING_EVERY_MS);
    this.pingTimer.unref();
    // Whatever committed before LISTEN was on is seen by this pass; whatever commits after is notified.
    void this.events.signal('usage.ingested', { touched: 'everything' });
  }

  private async ping(client: Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.query(SIGNALS_SQL.ping),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer to a ping within ${PING_TIMEOUT_MS} ms`)),
            PING_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      this.lost(client, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The listening connection is gone (or never came): drop it and connect again, sooner first, then less often. */
  private lost(client: Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = null;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    const delay = Math.min(RECONNECT_FIRST_MS * 2 ** this.failedAttempts, RECONNECT_MAX_MS);
    this.failedAttempts++;
    const message = `usage signal connection lost: ${(error as Error)?.message ?? error}; reconnecting in ${delay} ms`;
    // One warning per outage, not one per attempt.
    if (this.failedAttempts === 1) this.logger.warn(message);
    else this.logger.debug(message);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }
}
