/**
 * Image answers are 1-3 MB of JSON that is almost all base64 (`b64_json`,
 * `result`, `partial_image_b64`); the fields usage is read from are a few
 * hundred bytes around it. The openai client parses the body for the caller;
 * parsing it a second time for the middleware would cost milliseconds and a
 * copy of every image per call. Skimming drops the long strings first.
 */

/** What a long string literal becomes: still a non-empty string, so "has a result" stays true. */
export const LONG_STRING = '"…"';
/** String literals longer than this (characters of text, bytes of UTF-8) are skimmed away. */
export const LONG_STRING_LIMIT = 1024;

/**
 * The JSON text with every string literal longer than `limit` characters
 * replaced by `replacement`. The text is scanned with indexOf from quote to
 * quote (escaped quotes respected), never copied whole; what is left parses
 * in microseconds. Text that is not well-formed comes back unchanged, for
 * JSON.parse to judge.
 */
export function withoutLongStrings(text: string, limit = LONG_STRING_LIMIT, replacement = LONG_STRING): string {
  const pieces: string[] = [];
  let copied = 0;
  let open = text.indexOf('"');
  while (open >= 0) {
    let close = open;
    for (;;) {
      close = text.indexOf('"', close + 1);
      if (close < 0) return text;
      let backslashes = 0;
      while (text.charCodeAt(close - 1 - backslashes) === 92 /* backslash */) backslashes++;
      if (backslashes % 2 === 0) break;
    }
    if (close - open - 1 > limit) {
      pieces.push(text.slice(copied, open), replacement);
      copied = close + 1;
    }
    open = text.indexOf('"', close + 1);
  }
  if (pieces.length === 0) return text;
  pieces.push(text.slice(copied));
  return pieces.join('');
}

/** JSON.parse of the text without its long strings. */
export function parseSkimmed(text: string): unknown {
  return JSON.parse(withoutLongStrings(text));
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LONG_STRING_BYTES = new TextEncoder().encode(LONG_STRING);
const QUOTE_BYTES = Uint8Array.of(QUOTE);
const utf8 = new TextDecoder();
const nativeIndexOf = Buffer.prototype.indexOf as (this: Uint8Array, value: number, byteOffset: number) => number;

/**
 * The first `byte` in `bytes[from, to)`, or -1. Node's Buffer indexOf (memchr) works on any
 * Uint8Array without copying; a JavaScript loop over a 2 MB image is some forty times slower.
 */
export function indexOfByte(bytes: Uint8Array, byte: number, from: number, to = bytes.length): number {
  if (from >= to) return -1;
  const found = nativeIndexOf.call(bytes, byte, from);
  return found >= 0 && found < to ? found : -1;
}

/** Bytes appended in pieces, copied into one growing array (the pieces belong to the caller). */
export class ByteBuilder {
  private bytes = new Uint8Array(256);
  length = 0;

  append(source: Uint8Array, from = 0, to = source.length): void {
    const n = to - from;
    if (n <= 0) return;
    if (this.length + n > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(source.subarray(from, to), this.length);
    this.length += n;
  }

  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  text(): string {
    return utf8.decode(this.view());
  }

  clear(): void {
    this.length = 0;
  }
}

/**
 * withoutLongStrings for bytes that arrive in pieces (a body stream, an
 * ArrayBuffer, the data of a server-sent event): each piece is searched for
 * quotes with memchr and nothing else is looked at; what is kept (the
 * structure and the short strings, a few hundred bytes for an image answer)
 * is copied, and decoded once at the end. A quote or a backslash never occurs
 * inside a multi-byte UTF-8 character, so the bytes can be cut anywhere.
 */
export class JsonSkimmer {
  private readonly kept = new ByteBuilder();
  /** The bytes of the string being read, while it is short enough to keep. */
  private readonly current = new ByteBuilder();
  private inString = false;
  private stringLength = 0;
  /** Backslashes at the end of the current string so far: an odd count escapes a quote that follows. */
  private backslashes = 0;

  constructor(private readonly limit = LONG_STRING_LIMIT) {}

  push(bytes: Uint8Array, from = 0, to = bytes.length): void {
    let at = from;
    while (at < to) {
      if (!this.inString) {
        const open = indexOfByte(bytes, QUOTE, at, to);
        if (open < 0) {
          this.kept.append(bytes, at, to);
          return;
        }
        this.kept.append(bytes, at, open);
        this.inString = true;
        this.stringLength = 0;
        this.backslashes = 0;
        this.current.clear();
        at = open + 1;
        continue;
      }
      const close = this.closingQuote(bytes, at, to);
      if (close < 0) {
        this.addToString(bytes, at, to);
        return;
      }
      this.addToString(bytes, at, close);
      this.endString();
      at = close + 1;
    }
  }

  /** The JSON text without its long strings. */
  text(): string {
    if (this.inString) {
      // Unterminated: kept as it came, for JSON.parse to reject.
      this.kept.append(QUOTE_BYTES);
      this.kept.append(this.current.view());
      this.inString = false;
    }
    return this.kept.text();
  }

  private closingQuote(bytes: Uint8Array, at: number, to: number): number {
    let from = at;
    for (;;) {
      const quote = indexOfByte(bytes, QUOTE, from, to);
      if (quote < 0) return -1;
      let i = quote - 1;
      while (i >= at && bytes[i] === BACKSLASH) i--;
      let run = quote - 1 - i;
      if (i < at) run += this.backslashes; // the run goes back into an earlier piece of this string
      if (run % 2 === 0) return quote;
      from = quote + 1;
    }
  }

  private addToString(bytes: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    let i = to - 1;
    while (i >= from && bytes[i] === BACKSLASH) i--;
    this.backslashes = i < from ? this.backslashes + n : to - 1 - i;
    const wasLong = this.stringLength > this.limit;
    this.stringLength += n;
    if (wasLong) return;
    if (this.stringLength > this.limit) this.current.clear();
    else this.current.append(bytes, from, to);
  }

  private endString(): void {
    this.inString = false;
    if (this.stringLength > this.limit) {
      this.kept.append(LONG_STRING_BYTES);
      return;
    }
    this.kept.append(QUOTE_BYTES);
    this.kept.append(this.current.view());
    this.kept.append(QUOTE_BYTES);
  }
}
