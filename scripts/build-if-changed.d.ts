// Types of scripts/build-if-changed.js, for the tests that import it.

export const ENTRY_POINTS: readonly string[];
export const STAMP_FILE: string;

/** Path (relative, with /) -> SHA-256 of the content, sorted by path. */
export function hashInputs(root: string): Map<string, string>;
export function digestOf(inputs: Map<string, string>): string;
export function decide(root: string, inputs?: Map<string, string>): { build: boolean; reason: string; hash: string };
export function writeStamp(root: string, inputs: Map<string, string>): void;
export function buildIfChanged(
  root?: string,
  options?: { runBuild?: (root: string) => number; log?: (line: string) => void },
): number;
