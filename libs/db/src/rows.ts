/**
 * The rows of a `DataSource.query` answer. With `pg`, TypeORM answers an
 * UPDATE or DELETE ... RETURNING as `[rows, affectedCount]` and a SELECT or
 * INSERT as the rows: this takes either.
 */
export function rowsOf<T = Record<string, any>>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}
