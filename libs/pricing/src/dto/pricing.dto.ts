import { z } from 'zod';
import { decimalStringParam, field, storableText } from '@tokentally/common';
import {
  dateOrDateTimeProblem,
  Decimal,
  imagePriceKey,
  normalizeModelName,
  normalizeProviderSlug,
  PRICE_UNITS,
  PriceSheet,
} from '@tokentally/core';

/**
 * An RFC 3339 date-time with an offset that PostgreSQL takes: real calendar
 * dates, years 0001 to 9999, offsets within ±15:59 (libs/core's check).
 */
const dateTime = z.string({ error: 'must be an RFC 3339 date-time' }).superRefine((value, ctx) => {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value))
    ctx.addIssue({
      code: 'custom',
      message: 'must be an RFC 3339 date-time with an offset such as 2026-11-01T00:00:00Z',
    });
  else {
    const problem = dateOrDateTimeProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }
});

/** Money travels as decimal strings: a JSON number would pass through a float. */
const DECIMAL = /^\d{1,9}(\.\d{1,12})?$/;
const DECIMAL_MESSAGE =
  'must be a non-negative decimal string such as "8.00", with at most 9 digits before the point and 12 after';
const decimalString = decimalStringParam(DECIMAL, DECIMAL_MESSAGE);

/**
 * `<quality>/<size>`, either part `*` for any: hd/1024x1024, low/1024x1536, or
 * a star on either side. Written in any case and with the size spellings
 * ingest takes (`HIGH/1024X1024`, `hd/1024-x-1024`), stored as the key ingest
 * looks up (libs/core's imagePriceKey: `high/1024x1024`).
 */
const IMAGE_PRICE_KEY = /^\s*(\*|[a-z0-9_-]{1,20})\s*\/\s*(\*|auto|(\d{1,5})\s*-?\s*x\s*-?\s*(\d{1,5}))\s*$/i;
const IMAGE_PRICE_KEY_MESSAGE = 'must be <quality>/<size> such as hd/1024x1024, */1024x1536 or low/*';

/** The key ingest looks up for a written key, or why it is none. */
function normalizedImagePriceKey(key: string): { key: string } | { problem: string } {
  const match = IMAGE_PRICE_KEY.exec(key);
  if (!match) return { problem: IMAGE_PRICE_KEY_MESSAGE };
  const [, quality, size, width, height] = match;
  if (width !== undefined && (Number(width) === 0 || Number(height) === 0))
    return { problem: 'the size must have a width and a height above 0' };
  return { key: imagePriceKey(quality === '*' ? null : quality, size === '*' ? null : size) };
}

const imagePrices = z
  .record(storableText(z.string()), decimalString, {
    error: 'must be an object of per-image prices by <quality>/<size>',
  })
  .refine((prices) => Object.keys(prices).length <= 200, 'must have at most 200 entries')
  .transform((prices, ctx) => {
    const normalized: Record<string, string> = {};
    const writtenAs = new Map<string, string>();
    for (const [key, price] of Object.entries(prices)) {
      const checked = normalizedImagePriceKey(key);
      if ('problem' in checked) {
        ctx.addIssue({ code: 'custom', path: [key], message: checked.problem });
        continue;
      }
      const stored = checked.key;
      const earlier = writtenAs.get(stored);
      if (earlier !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `is the same price key as "${earlier}" (both are ${stored}); give it once`,
        });
        continue;
      }
      writtenAs.set(stored, key);
      normalized[stored] = price;
    }
    return normalized;
  });

const pricesSchema = z
  .object({
    ...(Object.fromEntries(PRICE_UNITS.map((unit) => [unit, decimalString.optional()])) as Record<
      (typeof PRICE_UNITS)[number],
      z.ZodOptional<typeof decimalString>
    >),
    image_prices: imagePrices.optional(),
  })
  .strict()
  .refine(
    (prices) =>
      Object.entries(prices).some(([unit, v]) =>
        unit === 'image_prices' ? Object.keys(v ?? {}).length > 0 : v !== undefined,
      ),
    'must give at least one price',
  );

export const overrideSchema = z
  .object({
    provider: field.string(100).transform(normalizeProviderSlug),
    model: field.string(200).transform(normalizeModelName).optional(),
    prices: pricesSchema.optional(),
    // "1,5" fails the pattern and is never parsed (was a 500).
    discount_pct: decimalStringParam(DECIMAL, DECIMAL_MESSAGE, {
      test: (v) => Decimal.parse(v).compare(Decimal.ZERO) > 0 && Decimal.parse(v).compare(Decimal.parse('100')) < 0,
      message: 'must be more than 0 and less than 100',
    }).optional(),
    effective_from: dateTime.optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.discount_pct !== undefined) {
      if (value.prices)
        ctx.addIssue({
          code: 'custom',
          path: ['prices'],
          message: 'give either prices (with a model) or discount_pct (for the whole provider), not both',
        });
      if (value.model)
        ctx.addIssue({
          code: 'custom',
          path: ['model'],
          message: 'a discount applies to every model of the provider; leave model out',
        });
    } else {
      if (!value.model) ctx.addIssue({ code: 'custom', path: ['model'], message: 'is required with prices' });
      if (!value.prices)
        ctx.addIssue({ code: 'custom', path: ['prices'], message: 'is required (or give discount_pct)' });
    }
  });
export type OverrideDto = z.output<typeof overrideSchema> & { prices?: PriceSheet };

export const historyQuerySchema = z
  .object({
    provider: storableText(z.string().min(1).max(100)).transform(normalizeProviderSlug).optional(),
    model: storableText(z.string().min(1).max(200)).transform(normalizeModelName).optional(),
  })
  .strict();

export const pendingQuerySchema = z
  .object({
    status: z
      .enum(['pending', 'approved', 'rejected', 'superseded'], {
        error: 'must be pending, approved, rejected or superseded',
      })
      .optional(),
  })
  .strict();
