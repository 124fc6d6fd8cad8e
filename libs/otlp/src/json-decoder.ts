import {
  OtlpAttributes,
  OtlpDecodeError,
  OtlpResourceSpans,
  OtlpSpan,
  OtlpTraceRequest,
  OtlpValue,
  STATUS_CODE_ERROR,
} from './otlp-model';

/**
 * Reads an ExportTraceServiceRequest in the OTLP/JSON encoding (the proto3
 * JSON mapping with OTLP's deviations, opentelemetry-proto
 * docs/specification.md "JSON Protobuf Encoding"): lowerCamelCase keys only,
 * unknown keys ignored, `traceId`/`spanId` as case-insensitive hex (not
 * base64), enums as integers, int64 as a decimal string or a number.
 *
 * The body arrives parsed (Fastify's JSON parser). A body of the wrong shape
 * (`resourceSpans` not a list, a span that is not an object) throws
 * OtlpDecodeError; a span whose own fields cannot be read (an id that is not
 * hex of the right length, a time that is not a whole number) is kept with
 * its problems, so the rest of the request is still read. Nested attribute
 * values are not entered.
 */
export function decodeTraceRequestJson(body: unknown): OtlpTraceRequest {
  // An empty body is an empty request (OTLP: "an empty request ... SHOULD respond with success").
  if (body === undefined) return { resourceSpans: [] };
  const root = objectAt(body, '(body)');
  return {
    resourceSpans: listAt(root.resourceSpans, 'resourceSpans').map((item, i) =>
      decodeResourceSpans(item, `resourceSpans[${i}]`),
    ),
  };
}

type Json = Record<string, unknown>;

function objectAt(value: unknown, path: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new OtlpDecodeError('must be an object', path);
  return value as Json;
}

/** A repeated field: absent or null is empty. */
function listAt(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError('must be a list', path);
  return value;
}

/** A message field: absent or null is the empty message. */
function optionalObjectAt(value: unknown, path: string): Json {
  return value === undefined || value === null ? {} : objectAt(value, path);
}

function decodeResourceSpans(value: unknown, path: string): OtlpResourceSpans {
  const item = objectAt(value, path);
  const resource = optionalObjectAt(item.resource, `${path}.resource`);
  const spans: OtlpSpan[] = [];
  listAt(item.scopeSpans, `${path}.scopeSpans`).forEach((scopeValue, i) => {
    const scopePath = `${path}.scopeSpans[${i}]`;
    const scope = objectAt(scopeValue, scopePath);
    listAt(scope.spans, `${scopePath}.spans`).forEach((span, j) =>
      spans.push(decodeSpan(span, `${scopePath}.spans[${j}]`)),
    );
  });
  return { resource: decodeAttributes(resource.attributes, `${path}.resource.attributes`), spans };
}

function decodeSpan(value: unknown, path: string): OtlpSpan {
  const item = objectAt(value, path);
  const problems: string[] = [];
  const status = optionalObjectAt(item.status, `${path}.status`);
  return {
    traceId: hexId(item.traceId, 16, 'traceId', problems),
    spanId: hexId(item.spanId, 8, 'spanId', problems),
    name: typeof item.name === 'string' ? item.name : '',
    startTimeUnixNano: unixNano(item.startTimeUnixNano, 'startTimeUnixNano', problems),
    endTimeUnixNano: unixNano(item.endTimeUnixNano, 'endTimeUnixNano', problems),
    statusCode: statusCodeOf(status.code),
    attributes: decodeAttributes(item.attributes, `${path}.attributes`),
    problems,
  };
}

const HEX_DIGITS = /^[0-9a-fA-F]*$/;

/** A trace or span id: hex of exactly `bytes` bytes, lower-cased; '' with a problem otherwise. */
function hexId(value: unknown, bytes: number, name: string, problems: string[]): string {
  if (typeof value === 'string' && value.length === bytes * 2 && HEX_DIGITS.test(value)) return value.toLowerCase();
  const got = typeof value === 'string' ? `"${value.slice(0, 40)}${value.length > 40 ? '...' : ''}"` : typeof value;
  problems.push(
    `${name} must be ${bytes * 2} hex digits (${bytes} bytes; OTLP/JSON ids are hex, not base64), not ${got}`,
  );
  return '';
}

const UINT64_MAX = (1n << 64n) - 1n;

/** fixed64 nanoseconds: a decimal string (exact) or a JSON number (a double: exact to about 256 ns today). */
function unixNano(value: unknown, name: string, problems: string[]): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) {
    const nanos = BigInt(value);
    if (nanos <= UINT64_MAX) return nanos;
  } else if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 2 ** 64) {
    return BigInt(value);
  }
  problems.push(`${name} must be a whole number of nanoseconds (a decimal string or a number)`);
  return 0n;
}

/** Status.code as an integer (OTLP/JSON); the enum's name is read too, as lenient receivers do. */
function statusCodeOf(value: unknown): number {
  if (value === STATUS_CODE_ERROR || value === 'STATUS_CODE_ERROR') return STATUS_CODE_ERROR;
  return typeof value === 'number' && Number.isInteger(value) ? value : 0;
}

function decodeAttributes(value: unknown, path: string): OtlpAttributes {
  const attributes: OtlpAttributes = new Map();
  listAt(value, path).forEach((entry, i) => {
    const item = objectAt(entry, `${path}[${i}]`);
    const key = typeof item.key === 'string' ? item.key : '';
    attributes.set(key, anyValue(optionalObjectAt(item.value, `${path}[${i}].value`)));
  });
  return attributes;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** An AnyValue's scalar; arrays, key-value lists and bytes are `other` (not entered). */
function anyValue(value: Json): OtlpValue {
  if (typeof value.stringValue === 'string') return { kind: 'string', value: value.stringValue };
  if (typeof value.boolValue === 'boolean') return { kind: 'bool', value: value.boolValue };
  if ('intValue' in value) return intValue(value.intValue);
  if ('doubleValue' in value) {
    const double = value.doubleValue;
    if (typeof double === 'number') return { kind: 'double', value: double };
    // proto3 JSON writes the special doubles as strings.
    if (double === 'NaN' || double === 'Infinity' || double === '-Infinity')
      return { kind: 'double', value: Number(double) };
    return { kind: 'invalid', problem: 'doubleValue must be a number' };
  }
  return { kind: 'other' };
}

function intValue(value: unknown): OtlpValue {
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) {
    const int = BigInt(value);
    if (int >= INT64_MIN && int <= INT64_MAX) return { kind: 'int', value: int };
    return { kind: 'invalid', problem: 'intValue is outside the int64 range' };
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    // JSON.parse has already rounded a number beyond 2^53: the value sent is not known exactly.
    if (Number.isSafeInteger(value)) return { kind: 'int', value: BigInt(value) };
    return {
      kind: 'invalid',
      problem: 'intValue is beyond 2^53 as a JSON number and was rounded; send int64 values as decimal strings',
    };
  }
  return { kind: 'invalid', problem: 'intValue must be a whole number or a decimal string' };
}
