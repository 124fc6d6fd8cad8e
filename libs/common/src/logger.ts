const REDACTED = '[REDACTED]';

/** Header and field names whose value is a credential, wherever they appear in a logged object. */
const SECRET_FIELDS =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|secret|sig|signature|password)$/i;

const PATTERNS: Array<[RegExp, string]> = [
  // "Authorization: Bearer tt_..." in a header dump, "authorization":"..." in JSON text.
  [/(\b(?:proxy-)?authorization\b["']?\s*[:=]\s*["']?)[^"'\r\n,;}]+/gi, `$1${REDACTED}`],
  // A bearer credential anywhere else.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  // TokenTally API keys (tt_ and at least 20 characters).
  [/\btt_[A-Za-z0-9_-]{20,}/g, `tt_${REDACTED}`],
  // Standard Webhooks signing secrets.
  [/\bwhsec_[A-Za-z0-9+/=_-]+/g, `whsec_${REDACTED}`],
  // The signature of a shared chart link (?...&sig=...), plain or URL-encoded.
  [/([?&;]sig=)[^&\s"'#]+/gi, `$1${REDACTED}`],
  [/(%26sig%3D)[^%&\s"'#]+/gi, `$1${REDACTED}`],
];

/**
 * Removes credentials from text bound for a log line: API keys (`tt_...`),
 * webhook secrets (`whsec_...`), the `sig` of shared chart links and
 * Authorization headers. Every log line of the api and the worker goes
 * through this (see createLogger in app-logger.ts).
 */
export function redactSecrets(text: string): string {
  if (typeof text !== 'string') return text;
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** redactSecrets over any value a logger may receive: strings, errors, objects and arrays. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    const copy = new Error(redactSecrets(value.message));
    copy.name = value.name;
    copy.stack = value.stack === undefined ? undefined : redactSecrets(value.stack);
    return copy;
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      SECRET_FIELDS.test(key) && (typeof item === 'string' || Array.isArray(item))
        ? REDACTED
        : redactValue(item, depth + 1);
  }
  return out;
}
