/**
 * Image answers are 1-3 MB of JSON that is almost all base64 (`b64_json`,
 * `result`, `partial_image_b64`); the fields usage is read from are a few
 * hundred bytes around it. The openai client parses the body for the caller;
 * parsing it a second time for the middleware would cost milliseconds and a
 * copy of every image per call. Skimming drops the long strings first.
 */

/** What a long string literal becomes: still a non-empty string, so "has a result" stays true. */
export const LONG_STRING = '"…"';

/**
 * The JSON text with every string literal longer than `limit` characters
 * replaced by `replacement`. The text is scanned with indexOf from quote to
 * quote (escaped quotes respected), never copied whole; what is left parses
 * in microseconds. Text that is not well-formed comes back unchanged, for
 * JSON.parse to judge.
 */
export function withoutLongStrings(text: string, limit = 1024, replacement = LONG_STRING): string {
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
