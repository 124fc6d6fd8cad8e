import { z } from 'zod';
import type { ApiOperationSpec, ApiResponseSpec } from '@tokentally/common';
import type { DiscoveredRoute } from './route-discovery';

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) or any other part of the document, as plain JSON. */
export type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  info: Json;
  tags: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, Json>>;
  components: Json;
  security: Array<Record<string, string[]>>;
}

export const OPENAPI_VERSION = '3.1.1';
export const SECURITY_SCHEME = 'apiKey';

/**
 * RFC 9457 problem+json as libs/common's ProblemFilter renders every error:
 * one component shared by every error answer.
 */
export const problemSchema = z
  .object({
    type: z.string().meta({ description: 'urn:tokentally:problem:<kind>' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().meta({ description: 'What went wrong, in a sentence a person can act on.' }),
    instance: z.string().optional().meta({ description: 'The path of the request.' }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .meta({ description: 'Every bad field, by its path in the request (`events[3].usage`, `project_id`).' }),
  })
  .loose();

const problem = (status: number, title: string, kind: string, detail: string, instance: string, errors = []) => ({
  type: `urn:tokentally:problem:${kind}`,
  title,
  status,
  detail,
  instance,
  errors,
});

/** The error answers most operations share, as the app gives them. */
export const COMMON_ERRORS: Record<number, { name: string; description: string; example: Json }> = {
  400: {
    name: 'BadRequest',
    description: 'A parameter or the body is invalid: `errors` names every bad field.',
    example: {
      ...problem(400, 'Bad Request', 'validation', 'The request has invalid fields.', '/v1/reports/spend'),
      errors: [{ path: 'granularity', message: 'must be one of hour, day, week, month' }],
    },
  },
  401: {
    name: 'Unauthorized',
    description: 'No API key, or an unknown or revoked one (with `WWW-Authenticate: Bearer`).',
    example: problem(
      401,
      'Unauthorized',
      'unauthenticated',
      'Send an API key as "Authorization: Bearer tt_...".',
      '/v1/reports/spend',
    ),
  },
  403: {
    name: 'Forbidden',
    description: "The key's role may not call this operation (or a key limited to projects names another project).",
    example: problem(
      403,
      'Forbidden',
      'forbidden',
      'This needs a key with the role admin or viewer; this key is ingest.',
      '/v1/reports/spend',
    ),
  },
  404: {
    name: 'NotFound',
    description: 'The resource the path names does not exist (or is outside the projects of the key).',
    example: problem(
      404,
      'Not Found',
      'not_found',
      'Budget was not found.',
      '/v1/budgets/7b0e5f37-0c55-4c1e-9c1f-1c0a7b9d2f10',
    ),
  },
};

const TAG_DESCRIPTIONS: Record<string, string> = {
  events: 'Usage events: ingest (one per model call) and read back.',
  reports: 'Spend, tokens, provider comparison, performance, exports, month close and filter suggestions.',
  charts: 'Server-rendered PNG charts, and the signed chart links of alerts.',
  budgets: 'Budgets: admins write, viewers read.',
  alerts: 'Alerts that fired, with how their deliveries went.',
  pricing: 'Prices, their history and sources, overrides, refreshes, restatements and coverage.',
  webhooks: 'Signed webhook endpoints and their deliveries (admin).',
  keys: 'API keys (admin).',
  projects: 'Projects (admin).',
  me: 'The calling key.',
  operations: 'Health, this document and its browsable view.',
  dashboard: 'The dashboard page and its assets.',
};

const JSON_SCHEMA_OPTIONS = { target: 'draft-2020-12', unrepresentable: 'any', reused: 'inline' } as const;

/** The JSON Schema of a zod schema, as a request (`input`: defaults optional) or an answer (`output`). */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): Json {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { ...JSON_SCHEMA_OPTIONS, io }) as Json;
  if ('$defs' in json) throw new Error('A zod schema of the API refers to itself; the document inlines schemas only.');
  return json;
}

/** `/v1/budgets/:id` -> `/v1/budgets/{id}` */
export function openApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** The names of the `:params` of a Fastify path, in order. */
export function pathParams(fastifyPath: string): string[] {
  return [...fastifyPath.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
}

function objectFields(
  schema: z.ZodType | undefined,
  what: string,
): { properties: Record<string, Json>; required: string[] } {
  if (!schema) return { properties: {}, required: [] };
  const json = jsonSchemaOf(schema);
  if (json.type !== 'object') throw new Error(`The ${what} schema of an operation must be a zod object.`);
  return { properties: (json.properties ?? {}) as Record<string, Json>, required: (json.required ?? []) as string[] };
}

function parameter(name: string, where: 'path' | 'query', schema: Json, required: boolean, example: unknown): Json {
  // A field's description is the parameter's (Swagger UI shows it there).
  const { description, ...rest } = schema;
  return {
    name,
    in: where,
    required,
    ...(description ? { description } : {}),
    schema: rest,
    ...(example !== undefined ? { example } : {}),
  };
}

function parametersOf(route: DiscoveredRoute, spec: ApiOperationSpec): Json[] {
  const example = spec.requestExample ?? {};
  const params = objectFields(spec.params, 'params');
  const query = objectFields(spec.query, 'query');
  const out: Json[] = pathParams(route.path).map((name) =>
    parameter(name, 'path', params.properties[name] ?? { type: 'string' }, true, example.params?.[name]),
  );
  for (const [name, schema] of Object.entries(query.properties))
    out.push(parameter(name, 'query', schema, query.required.includes(name), example.query?.[name]));
  if (spec.queryPattern) {
    const { name, pattern, description } = spec.queryPattern;
    const patterned = Object.fromEntries(
      Object.entries(example.query ?? {}).filter(([key]) => new RegExp(pattern).test(key)),
    );
    out.push({
      name,
      in: 'query',
      required: false,
      description,
      style: 'form',
      explode: true,
      schema: { type: 'object', propertyNames: { pattern }, additionalProperties: { type: 'string' } },
      ...(Object.keys(patterned).length > 0 ? { example: patterned } : {}),
    });
  }
  return out;
}

const isError = (status: number) => status >= 400;

function responseOf(status: number, response: ApiResponseSpec): Json {
  if (status === 204) return { description: response.description };
  const contentType = response.contentType ?? (isError(status) ? 'application/problem+json' : 'application/json');
  const schema = response.schema
    ? jsonSchemaOf(response.schema, 'output')
    : contentType.startsWith('application/problem+json')
      ? { $ref: '#/components/schemas/Problem' }
      : contentType.startsWith('image/')
        ? { type: 'string', contentMediaType: contentType }
        : contentType.startsWith('text/')
          ? { type: 'string' }
          : undefined;
  return {
    description: response.description,
    content: {
      [contentType]: {
        ...(schema ? { schema } : {}),
        ...(response.example !== undefined ? { example: response.example } : {}),
      },
    },
  };
}

function rolesText(route: DiscoveredRoute): string {
  // A handler that checks the caller itself says how in its description.
  if (route.public) return route.spec?.handlerSecurity ? '' : 'Public: no API key needed.';
  const roles = ['admin', ...route.roles.filter((r) => r !== 'admin')];
  return `Role: ${roles.length === 1 ? 'admin' : `${roles.slice(1).join(', ')} or admin`}.`;
}

function operationOf(route: DiscoveredRoute): Json {
  const operationId = `${route.controller.replace(/Controller$/, '')}_${route.handler}`;
  const spec = route.spec;
  if (!spec) {
    // Listed, so the document is complete, and flagged: the e2e test fails on it.
    return {
      operationId,
      summary: `${route.method} ${route.path} (not yet described)`,
      'x-undocumented': true,
      responses: { default: { description: 'Not yet described (add @ApiOperation to the handler).' } },
    };
  }
  const responses: Record<string, Json> = {};
  for (const [status, response] of Object.entries(spec.responses))
    responses[status] = responseOf(Number(status), response);
  const errorRef = (status: number) => ({ $ref: `#/components/responses/${COMMON_ERRORS[status].name}` });
  const hasInput = Boolean(
    spec.params || spec.query || spec.body || spec.queryPattern || pathParams(route.path).length,
  );
  if (hasInput) responses['400'] ??= errorRef(400);
  if (!route.public || spec.handlerSecurity) {
    responses['401'] ??= errorRef(401);
    responses['403'] ??= errorRef(403);
  }
  if (pathParams(route.path).length > 0) responses['404'] ??= errorRef(404);
  const roles = route.public ? [] : ['admin', ...route.roles.filter((r) => r !== 'admin')];
  return {
    operationId,
    tags: [tagOf(route)],
    summary: spec.summary,
    description: [rolesText(route), spec.description].filter(Boolean).join('\n\n'),
    ...(route.public
      ? { security: spec.handlerSecurity ?? [] }
      : { security: roles.map((role) => ({ [SECURITY_SCHEME]: [role] })), 'x-roles': roles }),
    parameters: parametersOf(route, spec),
    ...(spec.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: jsonSchemaOf(spec.body),
                ...(spec.requestExample?.body !== undefined ? { example: spec.requestExample.body } : {}),
              },
            },
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
  };
}

function tagOf(route: DiscoveredRoute): string {
  if (route.spec?.tag) return route.spec.tag;
  const match = /^\/v1\/([^/]+)/.exec(route.path);
  return match ? match[1] : 'operations';
}

const METHOD_ORDER = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The OpenAPI 3.1 document of the routes, each operation generated from its @ApiOperation and zod schemas. */
export function buildOpenApiDocument(routes: DiscoveredRoute[]): OpenApiDocument {
  const sorted = [...routes].sort(
    (a, b) => a.path.localeCompare(b.path) || METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method),
  );
  const paths: Record<string, Record<string, Json>> = {};
  const tags: string[] = [];
  for (const route of sorted) {
    const operation = operationOf(route);
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation;
    for (const tag of (operation.tags as string[] | undefined) ?? []) if (!tags.includes(tag)) tags.push(tag);
  }
  const order = Object.keys(TAG_DESCRIPTIONS);
  tags.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'TokenTally API',
      version: '1',
      description: [
        'Cost tracking and usage analytics for image-model API calls.',
        'Every call carries `Authorization: Bearer tt_...`; a key has the role ingest, viewer or admin (admin may do everything).',
        'Errors are `application/problem+json` (RFC 9457) naming every bad field. Requests are rate-limited per key (429 with `Retry-After`); while the database is away every API answer is 503 with `Retry-After`.',
        'This document is generated from the zod schemas that validate the requests (docs/api.md).',
      ].join('\n\n'),
    },
    tags: tags.map((name) => ({ name, ...(TAG_DESCRIPTIONS[name] ? { description: TAG_DESCRIPTIONS[name] } : {}) })),
    paths,
    components: {
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'tt_... API key',
          description:
            'An API key. The roles an operation accepts are its security requirements (and `x-roles`); admin is always accepted.',
        },
        metricsToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The METRICS_TOKEN setting, for Prometheus (GET /metrics only; docs/observability.md).',
        },
      },
      schemas: { Problem: jsonSchemaOf(problemSchema, 'output') },
      responses: Object.fromEntries(
        Object.values(COMMON_ERRORS).map(({ name, description, example }) => [
          name,
          {
            description,
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' }, example } },
          },
        ]),
      ),
    },
    security: [{ [SECURITY_SCHEME]: [] }],
  };
}
