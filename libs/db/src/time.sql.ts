/** SQL fragments about time that several features' statements share. */

/**
 * A timestamptz column as text to the microsecond, in UTC (`2026-11-30T10:00:00.123456Z`): for cursors and
 * times that must survive the trip through JavaScript, whose Date keeps milliseconds only.
 */
export const isoMicroseconds = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Newest-first keyset condition on (created_at, id) of `alias`, after a cursor given by the parameters `at`
 * (timestamptz; NULL: the first page) and `id` (uuid; NULL: a cursor of a time only, compared by time alone).
 * Rows written in one transaction share created_at; the id orders them.
 */
export const newestFirstAfter = (alias: string, at: string, id: string) =>
  `(${at}::timestamptz IS NULL OR (${id}::uuid IS NULL AND ${alias}.created_at < ${at}) OR (${alias}.created_at, ${alias}.id) < (${at}, ${id}))`;
