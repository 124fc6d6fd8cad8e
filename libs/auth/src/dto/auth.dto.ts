import { z } from 'zod';
import { field } from '@tokentally/common';
import { ROLES } from '../roles';

export const createProjectSchema = z.object({ name: field.string(100) });
export type CreateProjectDto = z.output<typeof createProjectSchema>;

/** At most this many projects in one viewer key's scope. */
export const MAX_KEY_PROJECTS = 100;

export const createKeySchema = z
  .object({
    name: field.string(100),
    role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
    project_id: field.uuid().nullish(),
    // A viewer key limited to these projects; left out (or null), it reads every project.
    project_ids: z
      .array(field.uuid(), { error: 'must be a list of project ids (UUIDs)' })
      .min(1, 'must name at least one project (leave it out for a key that reads every project)')
      .max(MAX_KEY_PROJECTS, `must name at most ${MAX_KEY_PROJECTS} projects`)
      .nullish(),
  })
  .superRefine((value, ctx) => {
    if (value.role === 'ingest' && !value.project_id) {
      ctx.addIssue({ code: 'custom', path: ['project_id'], message: 'is required for an ingest key' });
    }
    // project_id used to be accepted and ignored on viewer and admin keys: refused, so nobody believes such a key
    // limited.
    if (value.role !== 'ingest' && value.project_id) {
      ctx.addIssue({
        code: 'custom',
        path: ['project_id'],
        message: 'is for ingest keys only (limit a viewer key with project_ids)',
      });
    }
    if (value.project_ids && value.role !== 'viewer') {
      const message =
        value.role === 'admin'
          ? 'cannot limit an admin key (admin keys read and manage every project)'
          : 'is for viewer keys only (an ingest key has its one project_id)';
      ctx.addIssue({ code: 'custom', path: ['project_ids'], message });
    }
  });
export type CreateKeyDto = z.output<typeof createKeySchema>;
