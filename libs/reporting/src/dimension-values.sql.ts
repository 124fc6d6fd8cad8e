import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '@tokentally/common';
import { queryRows } from '@tokentally/db';
import { Dimension, ReportQuery } from './dto/report-query.dto';
import { BuiltQuery, COLUMN, source, whereOf } from './reports.sql';

/**
 * A typed prefix as a LIKE pattern that matches it literally: `\`, `%` and
 * `_` are escaped (the statements say ESCAPE '\'), then `%` is appended. So
 * `50%` finds `50%-off` and not `500`, and `a_b` does not find `axb`.
 */
export function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
}

/** What a suggestion lists: a dimension's values, the tag keys, or one tag's values. */
export type SuggestionTarget =
  { kind: 'dimension'; dimension: Dimension } | { kind: 'tag_keys' } | { kind: 'tag_values'; key: string };

/**
 * Values present in the range, most spent first, from the hourly rollups
 * only (never usage_events): the main rollup for project, provider, model,
 * team, feature and environment, the user rollup for user, the tag rollup
 * for tags (its (tag_key, bucket) index serves one key's values). The range
 * is read by bucket (the rollups' primary keys start with it), the prefix
 * filters the rows of the range, and at most `limit + 1` values come back
 * (one more than asked, to tell the caller there are more).
 * Empty values ('' = not given at ingest) are no filter value: left out.
 */
export function suggestionSql(target: SuggestionTarget, q: ReportQuery, prefix: string, limit: number): BuiltQuery {
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  let table: string;
  let column: string;
  let where: string;
  if (target.kind === 'tag_keys') {
    // One rollup row per tag of an event: a tag filter would keep only its own key's rows, and the
    // tag rollup has no user. Neither narrows a list of keys correctly, so both are refused.
    const refused = [
      ...(q.tag ? [{ path: `tag:${q.tag.key}`, message: 'cannot narrow the list of tag keys' }] : []),
      ...(q.filters.user
        ? [{ path: 'user', message: 'cannot narrow the list of tag keys (the tag rollup has no user)' }]
        : []),
    ];
    if (refused.length) throw DomainError.validation(refused);
    table = 'usage_rollup_tag_live';
    column = 'tag_key';
    where = whereOf({ ...q, groupBy: 'none' }, params);
  } else if (target.kind === 'tag_values') {
    if (q.tag && q.tag.key !== target.key)
      throw DomainError.validation([{ path: `tag:${q.tag.key}`, message: 'can filter on the tag it lists only' }]);
    if (q.filters.user)
      throw DomainError.validation([
        { path: 'user', message: "cannot narrow a tag's values (the tag rollup has no user)" },
      ]);
    const scoped: ReportQuery = { ...q, groupBy: `tag:${target.key}` };
    table = source(scoped).table;
    column = 'tag_value';
    where = whereOf(scoped, params);
  } else {
    const scoped: ReportQuery = { ...q, groupBy: target.dimension };
    table = source(scoped).table; // the user rollup for user; refuses user with team, feature, environment
    column = COLUMN[target.dimension];
    where = whereOf(scoped, params);
  }
  const clauses = [where, `${column} <> ''`];
  if (prefix !== '') {
    const pattern = p(likePrefix(prefix));
    if (target.kind === 'dimension' && target.dimension === 'project') {
      // Projects are matched by name (or the start of their id); the few projects are looked up first.
      clauses.push(
        `project_id IN (SELECT id FROM projects WHERE name ILIKE ${pattern} ESCAPE '\\' OR id::text ILIKE ${pattern} ESCAPE '\\')`,
      );
    } else {
      clauses.push(`${column} ILIKE ${pattern} ESCAPE '\\'`);
    }
  }
  const sql = `
    SELECT ${column} AS value, sum(cost_usd)::text AS cost, sum(events)::bigint AS events
    FROM ${table}
    WHERE ${clauses.join(' AND ')}
    GROUP BY 1
    ORDER BY sum(cost_usd) DESC, sum(events) DESC, 1
    LIMIT ${p(limit + 1)}`;
  return { sql, params };
}

/** A row of suggestionSql: a value, its spend (numeric as text) and its events (bigint as text). */
export interface SuggestionRow {
  value: string;
  cost: string;
  events: string;
}

/** Filter suggestions: suggestionSql with typed rows. */
@Injectable()
export class DimensionValuesRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** At most `limit + 1` values (one more than asked: there are more). */
  suggestions(target: SuggestionTarget, q: ReportQuery, prefix: string, limit: number): Promise<SuggestionRow[]> {
    const { sql, params } = suggestionSql(target, q, prefix, limit);
    return queryRows<SuggestionRow>(this.db, sql, params);
  }
}
