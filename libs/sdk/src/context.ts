import { AsyncLocalStorage } from 'node:async_hooks';
import { Dimensions } from './types';

/** Per-call attribution: dimensions and tags for the calls made inside `run`. */
export interface Attribution extends Dimensions {
  tags?: Record<string, string>;
}

const storage = new AsyncLocalStorage<Attribution>();

export const tokentally = {
  /**
   * Attributes every tracked call made inside `fn` (and what it awaits) to
   * these dimensions, without changing call sites. Nested runs merge.
   */
  run<T>(attribution: Attribution, fn: () => T): T {
    const outer = storage.getStore();
    const merged: Attribution = outer
      ? { ...outer, ...attribution, tags: { ...outer.tags, ...attribution.tags } }
      : attribution;
    return storage.run(merged, fn);
  },
  /** The attribution in effect here, if any. */
  current(): Attribution | undefined {
    return storage.getStore();
  },
};

const HEADER_PREFIX = 'x-tokentally-';
const HEADER_DIMENSIONS: Record<string, keyof Dimensions> = {
  'x-tokentally-team': 'team',
  'x-tokentally-user': 'user',
  'x-tokentally-feature': 'feature',
  'x-tokentally-environment': 'environment',
};

/**
 * Reads `X-TokenTally-User` / `-Team` / `-Feature` / `-Environment` and
 * `X-TokenTally-Tags: key=value,key2=value2` from request headers, and returns
 * the headers without them (they must not reach the provider).
 */
export function takeAttributionHeaders(headers: ConstructorParameters<typeof Headers>[0] | undefined): {
  attribution: Attribution | null;
  headers: Headers | null;
} {
  if (!headers || !mentionsTokenTally(headers)) return { attribution: null, headers: null };
  const all = new Headers(headers);
  let found = false;
  const attribution: Attribution = {};
  for (const [name, value] of all) {
    if (!name.startsWith(HEADER_PREFIX)) continue;
    found = true;
    const dimension = HEADER_DIMENSIONS[name];
    if (dimension) attribution[dimension] = value;
    else if (name === 'x-tokentally-tags') {
      attribution.tags = {};
      for (const pair of value.split(',')) {
        const eq = pair.indexOf('=');
        if (eq > 0)
          attribution.tags[percentDecoded(pair.slice(0, eq).trim())] = percentDecoded(pair.slice(eq + 1).trim());
      }
    }
  }
  if (!found) return { attribution: null, headers: null };
  for (const name of [...all.keys()]) if (name.startsWith(HEADER_PREFIX)) all.delete(name);
  return { attribution, headers: all };
}

/** A cheap look before copying the headers: most requests carry none of ours. */
function mentionsTokenTally(headers: ConstructorParameters<typeof Headers>[0]): boolean {
  const names: Iterable<string> =
    headers instanceof Headers
      ? headers.keys()
      : Array.isArray(headers)
        ? headers.map(([name]) => name)
        : Object.keys(headers as Record<string, string>);
  for (const name of names) if (name.toLowerCase().startsWith(HEADER_PREFIX)) return true;
  return false;
}

/** `%`-escapes decoded; a malformed one (`%E0%A4%A`, `%ZZ`) leaves the text as written rather than losing the call. */
export function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
