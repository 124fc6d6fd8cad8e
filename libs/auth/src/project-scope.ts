import { DomainError } from '@tokentally/common';
import { Principal } from './roles';

/**
 * How one route is limited for a key that may read only some projects
 * (`Principal.projectIds` not null: a viewer key made with `project_ids`, or
 * an ingest key, which has its one project):
 *
 * - `query`: the route reads the projects of its `project` query parameter (a
 *   comma list of project ids). Left out, it is set to the key's projects;
 *   naming a project outside them is 403, naming `project`.
 * - `path`: the route reads one project named by a path parameter; a project
 *   outside the key's is 404, as for a project that does not exist.
 * - `handler`: the handler limits what it answers by `principal.projectIds`
 *   itself (budgets and alerts, `GET /v1/me`, an ingest key's writes).
 * - `none`: the route answers nothing of any project (prices, price runs).
 * - `refused`: the route reads every project at once and cannot be limited:
 *   403 for a scoped key (an admin or an unscoped viewer key reads it).
 *
 * A route without a rule is refused to scoped keys: a new route reads nothing
 * for them until it says here how it is limited (and the role matrix in
 * test/e2e/auth.e2e-spec.ts fails until it has a row). docs/access.md lists
 * every route with its rule.
 */
export type ProjectScopeRule =
  { by: 'query' } | { by: 'path'; param: string } | { by: 'handler' } | { by: 'none' } | { by: 'refused'; why: string };

const QUERY: ProjectScopeRule = { by: 'query' };
const HANDLER: ProjectScopeRule = { by: 'handler' };
const NONE: ProjectScopeRule = { by: 'none' };

/**
 * The rule of every route a viewer or ingest key can reach, keyed by `METHOD
 * path` as Nest registers the path with Fastify (HEAD answers as its GET).
 * Admin-only routes need no row: a scoped key never has the admin role.
 */
export const PROJECT_SCOPE_RULES: Readonly<Record<string, ProjectScopeRule>> = {
  // The key itself: its role, its projects and their names.
  'GET /v1/me': HANDLER,

  // Reports, charts and the export read the rollups or events through the `project` filter.
  'GET /v1/reports/spend': QUERY,
  'GET /v1/reports/summary': QUERY,
  'GET /v1/reports/tokens': QUERY,
  'GET /v1/reports/compare-providers': QUERY,
  'GET /v1/reports/performance': QUERY,
  'GET /v1/reports/provider-cost': QUERY,
  'GET /v1/reports/export.csv': QUERY,
  'GET /v1/reports/month-close': QUERY,
  'GET /v1/reports/month-close.csv': QUERY,
  'GET /v1/reports/chargeback.csv': QUERY,
  // Filter suggestions: the values present in the data the same filters select.
  'GET /v1/reports/dimensions/:dimension/values': QUERY,
  'GET /v1/reports/tags': QUERY,
  'GET /v1/reports/tags/:key/values': QUERY,
  'GET /v1/charts/:file': QUERY,

  // Stored events: the list and its totals filter by `project`; one event is read by its project and id.
  'GET /v1/events': QUERY,
  'GET /v1/events/totals': QUERY,
  'GET /v1/events/:project_id/:event_id': { by: 'path', param: 'project_id' },
  // An ingest key writes only to its own project (IngestController refuses another).
  'POST /v1/events': HANDLER,
  'POST /v1/otlp/v1/traces': HANDLER,

  // Budgets whose scope names one of the key's projects, and the alerts about them.
  'GET /v1/budgets': HANDLER,
  'GET /v1/budgets/:id': HANDLER,
  'GET /v1/budgets/:id/status': HANDLER,
  'GET /v1/charts/budgets.png': HANDLER,
  'GET /v1/alerts': HANDLER,
  // Reconciliation with the OpenAI bill: the rows of the OpenAI projects mapped to the key's projects only (the whole
  // organization's rows and unmapped ones hold other projects' spend).
  'GET /v1/reconciliation': HANDLER,

  // Prices are no project's data.
  'GET /v1/pricing': NONE,
  'GET /v1/pricing/history': NONE,
  'GET /v1/pricing/runs': NONE,
  'GET /v1/pricing/overrides': NONE,

  // Counts and costs of every project's events, with no project filter.
  'GET /v1/pricing/coverage': { by: 'refused', why: 'Pricing coverage counts the events of every project.' },
  'GET /v1/pricing/restatements': {
    by: 'refused',
    why: 'Restatements report the events and totals they changed across every project.',
  },

  'GET /v1/cost-centers': { by: 'refused', why: 'Cost centers name the projects of every team they charge.' },
  'GET /v1/cost-centers/:id': { by: 'refused', why: 'Cost centers name the projects of every team they charge.' },
  'GET /v1/periods': { by: 'refused', why: 'A closed month locks the totals of every project.' },
  'GET /v1/periods/:month': { by: 'refused', why: 'A closed month locks the totals of every project.' },

  // Admin or METRICS_TOKEN only (MetricsController checks it; a viewer key is 403): counts of every project.
  'GET /metrics': { by: 'refused', why: 'Metrics count the events and alerts of every project.' },
};

/** The rule of a route for scoped keys; a route without one is refused. */
export function projectScopeRuleOf(method: string, url: string): ProjectScopeRule {
  return (
    PROJECT_SCOPE_RULES[`${method} ${url}`] ??
    (method === 'HEAD' ? PROJECT_SCOPE_RULES[`GET ${url}`] : undefined) ?? {
      by: 'refused',
      why: `${method} ${url} has no rule for keys limited to projects (libs/auth/src/project-scope.ts).`,
    }
  );
}

/** The parts of a matched request the scope reads and rewrites (Fastify's request). */
export interface ScopedRequest {
  query: unknown;
  params: unknown;
}

/**
 * Limits one request of `principal` to its projects, by the route's rule;
 * nothing for a key that reads every project. Called by the auth hook in
 * `onRequest`: Fastify has parsed the query string and the path parameters
 * at routing, before any hook, and the handler's @Query() reads this same
 * `request.query` object, so a rewritten `project` is what the route sees.
 */
export function limitToProjectScope(principal: Principal, method: string, url: string, request: ScopedRequest): void {
  const scope = principal.projectIds;
  if (scope === null) return;
  const rule = projectScopeRuleOf(method, url);
  switch (rule.by) {
    case 'none':
    case 'handler':
      return;
    case 'query':
      limitProjectQuery(scope, request);
      return;
    case 'path': {
      const value = (request.params as Record<string, unknown> | null)?.[rule.param];
      // Outside the key's projects is not found, as a project that does not exist: existence does not leak.
      if (typeof value !== 'string' || !scope.includes(value.trim().toLowerCase()))
        throw DomainError.notFound('The resource');
      return;
    }
    case 'refused':
      throw new DomainError(
        'forbidden',
        `${rule.why} A key limited to projects cannot read it; an admin or an unscoped viewer key can.`,
      );
    default:
      // A rule kind this function does not know reads nothing (fail closed).
      throw new DomainError('forbidden', 'This route is not available to keys limited to projects.');
  }
}

/**
 * `project` left out: set to the key's projects. Given: every id in it must be
 * one of them (compared as lower-case UUIDs, as PostgreSQL prints them), and
 * the route then sees the ids as checked (trimmed, lower case).
 */
function limitProjectQuery(scope: string[], request: ScopedRequest): void {
  const query = request.query;
  if (query === null || typeof query !== 'object') {
    throw new DomainError('forbidden', 'The query of this request could not be limited to the projects of this key.');
  }
  const params = query as Record<string, unknown>;
  const given = params.project;
  if (given === undefined) {
    params.project = scope.join(',');
    return;
  }
  if (typeof given !== 'string') throw DomainError.validation([{ path: 'project', message: 'must be given once' }]);
  const ids = given.split(',').map((id) => id.trim().toLowerCase());
  const outside = ids.filter((id) => !scope.includes(id));
  if (outside.length > 0) {
    throw new DomainError('forbidden', 'This key may read only the projects it was made for.', [
      {
        path: 'project',
        message: `names ${outside.length === 1 ? 'a project' : `${outside.length} projects`} outside the projects of this key`,
      },
    ]);
  }
  params.project = ids.join(',');
}
