import { z } from 'zod';
import { field } from '@tokentally/common';
import { ROLES } from '../roles';

export const createProjectSchema = z.object({ name: field.string(100) });
export type CreateProjectDto = z.output<typeof createProjectSchema>;

export const createKeySchema = z
  .object({
    name: field.string(100),
    role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
    project_id: field.uuid().nullish(),
  })
  .superRefine((value, ctx) => {
    if (value.role === 'ingest' && !value.project_id) {
      ctx.addIssue({ code: 'custom', path: ['project_id'], message: 'is required for an ingest key' });
    }
  });
export type CreateKeyDto = z.output<typeof createKeySchema>;
