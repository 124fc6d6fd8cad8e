import {
  hexOf,
  OtlpAttributes,
  OtlpDecodeError,
  OtlpResourceSpans,
  OtlpSpan,
  OtlpTraceRequest,
  OtlpValue,
} from './otlp-model';

/**
 * A decoder of the protobuf ExportTraceServiceRequest (opentelemetry-proto,
 * collector/trace/v1/trace_service.proto), reading only the fields a usage
 * event needs:
 *
 *   ExportTraceServiceRequest  1 resource_spans (repeated ResourceSpans)
 *   ResourceSpans              1 resource, 2 scope_spans (repeated)
 *   Resource                   1 attributes (repeated KeyValue)
 *   ScopeSpans                 2 spans (repeated Span)
 *   Span                       1 trace_id, 2 span_id (bytes), 5 name, 7 start_time_unix_nano,
 *                              8 end_time_unix_nano (fixed64), 9 attributes, 15 status
 *   Status                     3 code (enum)
 *   KeyValue                   1 key, 2 value (AnyValue)
 *   AnyValue                   1 string, 2 bool, 3 int (int64), 4 double; 5 array, 6 kvlist, 7 bytes not decoded
 *
 * Written for hostile input: every length and varint is checked against the
 * end of its message before it is used, unknown fields and wire types 0 to 5
 * are skipped (a known field sent with another wire type is treated as
 * unknown, as other protobuf decoders do), groups are skipped with a bounded
 * depth and without recursion, and nested attribute values are never
 * entered. Each step consumes at least one byte, so decoding is linear in
 * the size of the body. Anything it cannot read throws OtlpDecodeError and
 * nothing else.
 */

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const I32 = 5;

/** Groups are not used by OTLP; an unknown one is skipped, nested at most this deep. */
export const MAX_GROUP_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The decoding state: the whole body, a view of it, and where the next read starts. */
interface Cursor {
  buf: Uint8Array;
  view: DataView;
  pos: number;
}

function fail(message: string, path: string): never {
  throw new OtlpDecodeError(message, path);
}

/** A varint as a number (tags, lengths): at most 10 bytes, and at most 2^53 - 1. */
function readVarint(c: Cursor, end: number, path: string, what: string): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= end) fail(`${what}: the varint is cut off by the end of the message`, path);
    const byte = c.buf[c.pos++];
    result += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      if (result > Number.MAX_SAFE_INTEGER) fail(`${what}: the varint is too large`, path);
      return result;
    }
    scale *= 128;
  }
  fail(`${what}: the varint is longer than 10 bytes`, path);
}

function skipVarint(c: Cursor, end: number, path: string, what: string): void {
  for (let i = 0; i < 10; i++) {
    if (c.pos >= end) fail(`${what}: the varint is cut off by the end of the message`, path);
    if (c.buf[c.pos++] < 0x80) return;
  }
  fail(`${what}: the varint is longer than 10 bytes`, path);
}

/** A varint as the 64 bits it carries (int64, bool and enum values). */
function readVarint64(c: Cursor, end: number, path: string, what: string): bigint {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= end) fail(`${what}: the varint is cut off by the end of the message`, path);
    const byte = c.buf[c.pos++];
    result |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return BigInt.asUintN(64, result);
    shift += 7n;
  }
  fail(`${what}: the varint is longer than 10 bytes`, path);
}

function readFixed64(c: Cursor, end: number, path: string, what: string): bigint {
  if (end - c.pos < 8) fail(`${what}: 8 bytes expected, the message ends first`, path);
  const value = c.view.getBigUint64(c.pos, true);
  c.pos += 8;
  return value;
}

function readDouble(c: Cursor, end: number, path: string, what: string): number {
  if (end - c.pos < 8) fail(`${what}: 8 bytes expected, the message ends first`, path);
  const value = c.view.getFloat64(c.pos, true);
  c.pos += 8;
  return value;
}

/** A length-delimited field: its content's [start, end), checked to lie inside the message. */
function readLength(c: Cursor, end: number, path: string, what: string): [number, number] {
  const length = readVarint(c, end, path, `${what} length`);
  if (length > end - c.pos) fail(`${what}: the length (${length} bytes) runs past the end of the message`, path);
  const start = c.pos;
  c.pos += length;
  return [start, c.pos];
}

function readString(c: Cursor, end: number, path: string, what: string): string {
  const [start, stop] = readLength(c, end, path, what);
  try {
    return utf8.decode(c.buf.subarray(start, stop));
  } catch {
    fail(`${what}: not valid UTF-8`, path);
  }
}

/** A field's number and wire type. */
function readTag(c: Cursor, end: number, path: string): [field: number, wireType: number] {
  const tag = readVarint(c, end, path, 'field tag');
  const field = Math.floor(tag / 8);
  if (field === 0 || field > 0x1fffffff) fail(`field number ${field} is not valid`, path);
  return [field, tag % 8];
}

/** Skips one field of any wire type but END_GROUP; groups iteratively, at most MAX_GROUP_DEPTH deep. */
function skipField(c: Cursor, end: number, wireType: number, field: number, path: string): void {
  let depth = 0;
  for (;;) {
    switch (wireType) {
      case VARINT:
        skipVarint(c, end, path, `field ${field}`);
        break;
      case I64:
        if (end - c.pos < 8) fail(`field ${field}: 8 bytes expected, the message ends first`, path);
        c.pos += 8;
        break;
      case LEN:
        readLength(c, end, path, `field ${field}`);
        break;
      case I32:
        if (end - c.pos < 4) fail(`field ${field}: 4 bytes expected, the message ends first`, path);
        c.pos += 4;
        break;
      case START_GROUP:
        if (++depth > MAX_GROUP_DEPTH) fail(`groups nested more than ${MAX_GROUP_DEPTH} deep`, path);
        break;
      case END_GROUP:
        if (depth === 0) fail(`field ${field}: a group ends that was not started`, path);
        depth--;
        break;
      default:
        fail(`field ${field}: wire type ${wireType} does not exist`, path);
    }
    if (depth === 0) return;
    if (c.pos >= end) fail('a group is not closed before the end of the message', path);
    [field, wireType] = readTag(c, end, path);
  }
}

/** Decodes a protobuf ExportTraceServiceRequest; throws OtlpDecodeError when it cannot. */
export function decodeTraceRequestProtobuf(body: Uint8Array): OtlpTraceRequest {
  const c: Cursor = { buf: body, view: new DataView(body.buffer, body.byteOffset, body.byteLength), pos: 0 };
  const request: OtlpTraceRequest = { resourceSpans: [] };
  const end = body.length;
  while (c.pos < end) {
    const [field, wireType] = readTag(c, end, '(body)');
    if (field === 1 && wireType === LEN) {
      const path = `resource_spans[${request.resourceSpans.length}]`;
      const [start, stop] = readLength(c, end, path, 'resource_spans');
      request.resourceSpans.push(decodeResourceSpans(c, start, stop, path));
    } else skipField(c, end, wireType, field, '(body)');
  }
  return request;
}

function decodeResourceSpans(c: Cursor, start: number, end: number, path: string): OtlpResourceSpans {
  const out: OtlpResourceSpans = { resource: new Map(), spans: [] };
  let scopes = 0;
  c.pos = start;
  while (c.pos < end) {
    const [field, wireType] = readTag(c, end, path);
    if (field === 1 && wireType === LEN) {
      const [from, to] = readLength(c, end, path, 'resource');
      decodeResource(c, from, to, `${path}.resource`, out.resource);
    } else if (field === 2 && wireType === LEN) {
      const scopePath = `${path}.scope_spans[${scopes++}]`;
      const [from, to] = readLength(c, end, scopePath, 'scope_spans');
      decodeScopeSpans(c, from, to, scopePath, out.spans);
    } else skipField(c, end, wireType, field, path);
  }
  return out;
}

function decodeResource(c: Cursor, start: number, end: number, path: string, into: OtlpAttributes): void {
  let index = 0;
  c.pos = start;
  while (c.pos < end) {
    const [field, wireType] = readTag(c, end, path);
    if (field === 1 && wireType === LEN) {
      const attributePath = `${path}.attributes[${index++}]`;
      const [from, to] = readLength(c, end, attributePath, 'attributes');
      decodeKeyValue(c, from, to, attributePath, into);
    } else skipField(c, end, wireType, field, path);
  }
}

function decodeScopeSpans(c: Cursor, start: number, end: number, path: string, into: OtlpSpan[]): void {
  let index = 0;
  c.pos = start;
  while (c.pos < end) {
    const [field, wireType] = readTag(c, end, path);
    if (field === 2 && wireType === LEN) {
      const spanPath = `${path}.spans[${index++}]`;
      const [from, to] = readLength(c, end, spanPath, 'spans');
      into.push(decodeSpan(c, from, to, spanPath));
    } else skipField(c, end, wireType, field, path);
  }
}

function decodeSpan(c: Cursor, start: number, end: number, path: string): OtlpSpan {
  const span: OtlpSpan = {
    traceId: '',
    spanId: '',
    name: '',
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    statusCode: 0,
    attributes: new Map(),
    problems: [],
  };
  let traceIdLength = 0;
  let spanIdLength = 0;
  let attributes = 0;
  c.pos = start;
  while (c.pos < end) {
    const [field, wireType] = readTag(c, end, path);
    if (field === 1 && wireType === LEN) {
      const [from, to] = readLength(c, end, path, 'trace_id');
      traceIdLength = to - from;
      span.traceId = traceIdLength === 16 ? hexOf(c.buf, from, to) : '';
    } else if (field === 2 && wireType === LEN) {
      const [from, to] = readLength(c, end, path, 'span_id');
      spanIdLength = to - from;
      span.spanId = spanIdLength === 8 ? hexOf(c.buf, from, to) : '';
    } else if (field === 5 && wireType === LEN) {
      span.name = readString(c, end, path, 'name');
    } else if (field === 7 && wireType === I64) {
      span.startTimeUnixNano = readFixed64(c, end, path, 'start_time_unix_nano');
    } else if (field === 8 && wireType === I64) {
      span.endTimeUnixNano = readFixed64(c, end, path, 'end_time_unix_nano');
    } else if (field === 9 && wireType === LEN) {
      const attributePath = `${path}.attributes[${attributes++}]`;
      const [from, to] = readLength(c, end, attributePath, 'attributes');
      decodeKeyValue(c, from, to, attributePath, span.attributes);
    } else if (field === 15 && wireType === LEN) {
      const [from, to] = readLength(c, end, path, 'status');
      span.statusCode = decodeStatusCode(c, from, to, `${path}.status`);
    } else skipField(c, end, wireType, field, path);
  }
  if (traceIdLength !== 16) span.problems.push(`trace_id must be 16 bytes, not ${traceIdLength}`);
  if (spanIdLength !== 8) span.problems.push(`span_id must be 8 bytes, not ${spanIdLength}`);
  return span;
}

function decodeStatusCode(c: Cursor, start: number, end: number, path: string): number {
  let code = 0;
  c.pos = start;
  while (c.pos < end) {
    const [field, wireType] = readTag(c, end, path);
    if (field === 3 && wireType === VARINT) code = Number(BigInt.asIntN(32, readVarint64(c, end, path, 'code')));
    else skipField(c, end, wireType, field, path);
  }
  return code;
}

/** One attribute into `into`; a key given twice keeps its last value. */
function decodeKeyValue(c: Cursor, start: number, end: number, path: string, into: OtlpAttributes): void {
  let key = '';
  let value: OtlpValue = { kind: 'other' };
  c.pos = start;
  while (c.pos < end) {
    const [field, wireType] = readTag(c, end, path);
    if (field === 1 && wireType === LEN) key = readString(c, end, path, 'key');
    else if (field === 2 && wireType === LEN) {
      const [from, to] = readLength(c, end, path, 'value');
      value = decodeAnyValue(c, from, to, `${path}.value`);
    } else skipField(c, end, wireType, field, path);
  }
  into.set(key, value);
}

/** The scalar of an AnyValue; the last of its oneof fields wins, as in every protobuf decoder. */
function decodeAnyValue(c: Cursor, start: number, end: number, path: string): OtlpValue {
  let value: OtlpValue = { kind: 'other' };
  c.pos = start;
  while (c.pos < end) {
    const [field, wireType] = readTag(c, end, path);
    if (field === 1 && wireType === LEN) value = { kind: 'string', value: readString(c, end, path, 'string_value') };
    else if (field === 2 && wireType === VARINT)
      value = { kind: 'bool', value: readVarint64(c, end, path, 'bool_value') !== 0n };
    else if (field === 3 && wireType === VARINT)
      value = { kind: 'int', value: BigInt.asIntN(64, readVarint64(c, end, path, 'int_value')) };
    else if (field === 4 && wireType === I64)
      value = { kind: 'double', value: readDouble(c, end, path, 'double_value') };
    else if (field >= 5 && field <= 8) {
      // array_value, kvlist_value, bytes_value, string_value_strindex: never a field of an event, not entered.
      skipField(c, end, wireType, field, path);
      value = { kind: 'other' };
    } else skipField(c, end, wireType, field, path);
  }
  return value;
}

function varintBytes(value: number): number[] {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/**
 * An ExportTraceServiceResponse: empty for a full success, else
 * `partial_success { rejected_spans = 1 (int64), error_message = 2 }`.
 */
export function encodeTraceResponseProtobuf(partial: { rejectedSpans: number; errorMessage: string } | null): Buffer {
  if (!partial) return Buffer.alloc(0);
  const message = Buffer.from(partial.errorMessage, 'utf8');
  const inner = Buffer.from([
    ...(partial.rejectedSpans > 0 ? [0x08, ...varintBytes(partial.rejectedSpans)] : []),
    ...(message.length > 0 ? [0x12, ...varintBytes(message.length)] : []),
  ]);
  const body = Buffer.concat([inner, message.length > 0 ? message : Buffer.alloc(0)]);
  return Buffer.concat([Buffer.from([0x0a, ...varintBytes(body.length)]), body]);
}
