import type { EntityManager } from 'typeorm';

/** What runs a statement: the DataSource, or the EntityManager of a transaction. */
export type Queryable = Pick<EntityManager, 'query'>;

/**
 * The rows of a `DataSource.query` answer. With `pg`, TypeORM answers an
 * UPDATE or DELETE ... RETURNING as `[rows, affectedCount]` and a SELECT or
 * INSERT as the rows: this takes either.
 */
export function rowsOf<T = Record<string, unknown>>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}

/**
 * Runs a statement and answers its rows as `T` (a repository's row interface,
 * which says how `pg` returns each column: numeric and bigint as strings,
 * timestamptz as Date, jsonb parsed), whatever kind of statement it is.
 */
export async function queryRows<T>(db: Queryable, sql: string, params?: unknown[]): Promise<T[]> {
  return rowsOf<T>(await db.query(sql, params));
}
