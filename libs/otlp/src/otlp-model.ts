/**
 * An OTLP ExportTraceServiceRequest as this lib reads it, whether it came as
 * protobuf (protobuf-decoder.ts) or JSON (json-decoder.ts): only the fields
 * that make a usage event. Everything else of the request (scopes, events,
 * links, trace state, nested attribute values) is skipped while decoding.
 */

/**
 * One attribute value. Arrays, key-value lists and bytes are never read as a
 * field of an event, so their contents are not decoded (`other`): a deeply
 * nested value costs nothing and cannot exhaust the stack.
 */
export type OtlpValue =
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  /** int64, exact: protobuf varints and JSON decimal strings are read as bigint. */
  | { kind: 'int'; value: bigint }
  | { kind: 'double'; value: number }
  | { kind: 'other' }
  /** A value that was sent but cannot be read exactly (a JSON intValue beyond 2^53): refused where it is used. */
  | { kind: 'invalid'; problem: string };

export type OtlpAttributes = Map<string, OtlpValue>;

/** OTLP Status.code: STATUS_CODE_ERROR. */
export const STATUS_CODE_ERROR = 2;

export interface OtlpSpan {
  /** Lower-case hex, 32 digits when valid (16 bytes). */
  traceId: string;
  /** Lower-case hex, 16 digits when valid (8 bytes). */
  spanId: string;
  name: string;
  /** Nanoseconds since the Unix epoch (fixed64); 0 when absent. */
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** Status.code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  attributes: OtlpAttributes;
  /** Why the span's own fields cannot be read (an id of the wrong length, a time that is no number). */
  problems: string[];
}

export interface OtlpResourceSpans {
  resource: OtlpAttributes;
  spans: OtlpSpan[];
}

export interface OtlpTraceRequest {
  resourceSpans: OtlpResourceSpans[];
}

/**
 * The request cannot be decoded at all (a length past the end, a truncated
 * varint, a body that is not an ExportTraceServiceRequest): answered 400,
 * naming where the decoder stopped. The only error the decoders throw.
 */
export class OtlpDecodeError extends Error {
  constructor(
    message: string,
    /** Where in the request, as `resource_spans[0].scope_spans[1].spans[2]`, or `(body)`. */
    readonly path: string,
  ) {
    super(message);
    this.name = 'OtlpDecodeError';
  }
}

/** The number of spans in a decoded request. */
export function spanCount(request: OtlpTraceRequest): number {
  let count = 0;
  for (const resourceSpans of request.resourceSpans) count += resourceSpans.spans.length;
  return count;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of `bytes[start, end)`. */
export function hexOf(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = '';
  for (let i = start; i < end; i++) out += HEX[bytes[i]];
  return out;
}
