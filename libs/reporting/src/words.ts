/**
 * Counted nouns, in the server's answers, the charts and the dashboard alike
 * (no imports: the dashboard's bundle takes this module as it is).
 */

/** `noun` when `n` is 1, its plural otherwise ("1 call", "0 calls", "3 calls"). */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return n === 1 ? noun : nouns;
}

/** A count with separators and its noun: "1 call", "1,290 images". */
export function counted(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${plural(n, noun, nouns)}`;
}
