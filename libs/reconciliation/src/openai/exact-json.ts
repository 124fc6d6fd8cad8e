/**
 * A JSON parser that keeps every number as the text it was written with.
 *
 * OpenAI's Costs API sends money as a JSON number (`"amount": {"value":
 * 0.1234567890123}`). `JSON.parse` would turn it into a binary float first
 * (0.1 + 0.2 is not 0.3 there, and 17 significant digits are all it keeps),
 * so no amount from the bill ever goes through `JSON.parse` or a JS `number`:
 * this parser hands back an {@link ExactNumber} holding the literal (`1e-7`,
 * `-0.05`, `12.500`), which callers turn into a Decimal.
 *
 * Not the pricing sources' parseExactJson (libs/pricing/src/sources/source.ts),
 * which quotes numbers and hands them back as strings: the Costs schema says
 * `value` is a number, and a string there is refused, so the two must stay
 * apart here; the price files, for their part, are read leniently on purpose.
 *
 * Strict RFC 8259: no comments, no trailing commas, no NaN, no leading `+`
 * or zeros, no lone surrogates in `\u` escapes checked (they are kept as
 * JavaScript does). Nesting depth is bounded, so a hostile answer cannot blow
 * the stack.
 */

/** A JSON number as written: `literal` matches the JSON number grammar. */
export class ExactNumber {
  constructor(readonly literal: string) {}

  /** True when written without fraction or exponent (`42`, `-7`). */
  get isIntegerLiteral(): boolean {
    return /^-?\d+$/.test(this.literal);
  }

  toJSON(): string {
    return this.literal;
  }
}

export type ExactJson = null | boolean | string | ExactNumber | ExactJson[] | { [key: string]: ExactJson };

export class ExactJsonError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at character ${position}`);
    this.name = 'ExactJsonError';
  }
}

const MAX_DEPTH = 64;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Parses JSON text; numbers come back as {@link ExactNumber}. Throws {@link ExactJsonError} on anything else. */
export function parseExactJson(text: string): ExactJson {
  let i = 0;

  const fail = (message: string, at = i): never => {
    throw new ExactJsonError(message, at);
  };
  const skipSpace = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };

  const parseString = (): string => {
    // text[i] is the opening quote.
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in a string');
      if (c === 0x5c) {
        out += text.slice(start, i);
        const e = text[i + 1];
        if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else if (e !== undefined && e in ESCAPES) {
          out += ESCAPES[e];
          i += 2;
        } else {
          fail('bad escape in a string');
        }
        start = i;
        continue;
      }
      i++;
    }
  };

  const parseValue = (depth: number): ExactJson => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    skipSpace();
    const c = text[i];
    if (c === '{') {
      i++;
      const object: { [key: string]: ExactJson } = {};
      skipSpace();
      if (text[i] === '}') {
        i++;
        return object;
      }
      for (;;) {
        skipSpace();
        if (text[i] !== '"') fail('expected a property name');
        const key = parseString();
        skipSpace();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        const value = parseValue(depth + 1);
        // A repeated key: the last one wins, as JSON.parse does. `__proto__` is set as an own property.
        Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
        skipSpace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return object;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const array: ExactJson[] = [];
      skipSpace();
      if (text[i] === ']') {
        i++;
        return array;
      }
      for (;;) {
        array.push(parseValue(depth + 1));
        skipSpace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return array;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUMBER.lastIndex = i;
    const match = NUMBER.exec(text);
    if (match && match[0].length > 0) {
      i += match[0].length;
      // `01`, `1.`, `-` and `1e` leave a digit, point or letter behind: not a number.
      if (/[0-9.eE+-]/.test(text[i] ?? '')) fail('malformed number');
      return new ExactNumber(match[0]);
    }
    return fail(i >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[i])}`);
  };

  const value = parseValue(0);
  skipSpace();
  if (i < text.length) fail('unexpected text after the JSON value');
  return value;
}
