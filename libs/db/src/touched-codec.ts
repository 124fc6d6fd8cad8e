import { DIMENSIONS } from '@tokentally/core';
import { TouchedScope } from './event-bus';

/** What `usage.ingested` says was touched: these scopes, or possibly anything (a signal may have been missed). */
export type Touched = TouchedScope[] | 'everything';

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more (default build). */
export const NOTIFY_PAYLOAD_LIMIT = 8000;
/** The payload meaning "anything may have been touched": evaluate every budget. */
export const EVERYTHING_PAYLOAD = '*';
/** Each distinct scope costs at least 16 bytes ("0,0,0,0,0,0,0,0,"): more than this cannot fit. */
export const MAX_ENCODED_SCOPES = Math.floor(NOTIFY_PAYLOAD_LIMIT / 16);

/** A scope is one index per dimension and one for its tags. */
const WIDTH = DIMENSIONS.length + 1;

/**
 * The touched scopes as a NOTIFY payload, compactly: each distinct value once
 * per dimension (`d`, the tags last, as objects), and each distinct scope as
 * indexes into them (`s`, flat, 8 per scope). Pure ASCII (anything else is
 * \u-escaped), so its length is its size in bytes in any server encoding.
 * When it would not fit, the payload means "everything".
 */
export function encodeTouched(touched: Touched): string {
  if (touched === 'everything') return EVERYTHING_PAYLOAD;
  const values: Array<Array<string | Record<string, string>>> = Array.from({ length: WIDTH }, () => []);
  const positions = Array.from({ length: WIDTH }, () => new Map<string, number>());
  const indexOf = (column: number, key: string, value: string | Record<string, string>) => {
    let index = positions[column].get(key);
    if (index === undefined) {
      index = values[column].push(value) - 1;
      positions[column].set(key, index);
    }
    return index;
  };
  const seen = new Set<string>();
  const scopes: number[] = [];
  for (const scope of touched) {
    const tags = sortedTags(scope.tags);
    const row = [
      ...DIMENSIONS.map((d, i) => indexOf(i, scope[d], scope[d])),
      indexOf(WIDTH - 1, JSON.stringify(tags), tags),
    ];
    const key = row.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    scopes.push(...row);
  }
  const payload = JSON.stringify({ v: 1, d: values, s: scopes }).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return payload.length < NOTIFY_PAYLOAD_LIMIT ? payload : EVERYTHING_PAYLOAD;
}

/**
 * The scopes of a payload. Anything it cannot read in full (another
 * version's format, a bare `NOTIFY tokentally_usage_ingested` typed by an
 * operator) means "everything": an extra pass costs a few queries, a missed
 * alert costs a minute.
 */
export function decodeTouched(payload: string | undefined): Touched {
  if (!payload || payload === EVERYTHING_PAYLOAD) return 'everything';
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return 'everything';
  }
  if (!isRecord(parsed) || parsed.v !== 1 || !Array.isArray(parsed.d) || !Array.isArray(parsed.s)) return 'everything';
  const { d, s } = parsed as { d: unknown[]; s: unknown[] };
  if (d.length !== WIDTH || !d.every(Array.isArray) || s.length % WIDTH !== 0) return 'everything';
  const columns = d as unknown[][];
  if (!columns.slice(0, -1).every((column) => column.every((value) => typeof value === 'string'))) return 'everything';
  if (!columns[WIDTH - 1].every((tags) => isRecord(tags) && Object.values(tags).every((v) => typeof v === 'string')))
    return 'everything';
  const valid = (index: unknown, column: number) =>
    Number.isInteger(index) && (index as number) >= 0 && (index as number) < columns[column].length;
  if (!s.every((index, i) => valid(index, i % WIDTH))) return 'everything';
  const scopes: TouchedScope[] = [];
  for (let at = 0; at < s.length; at += WIDTH) {
    const row = s.slice(at, at + WIDTH) as number[];
    const scope = Object.fromEntries(DIMENSIONS.map((dimension, i) => [dimension, columns[i][row[i]]]));
    scopes.push({
      ...scope,
      tags: { ...(columns[WIDTH - 1][row[WIDTH - 1]] as Record<string, string>) },
    } as TouchedScope);
  }
  return scopes;
}

/** One key per distinct scope, for coalescing before encoding. */
export function scopeKey(scope: TouchedScope): string {
  return JSON.stringify([...DIMENSIONS.map((d) => scope[d]), sortedTags(scope.tags)]);
}

function sortedTags(tags: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
