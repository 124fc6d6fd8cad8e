import * as fs from 'node:fs';
import type { z } from 'zod';
import { routeAccessTable } from '@tokentally/auth';
import { ApiOperationSpec } from '@tokentally/common';
import { DiscoveredRoute, OpenApiService, openApiPath, pathParams, problemSchema } from '@tokentally/openapi';
import { startTestApp, TestApp } from '../support/app';
import { HttpClient } from '../support/http';

const CHROMIUM = '/usr/bin/chromium';

/**
 * Every route the Fastify instance serves, as `METHOD /path` (Fastify's
 * `:param` form), read from its own route tree (printRoutes): HEAD routes
 * (made for every GET) and OPTIONS left out.
 */
function fastifyRoutes(tree: string): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const level = [...match[1]].length / 4;
    const path = (level === 0 ? '' : stack[level - 1]) + match[2];
    stack[level] = path;
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim())) {
      if (method && method !== 'HEAD' && method !== 'OPTIONS') routes.push(`${method} ${path}`);
    }
  }
  return routes.sort();
}

/** The lowest 2xx status an operation documents: what its request example is answered with. */
function successStatus(spec: ApiOperationSpec): number {
  return Math.min(
    ...Object.keys(spec.responses)
      .map(Number)
      .filter((s) => s >= 200 && s < 300),
  );
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The query of an example without the keys the operation reads beside its schema (`tag:<key>`). */
function schemaQuery(spec: ApiOperationSpec): Record<string, string> {
  const pattern = spec.queryPattern ? new RegExp(spec.queryPattern.pattern) : null;
  return Object.fromEntries(Object.entries(spec.requestExample?.query ?? {}).filter(([key]) => !pattern?.test(key)));
}

describe('OpenAPI document (GET /openapi.json) and docs (GET /docs)', () => {
  let t: TestApp;
  let anonymous: HttpClient;
  let doc: any;
  let routes: DiscoveredRoute[];

  beforeAll(async () => {
    t = await startTestApp();
    anonymous = t.http.as(null);
    const res = await anonymous.get('/openapi.json');
    expect([res.status, res.headers.get('content-type')]).toEqual([200, expect.stringMatching(/^application\/json/)]);
    doc = res.body;
    routes = t.app.get(OpenApiService).routes();
  });
  afterAll(() => t?.close());

  const operations = () =>
    Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
    );

  it('is an OpenAPI 3.1 document with unique operation ids and a bearer API-key scheme', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    // Every tag an operation uses is declared, every $ref resolves.
    const tags = new Set(doc.tags.map((tag: { name: string }) => tag.name));
    expect(operations().filter(({ op }) => !op.tags?.every((tag: string) => tags.has(tag)))).toEqual([]);
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1]);
    const missing = refs.filter((ref) => ref.split('/').reduce((node: any, key) => node?.[key], doc) === undefined);
    expect(missing).toEqual([]);
  });

  it('describes every route the app serves, with its method and path, and no other', () => {
    const fastify = t.app.getHttpAdapter().getInstance();
    const served = fastifyRoutes(fastify.printRoutes({ commonPrefix: false }));
    // A sanity check of the parsing: every route read from the tree is one Fastify has.
    for (const route of served) {
      const [method, url] = route.split(' ');
      expect([route, fastify.hasRoute({ method: method as 'GET', url })]).toEqual([route, true]);
    }
    expect(served.length).toBeGreaterThan(50);
    const documented = operations()
      .map(({ method, path }) => `${method} ${path}`)
      .sort();
    expect(documented).toEqual(served.map((route) => openApiPath(route)).sort());
    // Described, not merely listed: a handler without @ApiOperation is flagged in the document.
    expect(operations().filter(({ op }) => op['x-undocumented'])).toEqual([]);
    expect(routes.filter((route) => !route.spec).map((route) => `${route.method} ${route.path}`)).toEqual([]);
  });

  it('says who may call each operation, as the auth hook decides it', () => {
    const access = routeAccessTable(t.app);
    for (const { path, method, op } of operations()) {
      const route = [...access].find(([key]) => openApiPath(key) === `${method} ${path}`);
      expect([method, path, route !== undefined]).toEqual([method, path, true]);
      const rule = route![1];
      if (rule.public && `${method} ${path}` === 'GET /metrics') {
        // Public to the hook; the handler itself wants METRICS_TOKEN or an admin key.
        expect(op.security).toEqual([{ metricsToken: [] }, { apiKey: ['admin'] }]);
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
      } else if (rule.public) {
        expect([method, path, op.security]).toEqual([method, path, []]);
      } else {
        const roles = ['admin', ...rule.roles.filter((r) => r !== 'admin')];
        expect([method, path, op['x-roles']]).toEqual([method, path, roles]);
        expect(op.security).toEqual(roles.map((role) => ({ apiKey: [role] })));
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
  });

  it('has an example for each operation, and every request example is valid for the zod schema it was made from', () => {
    for (const route of routes) {
      const spec = route.spec!;
      const name = `${route.method} ${route.path}`;
      const success = successStatus(spec);
      // The status documented is the one Nest answers with (@HttpCode, or 201 for a POST).
      expect([name, success]).toEqual([name, route.status]);
      const answer = spec.responses[success];
      const example = spec.requestExample ?? {};
      // An answer with a body shows an example of it; a PNG or a 204 has none, and the request example is the example.
      const bodiless = success === 204 || answer.contentType?.startsWith('image/');
      expect([name, bodiless ? Object.keys(example).length > 0 : answer.example !== undefined]).toEqual([name, true]);
      const parse = (what: string, schema: z.ZodType | undefined, value: unknown) => {
        if (!schema) return;
        const result = schema.safeParse(value);
        expect([name, what, result.success ? 'valid' : result.error.issues]).toEqual([name, what, 'valid']);
      };
      expect([name, Object.keys(example.params ?? {}).sort()]).toEqual([name, pathParams(route.path).sort()]);
      parse('params', spec.params, example.params ?? {});
      parse('query', spec.query, schemaQuery(spec));
      if (spec.body) expect([name, example.body !== undefined]).toEqual([name, true]);
      parse('body', spec.body, example.body);
      if (!spec.params && pathParams(route.path).length > 0)
        throw new Error(`${name}: its path parameters have no schema`);
      // The example is in the document too: on each parameter it sets and on the body.
      const op = doc.paths[openApiPath(route.path)][route.method.toLowerCase()];
      for (const [key, value] of Object.entries({ ...example.params, ...schemaQuery(spec) })) {
        expect([name, key, op.parameters.find((p: { name: string }) => p.name === key)?.example]).toEqual([
          name,
          key,
          value,
        ]);
      }
      if (spec.body) expect(op.requestBody.content['application/json'].example).toEqual(example.body);
    }
  });

  it('shows problem answers (400, 401, 403, 404) in the shape the app gives them', async () => {
    for (const [name, response] of Object.entries(doc.components.responses as Record<string, any>)) {
      const example = response.content['application/problem+json'].example;
      expect([name, problemSchema.safeParse(example).success]).toEqual([name, true]);
    }
    const [unauthenticated, invalid] = await Promise.all([
      anonymous.get('/v1/reports/spend'),
      t.http.get('/v1/reports/spend?granularity=year'),
    ]);
    expect(unauthenticated.body).toEqual(
      doc.components.responses.Unauthorized.content['application/problem+json'].example,
    );
    expect(invalid.body).toEqual(doc.components.responses.BadRequest.content['application/problem+json'].example);
  });

  it('answers the request examples of its GET operations with the documented status (admin key)', async () => {
    const tried: string[] = [];
    for (const route of routes) {
      const spec = route.spec!;
      const example = spec.requestExample ?? {};
      // Examples that name a resource by id (none exists here) or carry a link signature are not sent.
      const values = [...Object.values(example.params ?? {}), ...Object.values(example.query ?? {})];
      if (route.method !== 'GET' || values.some((v) => UUID.test(v)) || 'sig' in (example.query ?? {})) continue;
      let path = route.path;
      for (const [key, value] of Object.entries(example.params ?? {}))
        path = path.replace(`:${key}`, encodeURIComponent(value));
      const query = new URLSearchParams(example.query ?? {}).toString();
      const res = await t.http.get(query ? `${path}?${query}` : path);
      const success = successStatus(spec);
      const documented = spec.responses[success];
      const name = `${route.method} ${path}`;
      expect([name, res.status]).toEqual([name, success]);
      const type = documented.contentType ?? 'application/json';
      expect([name, res.headers.get('content-type')]).toEqual([name, expect.stringContaining(type)]);
      // The example shows fields the answer has (it is not invented).
      if (type === 'application/json' && documented.example && typeof documented.example === 'object') {
        const missing = Object.keys(documented.example).filter((key) => !(key in res.body));
        expect([name, missing]).toEqual([name, []]);
      }
      tried.push(name);
    }
    expect(tried.length).toBeGreaterThan(25);
  });

  it('serves /docs as HTML whose scripts and stylesheet come from this service, under the strict CSP', async () => {
    const page = await anonymous.get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((u) => u !== 'data:,');
    expect(assets.sort()).toEqual(['/docs/docs.js', '/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css']);
    for (const asset of assets) {
      const res = await anonymous.get(asset);
      expect([asset, res.status]).toEqual([asset, 200]);
      expect(res.headers.get('content-type')).toMatch(asset.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect(res.text.length).toBeGreaterThan(100);
    }
    expect((await anonymous.get('/docs/docs.js')).text).toContain("url: '/openapi.json'");
    expect((await anonymous.get('/docs/swagger-ui-bundle.js')).text).toContain('SwaggerUIBundle');
    expect((await anonymous.get('/docs/package.json')).status).toBe(404);
    expect((await anonymous.get('/docs/..%2Fpackage.json')).status).toBe(404);
    // The 404 does not reflect what was asked for (the trial saw "File <script> was not found.").
    const reflected = await anonymous.get('/docs/%3Cscript%3E');
    expect([reflected.status, JSON.stringify(reflected.body).includes('<script>')]).toEqual([404, false]);
    const asset = await anonymous.get('/assets/%3Cscript%3E.js');
    expect([asset.status, JSON.stringify(asset.body).includes('<script>')]).toEqual([404, false]);
  });

  (fs.existsSync(CHROMIUM) ? it : it.skip)(
    'renders every tag of the document in headless Chromium, offline and without a CSP violation',
    async () => {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        const elsewhere: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
        page.on('request', (request) => {
          if (!request.url().startsWith(t.url) && !request.url().startsWith('data:')) elsewhere.push(request.url());
        });
        await page.goto(`${t.url}/docs`);
        await page.waitForSelector('.opblock-tag', { timeout: 20_000 });
        const tags = await page.$$eval('.opblock-tag', (nodes) => nodes.map((n) => n.getAttribute('data-tag')));
        expect(tags).toEqual(doc.tags.map((tag: { name: string }) => tag.name));
        await page.click('.opblock-tag[data-tag="reports"]');
        await page.waitForSelector('.opblock-summary-path');
        expect(await page.$$eval('.opblock', (nodes) => nodes.length)).toBeGreaterThan(5);
        expect(errors).toEqual([]);
        expect(elsewhere).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});
