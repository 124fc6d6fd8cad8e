import { z } from 'zod';
import { decimalStringParam, field, isTimeZone, storableText } from '@tokentally/common';
import { Decimal, DIMENSIONS_WITHOUT_USER, normalizeModelName, normalizeProviderSlug } from '@tokentally/core';

const scopeText = storableText(
  z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
);

/** The fields of a budget, without defaults (shared by create and update). */
const fields = {
  name: field.string(100),
  // "1,5", "0x10" and "1e3" fail the pattern, and the amount is parsed only once it matched (was a 500).
  amount_usd: decimalStringParam(/^\d{1,12}(\.\d{1,6})?$/, 'must be a positive decimal string such as "1000.00"', {
    test: (v) => !Decimal.parse(v).isZero(),
    message: 'must be more than 0',
  }),
  period: z.enum(['day', 'week', 'month', 'quarter'], { error: 'must be day, week, month or quarter' }),
  timezone: z
    .string({ error: 'must be an IANA time zone such as Europe/Berlin' })
    .max(100, 'must be an IANA time zone such as Europe/Berlin')
    .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
  scope: z
    .object({
      provider: scopeText.transform(normalizeProviderSlug).optional(),
      model: scopeText.transform(normalizeModelName).optional(),
      project: z.uuid('must be a project id (UUID)').optional(),
      team: scopeText.optional(),
      user: scopeText.optional(),
      feature: scopeText.optional(),
      environment: scopeText.optional(),
      tags: z
        .record(
          storableText(
            z.string().min(1, 'tag names must not be empty').max(64, 'tag names must be at most 64 characters'),
          ),
          storableText(z.string({ error: 'must be a string' }).max(200, 'must be at most 200 characters')),
          { error: 'must be an object of string values' },
        )
        .refine((t) => Object.keys(t).length <= 1, 'one tag at most')
        .optional(),
    })
    .strict()
    // Spend per user is kept with provider, model and project only (docs/reports.md).
    .superRefine((scope, ctx) => {
      if (scope.user === undefined) return;
      for (const key of [...DIMENSIONS_WITHOUT_USER, 'tags'] as const) {
        if (scope[key] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'cannot be combined with user (a user budget can add provider, model and project)',
          });
      }
    }),
  thresholds_pct: z
    .array(
      z
        .number({ error: 'must be a number' })
        .int('must be a whole number')
        .min(1, 'must be from 1 to 1000')
        .max(1000, 'must be from 1 to 1000'),
    )
    .min(1, 'must have at least one threshold')
    .max(20),
  forecast_alert: z.boolean({ error: 'must be true or false' }),
  webhook_ids: z.array(z.uuid('must be webhook ids (UUIDs)')).max(20),
};

export const createBudgetSchema = z
  .object({
    ...fields,
    timezone: fields.timezone.default('UTC'),
    scope: fields.scope.default({}),
    thresholds_pct: fields.thresholds_pct.default([50, 80, 100]),
    forecast_alert: fields.forecast_alert.default(true),
    webhook_ids: fields.webhook_ids.default([]),
  })
  .strict();
export type CreateBudgetDto = z.output<typeof createBudgetSchema>;

/** PATCH: any of the fields; what is left out stays as it is. */
export const updateBudgetSchema = z
  .object(
    Object.fromEntries(Object.entries(fields).map(([key, schema]) => [key, schema.optional()])) as {
      [K in keyof typeof fields]: z.ZodOptional<(typeof fields)[K]>;
    },
  )
  .strict();
export type UpdateBudgetDto = z.output<typeof updateBudgetSchema>;
