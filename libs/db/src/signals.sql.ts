/**
 * Statements of the signals that cross processes (docs/budgets.md, "Api and
 * worker apart"). NOTIFY reaches the sessions that LISTEN on the same
 * database, so two databases on one server never hear each other.
 */

/** The channel of `usage.ingested`: an api process that does not evaluate budgets tells the ones that do. */
export const USAGE_CHANNEL = 'tokentally_usage_ingested';

export const SIGNALS_SQL = {
  /** On the listener's own connection; a channel name cannot be a parameter. */
  listen: `LISTEN ${USAGE_CHANNEL}`,
  /** From the pool, after the events committed: delivered to every listener at once (autocommit). */
  notify: `SELECT pg_notify('${USAGE_CHANNEL}', $1)`,
  /** Proves the listener's connection still answers (a dead peer may never say it went away). */
  ping: `SELECT 1`,
} as const;
