import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { loadConfig, redactSecrets } from '@tokentally/common';
import { ChartLinks } from '@tokentally/reporting';
import { createApp, startupBanner } from '../../apps/api/src/app';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/app';
import { createTestDatabase } from '../support/database';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

/** What came back on a raw connection: the status line, headers, body, and whether the server closed it. */
interface RawAnswer {
  status: number | null;
  headers: Record<string, string>;
  body: string;
  closed: boolean;
  ms: number;
}

/**
 * Speaks HTTP on a raw socket: writes `head`, then each of `chunks` every
 * `everyMs`, and collects what comes back until the server closes the
 * connection or `waitMs` passes.
 */
function rawRequest(
  url: string,
  head: string,
  opts: { chunks?: string[]; everyMs?: number; waitMs?: number } = {},
): Promise<RawAnswer> {
  const { port } = new URL(url);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let data = '';
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(deadline);
      socket.destroy();
      const [headText, ...rest] = data.split('\r\n\r\n');
      const lines = headText.split('\r\n');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1];
      const headers = Object.fromEntries(
        lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      resolve({
        status: status ? Number(status) : null,
        headers,
        body: rest.join('\r\n\r\n'),
        closed,
        ms: Date.now() - started,
      });
    };
    const deadline = setTimeout(() => finish(false), opts.waitMs ?? 5000);
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      socket.write(head);
      const chunks = [...(opts.chunks ?? [])];
      if (chunks.length) {
        timer = setInterval(() => {
          const next = chunks.shift();
          if (next === undefined || socket.destroyed) return clearInterval(timer);
          socket.write(next);
        }, opts.everyMs ?? 200);
      }
    });
  });
}

function expectProblem(answer: { status: number | null; contentType: string | null; body: any }, status: number) {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({
    type: expect.stringMatching(/^urn:tokentally:problem:/),
    title: expect.any(String),
    status,
    detail: expect.any(String),
  });
}

const problemOfRaw = (a: RawAnswer) => ({
  status: a.status,
  contentType: a.headers['content-type'] ?? null,
  body: JSON.parse(a.body),
});
const problemOf = (r: { status: number; headers: Headers; body: unknown }) => ({
  status: r.status,
  contentType: r.headers.get('content-type'),
  body: r.body,
});

describe('HTTP limits (issue 11)', () => {
  let t: TestApp;
  let ingest: HttpClient;
  let ingestProject: string;

  beforeAll(async () => {
    t = await startTestApp({
      HTTP_REQUEST_TIMEOUT_MS: '1500',
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_MAX_CONNECTIONS_PER_IP: '40',
    });
    ({ client: ingest, projectId: ingestProject } = await projectWithIngestKey(t.http));
  });
  afterAll(() => t?.close());

  describe('every answer Fastify gives itself is problem+json', () => {
    it('answers a path segment over the length limit 414 problem+json', async () => {
      // The limit is an event id's longest percent-encoded form (2,400 characters, see app.ts).
      expectProblem(problemOf(await t.http.get(`/v1/budgets/${'a'.repeat(2401)}`)), 414);
    });

    it('answers headers over 16 KB 431 problem+json', async () => {
      const answer = await rawRequest(t.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expectProblem(problemOfRaw(answer), 431);
    });

    it('answers a URL over 16 KB 431 problem+json', async () => {
      const answer = await rawRequest(t.url, `GET /health?pad=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expectProblem(problemOfRaw(answer), 431);
    });

    it('answers a bad percent-encoding 400 problem+json', async () => {
      expectProblem(problemOf(await t.http.get('/v1/budgets/%E0%A4%A')), 400);
    });

    it('gives the answers Node writes before Fastify (431, garbage) an x-request-id too', async () => {
      const big = await rawRequest(t.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      const garbage = await rawRequest(t.url, 'HELLO\r\n\r\n');
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
      expect([big.status, big.headers['x-request-id']]).toEqual([431, expect.stringMatching(uuid)]);
      expect([garbage.status, garbage.headers['x-request-id']]).toEqual([400, expect.stringMatching(uuid)]);
    });

    it('answers garbage instead of HTTP 400 problem+json', async () => {
      expectProblem(problemOfRaw(await rawRequest(t.url, 'HELLO\r\n\r\n')), 400);
    });

    it('answers a body over 1 MB 413 problem+json', async () => {
      const res = await t.http.request('POST', `/v1/events?project_id=${ingestProject}`, undefined, {
        headers: { 'content-type': 'application/json' },
        raw: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }),
      });
      expectProblem(problemOf(res), 413);
    });

    it('answers a body that is not JSON 400 problem+json, and another content type 415 problem+json', async () => {
      const bad = await ingest.request('POST', '/v1/events', undefined, {
        headers: { 'content-type': 'application/json' },
        raw: '{"x":',
      });
      expectProblem(problemOf(bad), 400);
      const type = await ingest.request('POST', '/v1/events', undefined, {
        headers: { 'content-type': 'text/plain' },
        raw: 'x',
      });
      expectProblem(problemOf(type), 415);
    });

    it('answers an unknown route 404 problem+json, with or without a key', async () => {
      expectProblem(problemOf(await t.http.get('/v1/nothing-here')), 404);
      expectProblem(problemOf(await t.http.as(null).request('DELETE', '/nope')), 404);
    });
  });

  describe('connection limits', () => {
    it('answers 408 problem+json and closes a connection whose body trickles in one byte at a time', async () => {
      const head = `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
      const answer = await rawRequest(t.url, head, {
        chunks: Array.from({ length: 100 }, () => ' '),
        everyMs: 100,
        waitMs: 8000,
      });
      expect(answer.closed).toBe(true);
      expect(answer.ms).toBeLessThan(5000);
      expectProblem(problemOfRaw(answer), 408);
    });

    it('closes a connection whose headers trickle in, within the headers timeout', async () => {
      const answer = await rawRequest(t.url, 'GET /health HTTP/1.1\r\n', {
        chunks: Array.from({ length: 100 }, (_, i) => `X-${i}: y\r\n`),
        everyMs: 100,
        waitMs: 8000,
      });
      expect(answer.closed).toBe(true);
      expect(answer.ms).toBeLessThan(4000);
      expect(answer.status).toBe(408);
    });

    it('closes connections of one client address beyond HTTP_MAX_CONNECTIONS_PER_IP and accepts new ones once others close', async () => {
      const open: net.Socket[] = [];
      const connect = () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect(Number(new URL(t.url).port), '127.0.0.1', () => resolve(s));
          s.on('error', () => undefined);
        });
      for (let i = 0; i < 40; i++) open.push(await connect());
      await new Promise((r) => setTimeout(r, 100));
      const extra = await rawRequest(t.url, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n', { waitMs: 3000 });
      expect(extra).toMatchObject({ closed: true, status: null });
      for (const s of open) s.destroy();
      await new Promise((r) => setTimeout(r, 200));
      expect((await t.http.get('/health')).status).toBe(200);
    });
  });

  describe('the API key is checked before the body is read', () => {
    it('answers 401 problem+json to a request without a key that announces a 900 KB body, without waiting for the body', async () => {
      const head = `POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${900 * 1024}\r\n\r\n`;
      const answer = await rawRequest(t.url, head, { waitMs: 1000 });
      expectProblem(problemOfRaw(answer), 401);
      expect(answer.headers['www-authenticate']).toBe('Bearer');
    });

    it('answers 403 to a key of the wrong role before the body is read', async () => {
      const viewer = await viewerClient(t.http);
      const head = `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${viewer.key}\r\nContent-Type: application/json\r\nContent-Length: ${900 * 1024}\r\n\r\n`;
      expectProblem(problemOfRaw(await rawRequest(t.url, head, { waitMs: 1000 })), 403);
    });

    it('never runs the JSON parser on a 900 KB body sent without a valid key (and does with one)', async () => {
      const body = JSON.stringify({ events: [usageEvent()], pad: 'x'.repeat(900 * 1024) });
      const parse = jest.spyOn(JSON, 'parse');
      const bigParses = () =>
        parse.mock.calls.filter(([text]) => typeof text === 'string' && text.length >= 900 * 1024).length;
      try {
        for (const key of [null, 'tt_not_a_key_at_all_0123456789']) {
          const res = await t.http
            .as(key)
            .request('POST', '/v1/events', undefined, { headers: { 'content-type': 'application/json' }, raw: body });
          expectProblem(problemOf(res), 401);
        }
        expect(bigParses()).toBe(0);
        await ingest.request('POST', '/v1/events', undefined, {
          headers: { 'content-type': 'application/json' },
          raw: body,
        });
        expect(bigParses()).toBe(1);
      } finally {
        parse.mockRestore();
      }
    });

    it('keeps @Public routes open without a key: health, the dashboard and its assets, and signed chart links', async () => {
      const anonymous = t.http.as(null);
      expect((await anonymous.get('/health')).status).toBe(200);
      expect((await anonymous.get('/')).status).toBe(200);
      expect((await anonymous.get('/assets/app.js')).status).toBe(200);
      const link = await t.app
        .get(ChartLinks)
        .url('spend.png', { from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' });
      const shared = await anonymous.get(new URL(link).pathname + new URL(link).search);
      expect(shared.status).toBe(200);
      expect(shared.headers.get('content-type')).toBe('image/png');
      const tampered = await anonymous.get(
        new URL(link).pathname + new URL(link).search.replace('2026-11-02', '2026-11-03'),
      );
      expectProblem(problemOf(tampered), 403);
      expectProblem(problemOf(await anonymous.get('/v1/reports/spend')), 401);
    });
  });

  describe('an ingest key and project_id', () => {
    it('answers 403 naming project_id when an ingest key names another project, and stores nothing', async () => {
      const other = await projectWithIngestKey(t.http);
      const event = usageEvent();
      const res = await ingest.post(`/v1/events?project_id=${other.projectId}`, event);
      expectProblem(problemOf(res), 403);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: 'project_id' })]);
      const stored = await t.http.get(`/v1/events?project=${ingestProject}&limit=1000`);
      expect(JSON.stringify(stored.body)).not.toContain(event.event_id);
    });

    it('accepts an ingest key naming its own project, and an admin naming any', async () => {
      expect((await ingest.post(`/v1/events?project_id=${ingestProject}`, usageEvent())).status).toBe(202);
      expect((await t.http.post(`/v1/events?project_id=${ingestProject}`, usageEvent())).status).toBe(202);
    });
  });

  describe('security headers and CORS', () => {
    it('sends a CSP that allows exactly what the dashboard page loads: its own scripts and stylesheet, no inline script', async () => {
      const res = await t.http.as(null).get('/');
      const csp = res.headers.get('content-security-policy') ?? '';
      const directive = (name: string) => new RegExp(`(?:^|;)\\s*${name} ([^;]*)`).exec(csp)?.[1] ?? '';
      expect(directive('script-src')).toBe("'self'");
      expect(directive('default-src')).toBe("'self'");
      expect(directive('img-src')).toContain('data:'); // the favicon
      expect(directive('style-src')).toContain("'self'");
      expect(csp).not.toMatch(/upgrade-insecure-requests/); // plain http on a private address must keep working
      const html = fs.readFileSync(
        path.join(__dirname, '../../libs/reporting/src/dashboard/assets/index.html'),
        'utf8',
      );
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
      expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handler
      for (const [, src] of html.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g)) {
        expect(src).toMatch(/^(\/assets\/|data:)/); // served by the service itself
        if (src.startsWith('/assets/')) expect((await t.http.as(null).get(src)).status).toBe(200);
      }
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    });

    it('sends no CORS headers unless CORS_ORIGINS is set', async () => {
      const res = await t.http.request('GET', '/v1/pricing', undefined, {
        headers: { origin: 'https://evil.example' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('allows exactly the configured CORS_ORIGINS', async () => {
      const c = await startTestApp({ CORS_ORIGINS: 'https://ops.example.com' });
      try {
        const ok = await c.http.request('GET', '/v1/pricing', undefined, {
          headers: { origin: 'https://ops.example.com' },
        });
        expect(ok.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
        const other = await c.http.request('GET', '/v1/pricing', undefined, {
          headers: { origin: 'https://evil.example' },
        });
        expect(other.headers.get('access-control-allow-origin')).toBeNull();
        const preflight = await c.http.as(null).request('OPTIONS', '/v1/pricing', undefined, {
          headers: {
            origin: 'https://ops.example.com',
            'access-control-request-method': 'GET',
            'access-control-request-headers': 'authorization',
          },
        });
        expect(preflight.status).toBe(204);
        expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/);
      } finally {
        await c.close();
      }
    });
  });
});

describe('rate limits (issue 11)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // 3 requests per 60 s for a viewer key and for a client without a key.
    t = await startTestApp({
      RATE_LIMIT_WINDOW_SECONDS: '60',
      RATE_LIMIT_VIEWER_PER_SECOND: '0.05',
      RATE_LIMIT_ANONYMOUS_PER_SECOND: '0.05',
    });
  });
  afterAll(() => t?.close());

  it('answers 429 problem+json with Retry-After once a key is over its limit, counting each key apart', async () => {
    const viewer = await viewerClient(t.http);
    for (let i = 0; i < 3; i++) expect((await viewer.get('/v1/pricing')).status).toBe(200);
    const limited = await viewer.get('/v1/pricing');
    expectProblem(problemOf(limited), 429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    const another = await viewerClient(t.http);
    expect((await another.get('/v1/pricing')).status).toBe(200);
    expect((await t.http.get('/v1/pricing')).status).toBe(200); // the admin key has its own, larger limit
  });

  it('limits requests without a key by client address, and never /health', async () => {
    const anonymous = t.http.as(null);
    for (let i = 0; i < 20; i++) expect((await anonymous.get('/health')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await anonymous.get('/assets/dashboard.css')).status).toBe(200);
    const limited = await anonymous.get('/assets/dashboard.css');
    expectProblem(problemOf(limited), 429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await anonymous.get('/health')).status).toBe(200);
  });

  it('has defaults that never slow a well-behaved client', () => {
    const { rateLimit } = loadConfig({}).http;
    expect(rateLimit.enabled).toBe(true);
    expect(rateLimit.perSecond.ingest).toBeGreaterThanOrEqual(1000);
    expect(rateLimit.perSecond.admin).toBeGreaterThanOrEqual(1000);
    expect(rateLimit.perSecond.viewer).toBeGreaterThanOrEqual(100);
  });
});

describe('secrets in logs (issue 11)', () => {
  function captureOutput() {
    const lines: string[] = [];
    const spies = [process.stdout, process.stderr].map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
        lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return true;
      }) as typeof stream.write),
    );
    return { text: () => lines.join(''), restore: () => spies.forEach((s) => s.mockRestore()) };
  }

  it('prints a generated admin key once, on the start-up banner only, never in the log stream', async () => {
    const db = await createTestDatabase();
    const config = loadConfig({
      ...db.env,
      LOG_LEVEL: 'verbose',
      LOG_FORMAT: 'json',
      PORT: '0',
      PRICING_REFRESH_ON_START: 'false',
      RUN_JOBS: 'false',
    });
    const output = captureOutput();
    let created: Awaited<ReturnType<typeof createApp>> | undefined;
    try {
      created = await createApp(config);
    } finally {
      output.restore();
    }
    try {
      const key = created.createdAdminKey!;
      expect(key).toMatch(/^tt_/);
      expect(output.text().length).toBeGreaterThan(0); // the logger did write
      expect(output.text()).not.toContain(key);
      const banner = startupBanner(config, key);
      expect(banner.split(key).length - 1).toBe(1);
    } finally {
      await created?.app.close();
      await db.drop();
    }
  });

  it('redacts sig, API keys, whsec_ secrets and Authorization headers in every log line', async () => {
    const db = await createTestDatabase();
    const config = loadConfig({
      ...db.env,
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      LOG_LEVEL: 'verbose',
      LOG_FORMAT: 'json',
      PORT: '0',
      PRICING_REFRESH_ON_START: 'false',
      RUN_JOBS: 'false',
    });
    const output = captureOutput();
    let app: Awaited<ReturnType<typeof createApp>>['app'] | undefined;
    const secrets = {
      sig: 'c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw',
      key: 'tt_AbCdEfGhIjKlMnOpQrStUvWxYz012345',
      whsec: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      bearer: 'some-opaque-token-value-123',
    };
    try {
      ({ app } = await createApp(config));
      const logger = new Logger('HTTP');
      logger.error({
        message: 'unhandled error',
        method: 'GET',
        url: `/v1/charts/shared/spend.png?expires=1&from=2026-11-01&sig=${secrets.sig}&to=2026-11-02`,
        headers: { authorization: `Bearer ${secrets.bearer}` },
        error: `Error: failed for ${secrets.key}\n    at x (/app/y.js:1:1)`,
      });
      logger.warn(`webhook secret ${secrets.whsec} rotated; request had Authorization: Bearer ${secrets.bearer}`);
      logger.log(`GET /v1/charts/shared/spend.png?sig=${secrets.sig}&expires=1 by ${secrets.key}`);
      logger.error('failed', `Error: boom ${secrets.key}\n    at z (/app/sig.js:1:1)`);
    } finally {
      await app?.close();
      output.restore();
      await db.drop();
    }
    const text = output.text();
    expect(text).toContain('unhandled error');
    expect(text).toContain('webhook secret');
    for (const secret of Object.values(secrets)) expect(text).not.toContain(secret.replace(/^whsec_/, ''));
    expect(text).toContain('[REDACTED]');
    expect(redactSecrets(`x?a=1&sig=${secrets.sig}`)).toBe('x?a=1&sig=[REDACTED]');
  });
});

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
(fs.existsSync(CHROMIUM) ? describe : describe.skip)('the dashboard under the security headers (issue 11)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('loads, signs in and draws its charts in Chromium with no Content-Security-Policy violation', async () => {
    const { client } = await projectWithIngestKey(t.http);
    await client.post('/v1/events', {
      events: [usageEvent({ timestamp: '2026-11-20T10:00:00Z' }), usageEvent({ timestamp: '2026-11-21T10:00:00Z' })],
    });
    const viewerKey = (await viewerClient(t.http)).key!;
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      page.on('console', (message) => {
        if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`${t.url}/?from=2026-11-19&to=2026-11-22&tz=UTC`);
      await page.fill('#key', viewerKey);
      await page.click('#signin-form button');
      await page.waitForSelector('body[data-loaded=true]');
      expect(await page.evaluate(() => typeof (globalThis as any).Chart)).toBe('function');
      expect(await page.$eval('#spend-chart', (canvas: any) => canvas.width > 0)).toBe(true);
      // The rank bars are sized by inline style attributes: they must not be blocked.
      expect(
        await page.$$eval('#top-project .bar span', (spans: any[]) => spans.map((s) => s.style.width)),
      ).not.toContain('');
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
