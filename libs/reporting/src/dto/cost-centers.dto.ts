import { z } from 'zod';
import { field, hasNoNul, NUL_MESSAGE, storableText } from '@tokentally/common';
import { MONTH_SHAPE_TEXT, parseLocalDate } from '@tokentally/core';
import { UUID } from './report-query.dto';

/** A real calendar date, YYYY-MM-DD (a UTC day). */
const day = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a date such as 2026-11-01') })
  .refine((v) => parseLocalDate(v) !== null, 'must be a date such as 2026-11-01');

/** Names the chargeback CSV gives its own rows: a cost center may not take them. */
const RESERVED_NAMES = ['total', '(unassigned)'];

export const createCostCenterSchema = z
  .object({
    name: field
      .string(100)
      .refine(
        (name) => !RESERVED_NAMES.includes(name.trim().toLowerCase()),
        'is a name the chargeback CSV gives its own rows (TOTAL, (unassigned))',
      ),
    code: field.optionalString(50),
  })
  .strict();

/**
 * What an assignment charges: a project, a team (in every project), or a team
 * within a project; from `valid_from` (a UTC day, inclusive) until `valid_to`
 * (exclusive; absent: no end).
 */
export const createAssignmentSchema = z
  .object({
    project_id: field.uuid().optional(),
    team: storableText(
      z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    ).optional(),
    valid_from: day,
    valid_to: day.optional(),
  })
  .strict()
  .refine((a) => a.project_id !== undefined || a.team !== undefined, {
    path: ['project_id'],
    message: 'name a project_id, a team, or both',
  })
  .refine((a) => a.valid_to === undefined || a.valid_to > a.valid_from, {
    path: ['valid_to'],
    message: 'must be after valid_from',
  });

export type CreateAssignment = z.infer<typeof createAssignmentSchema>;

/** PATCH of an assignment: its new end (a UTC day, exclusive), or null for no end. */
export const endAssignmentSchema = z.object({ valid_to: day.nullable() }).strict();

/** The message of a query parameter that is not one string: given twice (an array), or left out. */
const queryParamError = (whenMissing: string, otherwise: string) => (issue: { input?: unknown }) =>
  Array.isArray(issue.input) ? 'must be given once' : issue.input === undefined ? whenMissing : otherwise;

/** GET /v1/reports/chargeback.csv: a UTC month, the basis, and optionally some projects. */
export const chargebackQuerySchema = z
  .object({
    month: z
      .string({ error: queryParamError(`is required (${MONTH_SHAPE_TEXT})`, `must be ${MONTH_SHAPE_TEXT}`) })
      .refine(hasNoNul, NUL_MESSAGE)
      .meta({ example: '2026-11' }),
    basis: z.enum(['restated', 'ingested'], { error: queryParamError('', 'must be restated or ingested') }).optional(),
    project: z
      .string({ error: queryParamError('', 'must be project ids (UUIDs), separated by commas') })
      .transform((v) => v.split(',').map((p) => p.trim().toLowerCase()))
      .refine(
        (ids) => ids.length <= 100 && ids.every((id) => UUID.test(id)),
        'must be up to 100 project ids (UUIDs), separated by commas',
      )
      .optional(),
  })
  .strict();
