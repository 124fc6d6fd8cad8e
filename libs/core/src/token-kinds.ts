/** The six disjoint token kinds; each token of a call is billed in exactly one. */
export const TOKEN_KINDS = [
  'input_text',
  'cached_input_text',
  'input_image',
  'cached_input_image',
  'output_image',
  'output_text',
] as const;

export type TokenKind = (typeof TOKEN_KINDS)[number];

/** Token counts per kind; integers, validated at the edge (0 to 10^9). */
export type TokenUsage = Record<TokenKind, number>;

export const EMPTY_USAGE: Readonly<TokenUsage> = Object.freeze({
  input_text: 0,
  cached_input_text: 0,
  input_image: 0,
  cached_input_image: 0,
  output_image: 0,
  output_text: 0,
});

export function isInputKind(kind: TokenKind): boolean {
  return kind !== 'output_image' && kind !== 'output_text';
}

/** The uncached kind a cached kind falls back to. */
export const UNCACHED_KIND: Partial<Record<TokenKind, TokenKind>> = {
  cached_input_text: 'input_text',
  cached_input_image: 'input_image',
};
