import { Decimal } from '@tokentally/core';
import { ExactJson, ExactNumber, parseExactJson } from './exact-json';

/**
 * The answers of OpenAI's organization Costs and Usage APIs, read from their
 * JSON text (schemas `UsageResponse`, `UsageTimeBucket`, `CostsResult`,
 * `UsageImagesResult` of OpenAI's published OpenAPI document; a copy is in
 * test/fixtures/real/openai-openapi-images.json). Money is read digit for
 * digit from the text into a Decimal (exact-json.ts); an answer that is not
 * such a page is refused with the path of what is wrong, never guessed at.
 */

/** One page: `{object: "page", data: [bucket], has_more, next_page}`. */
export interface AdminPage<R> {
  buckets: Array<{ startTime: number; endTime: number; results: R[] }>;
  hasMore: boolean;
  nextPage: string | null;
}

/** A `organization.costs.result`. */
export interface CostResult {
  amount: Decimal;
  /** Lower case, as OpenAI writes it (`usd`). */
  currency: string;
  lineItem: string | null;
  projectId: string | null;
  quantity: Decimal | null;
  quantityUnit: string | null;
}

/** A `organization.usage.images.result`. */
export interface ImagesUsageResult {
  images: bigint;
  requests: bigint;
  model: string | null;
  projectId: string | null;
}

export class AdminAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminAnswerError';
  }
}

/**
 * Exponents beyond this are refused: `1e999999999` is a valid JSON number
 * whose exact decimal would be a billion digits long. No bill needs more than
 * a few dozen.
 */
const MAX_EXPONENT = 60;
const MAX_LITERAL = 80;

type Obj = { [key: string]: ExactJson };

const bad = (path: string, what: string): never => {
  throw new AdminAnswerError(`${path} ${what}`);
};

function isObject(value: ExactJson | undefined): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof ExactNumber);
}

function object(value: ExactJson | undefined, path: string): Obj {
  return isObject(value) ? value : bad(path, 'must be an object');
}

function constant(record: Obj, key: string, expected: string, path: string): void {
  if (record[key] !== expected) bad(`${path}.${key}`, `must be "${expected}" (was ${describe(record[key])})`);
}

function array(value: ExactJson | undefined, path: string): ExactJson[] {
  return Array.isArray(value) ? value : bad(path, 'must be an array');
}

/** At most this many characters of a name from the answer (a line item, a project id, a model) are kept. */
const MAX_NAME = 300;

/**
 * A string of the answer, made storable: NUL and lone UTF-16 surrogates (valid JSON escapes that PostgreSQL's
 * text and jsonb refuse) become U+FFFD, and a name longer than MAX_NAME is cut. Names from the bill are shown,
 * never used as keys of our own data, so a replaced character loses nothing.
 */
function optionalString(value: ExactJson | undefined, path: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return bad(path, 'must be a string or null');
  // Cut first: a cut may split a surrogate pair, which the replacement then mends.
  return value
    .slice(0, MAX_NAME)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .split('\u0000')
    .join('\ufffd');
}

/** An exact decimal from a JSON number (never a string: the schema says number). */
export function decimalOf(value: ExactJson | undefined, path: string): Decimal {
  if (!(value instanceof ExactNumber)) return bad(path, `must be a number (was ${describe(value)})`);
  const literal = value.literal;
  const exponent = /[eE]([+-]?\d+)$/.exec(literal);
  if (literal.length > MAX_LITERAL || (exponent && Math.abs(Number(exponent[1])) > MAX_EXPONENT))
    bad(path, `is out of range (${literal.slice(0, 40)})`);
  return Decimal.parse(literal);
}

function wholeNumber(value: ExactJson | undefined, path: string): bigint {
  if (!(value instanceof ExactNumber) || !value.isIntegerLiteral || value.literal.length > 19)
    return bad(path, `must be a whole number (was ${describe(value)})`);
  return BigInt(value.literal);
}

function count(value: ExactJson | undefined, path: string): bigint {
  const n = wholeNumber(value, path);
  return n < 0n ? bad(path, `must not be negative (was ${n})`) : n;
}

/** A Unix time in seconds, as a JS number (safe: whole seconds of this era). */
function unixSeconds(value: ExactJson | undefined, path: string): number {
  const seconds = wholeNumber(value, path);
  if (seconds < 0n || seconds > 253_402_300_799n) bad(path, 'is not a time');
  return Number(seconds);
}

function describe(value: ExactJson | undefined): string {
  if (value === undefined) return 'missing';
  if (value instanceof ExactNumber) return value.literal;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value).slice(0, 40);
}

/** Reads a page of buckets whose results are read by `result`. */
export function parseAdminPage<R>(text: string, result: (value: ExactJson, path: string) => R): AdminPage<R> {
  let json: ExactJson;
  try {
    json = parseExactJson(text);
  } catch (error) {
    throw new AdminAnswerError(`the answer is not JSON (${(error as Error).message})`);
  }
  const page = object(json, '$');
  constant(page, 'object', 'page', '$');
  if (typeof page.has_more !== 'boolean') bad('$.has_more', 'must be true or false');
  const nextPage = optionalString(page.next_page, '$.next_page');
  const buckets = array(page.data, '$.data').map((entry, b) => {
    const path = `$.data[${b}]`;
    const bucket = object(entry, path);
    constant(bucket, 'object', 'bucket', path);
    const startTime = unixSeconds(bucket.start_time, `${path}.start_time`);
    const endTime = unixSeconds(bucket.end_time, `${path}.end_time`);
    // A bucket of bucket_width=1d is one UTC day: a longer or shorter one would be booked to its first day.
    if (endTime - startTime !== 86_400) bad(`${path}.end_time`, 'must be one day (86400 s) after start_time');
    const results = array(bucket.results, `${path}.results`).map((r, i) => result(r, `${path}.results[${i}]`));
    return { startTime, endTime, results };
  });
  return { buckets, hasMore: page.has_more as boolean, nextPage };
}

/** A `organization.costs.result`: `amount {value, currency}`, `line_item`, `project_id`, `quantity`, its unit. */
export function costResult(value: ExactJson, path: string): CostResult {
  const r = object(value, path);
  constant(r, 'object', 'organization.costs.result', path);
  const amount = object(r.amount, `${path}.amount`);
  const currency = optionalString(amount.currency, `${path}.amount.currency`);
  if (!currency) bad(`${path}.amount.currency`, 'is missing');
  const quantity = r.quantity === undefined || r.quantity === null ? null : decimalOf(r.quantity, `${path}.quantity`);
  return {
    amount: decimalOf(amount.value, `${path}.amount.value`),
    currency: currency!.trim().toLowerCase(),
    lineItem: optionalString(r.line_item, `${path}.line_item`),
    projectId: optionalString(r.project_id, `${path}.project_id`),
    quantity,
    quantityUnit: optionalString(r.quantity_unit, `${path}.quantity_unit`),
  };
}

/** A `organization.usage.images.result`: `images`, `num_model_requests`, `model`, `project_id`. */
export function imagesUsageResult(value: ExactJson, path: string): ImagesUsageResult {
  const r = object(value, path);
  constant(r, 'object', 'organization.usage.images.result', path);
  return {
    images: count(r.images, `${path}.images`),
    requests: count(r.num_model_requests, `${path}.num_model_requests`),
    model: optionalString(r.model, `${path}.model`),
    projectId: optionalString(r.project_id, `${path}.project_id`),
  };
}
