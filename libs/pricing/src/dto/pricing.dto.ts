import { z } from 'zod';
import { field } from '@tokentally/common';
import { Decimal, normalizeModelName, normalizeProviderSlug, PRICE_UNITS, PriceSheet } from '@tokentally/core';

/** Money travels as decimal strings: a JSON number would pass through a float. */
const decimalString = z
  .string({ error: 'must be a decimal string such as "8.00"' })
  .regex(/^\d{1,9}(\.\d{1,12})?$/, 'must be a non-negative decimal string such as "8.00"');

// `<quality>/<size>`, either part `*` for any: hd/1024x1024, low/1024x1536, or a star on either side.
const imagePriceKey = z
  .string()
  .regex(/^(\*|[a-z0-9_-]{1,20})\/(\*|\d{1,5}x\d{1,5}|auto)$/, 'must be <quality>/<size> such as hd/1024x1024, */1024x1536 or low/*');

const pricesSchema = z
  .object({
    ...(Object.fromEntries(PRICE_UNITS.map((unit) => [unit, decimalString.optional()])) as Record<(typeof PRICE_UNITS)[number], z.ZodOptional<typeof decimalString>>),
    image_prices: z
      .record(imagePriceKey, decimalString, { error: 'must be an object of per-image prices by <quality>/<size>' })
      .refine((prices) => Object.keys(prices).length <= 200, 'must have at most 200 entries')
      .optional(),
  })
  .strict()
  .refine((prices) => Object.entries(prices).some(([unit, v]) => (unit === 'image_prices' ? Object.keys(v ?? {}).length > 0 : v !== undefined)), 'must give at least one price');

export const overrideSchema = z
  .object({
    provider: field.string(100).transform(normalizeProviderSlug),
    model: field.string(200).transform(normalizeModelName).optional(),
    prices: pricesSchema.optional(),
    discount_pct: decimalString
      .refine((v) => Decimal.parse(v).compare(Decimal.ZERO) > 0 && Decimal.parse(v).compare(Decimal.parse('100')) < 0, 'must be more than 0 and less than 100')
      .optional(),
    effective_from: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time' }).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.discount_pct !== undefined) {
      if (value.prices) ctx.addIssue({ code: 'custom', path: ['prices'], message: 'give either prices (with a model) or discount_pct (for the whole provider), not both' });
      if (value.model) ctx.addIssue({ code: 'custom', path: ['model'], message: 'a discount applies to every model of the provider; leave model out' });
    } else {
      if (!value.model) ctx.addIssue({ code: 'custom', path: ['model'], message: 'is required with prices' });
      if (!value.prices) ctx.addIssue({ code: 'custom', path: ['prices'], message: 'is required (or give discount_pct)' });
    }
  });
export type OverrideDto = z.output<typeof overrideSchema> & { prices?: PriceSheet };

export const historyQuerySchema = z
  .object({
    provider: z.string().min(1).max(100).transform(normalizeProviderSlug).optional(),
    model: z.string().min(1).max(200).transform(normalizeModelName).optional(),
  })
  .strict();

export const pendingQuerySchema = z.object({ status: z.enum(['pending', 'approved', 'rejected', 'superseded'], { error: 'must be pending, approved, rejected or superseded' }).optional() }).strict();
