import { z } from 'zod';
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

/** Field builders whose messages read well in an error list. */
export const field = {
  string: (max = 200) =>
    z
      .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
      .min(1, 'must not be empty')
      .max(max, `must be at most ${max} characters`)
      .refine(hasNoNul, NUL_MESSAGE),
  /** Optional text; null and absent mean the same. */
  optionalString: (max = 200) =>
    z
      .string({ error: 'must be a string' })
      .max(max, `must be at most ${max} characters`)
      .refine(hasNoNul, NUL_MESSAGE)
      .nullish(),
  uuid: () =>
    z.uuid({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a UUID') }),
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
      const problem = value < min ? `must be at least ${min}` : value > max ? `must be at most ${max}` : !Number.isInteger(value) ? 'must be a whole number' : null;
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      return value;
    });
}
