/** How figures read on every panel: one money rule (libs/core displayUsd), counts with separators, times in the chosen
 * zone. */
import { displayUsd } from '@tokentally/core';
import { plural } from '../../words';

export { displayUsd as money };
export { plural };

export const count = (n: number | string | null | undefined): string => Number(n ?? 0).toLocaleString('en-US');

/** A count and its noun, singular for 1: "1 call", "6 calls", "1,290 images". */
export const counted = (n: number | string | null | undefined, noun: string, nouns = `${noun}s`): string =>
  `${count(n)} ${plural(Number(n ?? 0), noun, nouns)}`;

export const percent = (share: number, digits = 1): string => `${(share * 100).toFixed(digits)}%`;

export function ago(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const minutes = Math.round((Date.now() - Date.parse(iso)) / 60000);
  if (minutes < 1) return 'just now';
  if (minutes < 90) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} days ago`;
}

export function dateTime(iso: string, tz: string): string {
  return new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: tz }).format(
    new Date(iso),
  );
}

export const words = (text: string): string => text.replace(/_/g, ' ');
