import { ApiOperationSpec } from '@tokentally/common';

/** The OpenAPI descriptions of HealthController's routes (docs/api.md). */
export const HEALTH_API = {
  health: {
    summary: 'Liveness',
    description: '200 while the process runs, whatever the database does. Never rate-limited.',
    tag: 'operations',
    responses: { 200: { description: 'Alive.', example: { status: 'ok', database: 'postgres' } } },
  },
  ready: {
    summary: 'Readiness',
    description:
      '200 when the database answers and its schema is up to date; otherwise 503 with the reason and `Retry-After`. Never rate-limited.',
    tag: 'operations',
    responses: {
      200: {
        description: 'Ready to serve.',
        example: { status: 'ready', database: 'postgres', database_latency_ms: 7 },
      },
      503: {
        description: 'Not ready: the database is unreachable or migrations are pending.',
        contentType: 'application/json',
        example: { status: 'unavailable', database: 'postgres', reason: 'database unreachable' },
      },
    },
  },
} satisfies Record<string, ApiOperationSpec>;
