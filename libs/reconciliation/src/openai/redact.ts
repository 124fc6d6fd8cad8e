/** OpenAI secret keys as they may appear in text (`sk-...`, `sk-admin-...`, `sk-proj-...`), masked or not. */
const SECRET_KEY = /sk-[A-Za-z0-9_*-]{8,}/g;

/**
 * `text` with the admin key, any part of it of 8 or more characters, and anything shaped like an OpenAI secret
 * key replaced by `[redacted]`: upstream answers (an error message, a redirect's Location) may quote the key they
 * were sent, and what is left of them is logged, stored and shown to viewers.
 */
export function redactKey(text: string, key: string): string {
  let out = text.replace(SECRET_KEY, '[redacted]').split(key).join('[redacted]');
  // Pieces of the key (a message may quote its end, or cut it): every 8-character window of it.
  for (let i = 0; i + 8 <= key.length && out.length > 0; i++) {
    const piece = key.slice(i, i + 8);
    if (out.includes(piece)) out = out.split(piece).join('[redacted]');
  }
  return out;
}
