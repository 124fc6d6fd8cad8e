import { SetMetadata } from '@nestjs/common';
import { z } from 'zod';
import { field } from './validation';

/** The Nest metadata key under which @ApiOperation stores a handler's description. */
export const API_OPERATION_KEY = 'tokentally:api-operation';

/** One documented answer of an operation. */
export interface ApiResponseSpec {
  description: string;
  /** An example body: an object for JSON, a string for CSV or HTML; none for a PNG. */
  example?: unknown;
  /** `application/json` unless said (`text/csv`, `image/png`, `text/html`...); errors are problem+json. */
  contentType?: string;
  /** A zod schema of the body, where one exists; otherwise the example describes it. */
  schema?: z.ZodType;
}

/**
 * What the OpenAPI document (libs/openapi) says of one route. The request
 * shapes are the zod schemas the handler validates with, never a copy: the
 * document is generated from them, and test/e2e/openapi.e2e-spec.ts parses
 * `requestExample` with them.
 */
export interface ApiOperationSpec {
  summary: string;
  description?: string;
  /** The group the operation is listed under (by default the path's first segment after /v1). */
  tag?: string;
  /** Path parameters: a zod object with one field per `:param`. */
  params?: z.ZodType;
  /** Query parameters: a zod object with one field per parameter. */
  query?: z.ZodType;
  /**
   * Query parameters whose names follow a pattern (`tag:<key>=<value>`),
   * outside the query schema; documented as one free-form object parameter.
   */
  queryPattern?: { name: string; pattern: string; description: string };
  /** The JSON body. */
  body?: z.ZodType;
  /** A request the app answers with the operation's first 2xx response (given the resources it names exist). */
  requestExample?: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown };
  /** By status; 400, 401, 403 and 404 problem answers are added where they apply. */
  responses: Record<number, ApiResponseSpec>;
  /**
   * For a route the API-key hook lets through (`@Public`) whose handler checks
   * the caller itself (GET /metrics: an admin key or METRICS_TOKEN): the
   * security requirements it enforces, by scheme name (`apiKey`, `metricsToken`).
   */
  handlerSecurity?: Array<Record<string, string[]>>;
}

/** Describes a route for the OpenAPI document served at GET /openapi.json (docs/api.md). */
export const ApiOperation = (spec: ApiOperationSpec) => SetMetadata(API_OPERATION_KEY, spec);

/** The path parameter `:id` as the handlers check it (`parseOrThrow(field.uuid(), id, 'id')`). */
export const idParams = z.object({ id: field.uuid() });
