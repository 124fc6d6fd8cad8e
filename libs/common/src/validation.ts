import { z } from 'zod';
import { dateOrDateTimeProblem } from '@tokentally/core';
import { DomainError, FieldError } from './errors';

/** `['events', 3, 'usage', 'x']` -> `events[3].usage.x` */
export function formatPath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(body)';
}

export function fieldErrorsOf(error: z.ZodError, prefix = ''): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        errors.push({ path: formatPath([...issue.path, key], prefix), message: 'is not a known field' });
      }
    } else if (issue.code === 'invalid_key') {
      // A record's key that fails its schema (an empty tag name, a NUL in one): say why, at the key.
      const inner = issue.issues.length > 0 ? issue.issues : [{ message: issue.message }];
      for (const cause of inner) errors.push({ path: formatPath(issue.path, prefix), message: cause.message });
    } else {
      errors.push({ path: formatPath(issue.path, prefix), message: issue.message });
    }
  }
  return errors;
}

/** Parses input with a schema, or throws a validation DomainError naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw DomainError.validation(fieldErrorsOf(result.error, prefix));
  return result.data;
}

/** PostgreSQL text cannot hold NUL; refusing it at the edge keeps it a 400, not a 500. */
export const hasNoNul = (value: string) => !value.includes('\u0000');
export const NUL_MESSAGE = 'must not contain NUL characters';

/**
 * True when `value` is well-formed Unicode: no lone UTF-16 surrogate (a
 * `\ud800` without its pair, which JSON can carry). Such a string reaches
 * PostgreSQL as U+FFFD, so two different ids would be stored as one.
 */
export const isWellFormedUnicode = (value: string) =>
  !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);
export const LONE_SURROGATE_MESSAGE = 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)';

/** Why `value` cannot be stored as PostgreSQL text (a NUL, a lone surrogate), or null when it can. */
export function textProblem(value: string): string | null {
  return !hasNoNul(value) ? NUL_MESSAGE : !isWellFormedUnicode(value) ? LONE_SURROGATE_MESSAGE : null;
}

/**
 * The one check every text field of a body or a query goes through: refuses
 * NUL characters and lone surrogates, each with its own message.
 */
export function storableText<S extends z.ZodString>(schema: S): S {
  return schema.refine(hasNoNul, NUL_MESSAGE).refine(isWellFormedUnicode, LONE_SURROGATE_MESSAGE) as S;
}

/**
 * A decimal string matching `pattern` (digits only: "1,5", "0x10", "1e3" and
 * " 1" are refused with `message`); `check` runs only on a string that
 * matched, so it can parse it safely.
 */
export function decimalStringParam(
  pattern: RegExp,
  message: string,
  check?: { test: (value: string) => boolean; message: string },
) {
  const base = z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : message) })
    .regex(pattern, { error: message, abort: true });
  return check ? base.refine((value) => pattern.test(value) && check.test(value), check.message) : base;
}

/** Field builders whose messages read well in an error list. */
export const field = {
  string: (max = 200) =>
    z
      .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
      .min(1, 'must not be empty')
      .max(max, `must be at most ${max} characters`)
      .refine(hasNoNul, NUL_MESSAGE)
      .refine(isWellFormedUnicode, LONE_SURROGATE_MESSAGE),
  /** Optional text; null and absent mean the same. */
  optionalString: (max = 200) =>
    z
      .string({ error: 'must be a string' })
      .max(max, `must be at most ${max} characters`)
      .refine(hasNoNul, NUL_MESSAGE)
      .refine(isWellFormedUnicode, LONE_SURROGATE_MESSAGE)
      .nullish(),
  /** Text that may be empty (a tag value, a filter), up to `max` characters, storable. */
  text: (max = 200) =>
    storableText(
      z
        .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
        .max(max, `must be at most ${max} characters`),
    ),
  uuid: () => z.uuid({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a UUID') }),
};

/** True for an IANA time zone this runtime knows (Europe/Berlin, UTC, ...). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * A whole-number query parameter from `min` to `max` (`fallback` when absent),
 * whose message says what is wrong: not a number, not whole, too small or too
 * large. (`z.coerce.number` would take "" for 0, "0x10" for 16 and say "must
 * be a number" of 0.)
 */
export function wholeNumberParam(min: number, max: number, fallback: number) {
  return z
    .string()
    .optional()
    .transform((text, ctx): number => {
      if (text === undefined) return fallback;
      const trimmed = text.trim();
      if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(trimmed)) {
        ctx.addIssue({ code: 'custom', message: `must be a number (a whole number from ${min} to ${max})` });
        return z.NEVER;
      }
      const value = Number(trimmed);
      const problem =
        value < min
          ? `must be at least ${min}`
          : value > max
            ? `must be at most ${max}`
            : !Number.isInteger(value)
              ? 'must be a whole number'
              : null;
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      return value;
    })
    .meta({ description: `A whole number from ${min} to ${max} (default ${fallback}).` });
}

/**
 * A query parameter that is an RFC 3339 date-time PostgreSQL takes (a real
 * date, an offset within +-15:59): year 0000 or +16:00 passed zod's own check
 * and were 500s.
 */
export function dateTimeParam() {
  return z
    .string({ error: 'must be given once' })
    .superRefine((value, ctx) => {
      const problem = /^\d{4}-\d{2}-\d{2}$/.test(value)
        ? 'must be an RFC 3339 date-time such as 2026-11-01T10:00:00Z'
        : dateOrDateTimeProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ description: 'An RFC 3339 date-time with an offset, such as 2026-11-01T10:00:00Z.' });
}
