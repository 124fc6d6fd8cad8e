import { ApiOperationSpec, idParams } from '@tokentally/common';
import { createKeySchema, createProjectSchema } from './dto/auth.dto';

/** The OpenAPI descriptions of AuthController's routes (docs/api.md); request shapes are the DTO schemas. */

const PROJECT = {
  id: '3f0c6f1e-8a52-4c3b-9d4e-2b7a1c5e9d01',
  name: 'web-shop',
  created_at: '2026-11-02T09:30:00.000Z',
};
const KEY_ID = '9c2d7e4a-1b3f-4c5d-8e6f-7a8b9c0d1e2f';

export const AUTH_API = {
  me: {
    summary: 'The calling key',
    description: 'Its role and the projects it may read (`project_ids` null: every project), with their names.',
    responses: {
      200: {
        description: 'The key.',
        example: {
          key_id: KEY_ID,
          name: 'finance dashboard',
          prefix: 'tt_r-3SOq',
          role: 'viewer',
          project_ids: [PROJECT.id],
          projects: [{ id: PROJECT.id, name: PROJECT.name }],
        },
      },
    },
  },
  createProject: {
    summary: 'Create a project',
    body: createProjectSchema,
    requestExample: { body: { name: 'web-shop' } },
    responses: {
      201: { description: 'The project.', example: PROJECT },
      409: { description: 'A project of this name exists.' },
    },
  },
  listProjects: {
    summary: 'List projects',
    responses: { 200: { description: 'Every project.', example: { data: [PROJECT] } } },
  },
  createKey: {
    summary: 'Create an API key',
    description:
      'The key itself (`key`) is in this answer only; it is stored hashed. `project_id` is required for an ingest key; `project_ids` limits a viewer key to those projects.',
    body: createKeySchema,
    requestExample: { body: { name: 'finance dashboard', role: 'viewer', project_ids: [PROJECT.id] } },
    responses: {
      201: {
        description: 'The key, shown once.',
        example: {
          id: KEY_ID,
          name: 'finance dashboard',
          role: 'viewer',
          project_id: null,
          project_ids: [PROJECT.id],
          prefix: 'tt_r-3SOq',
          created_at: '2026-11-29T16:07:33.686Z',
          revoked_at: null,
          key: 'tt_r-3SOqpH5aYA5ip8wMKtAIi1e0-03N5n',
        },
      },
    },
  },
  listKeys: {
    summary: 'List API keys',
    description: 'Every key with its prefix; never the key itself.',
    responses: {
      200: {
        description: 'Every key, revoked ones included.',
        example: {
          data: [
            {
              id: KEY_ID,
              name: 'finance dashboard',
              role: 'viewer',
              project_id: null,
              project_ids: [PROJECT.id],
              prefix: 'tt_r-3SOq',
              created_at: '2026-11-29T16:07:33.686Z',
              revoked_at: null,
            },
          ],
        },
      },
    },
  },
  revokeKey: {
    summary: 'Revoke an API key',
    description: 'At once. The last active admin key cannot be revoked (409).',
    params: idParams,
    requestExample: { params: { id: KEY_ID } },
    responses: {
      204: { description: 'Revoked.' },
      409: { description: 'This is the last active admin key.' },
    },
  },
} satisfies Record<string, ApiOperationSpec>;
