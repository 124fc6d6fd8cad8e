import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { sendWebhook } from './webhook-sender';

/** The sender against a local server; `handle` decides each answer. */
describe('sendWebhook', () => {
  let server: Server;
  let port: number;
  const hits: Array<{ host: string | undefined; url: string | undefined; body: string }> = [];
  let handle: (req: IncomingMessage) => { status: number; headers?: Record<string, string> } | 'hang' = () => ({
    status: 200,
  });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        hits.push({ host: req.headers.host, url: req.url, body });
        const answer = handle(req);
        if (answer === 'hang') return;
        res.writeHead(answer.status, answer.headers).end('answer body');
      });
    });
    // Bound to every address so that 127.0.0.2 (also loopback on Linux) reaches it too.
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => hits.splice(0));

  it('posts the body and reports the status and an excerpt of the answer', async () => {
    handle = () => ({ status: 202 });
    const result = await sendWebhook(
      `http://127.0.0.1:${port}/in`,
      '{"a":1}',
      { 'webhook-id': 'msg_1' },
      { allowPrivate: true },
    );
    expect(result).toMatchObject({ statusCode: 202, error: null, responseExcerpt: 'answer body' });
    expect(hits).toEqual([{ host: `127.0.0.1:${port}`, url: '/in', body: '{"a":1}' }]);
  });

  it('checks every redirect hop against the guard before connecting', async () => {
    handle = (req) => (req.url === '/start' ? { status: 307, headers: { location: `/next` } } : { status: 200 });
    const refuseNext = async (url: URL) =>
      url.pathname === '/next' ? `${url.hostname} is refused in this test` : null;
    const refused = await sendWebhook(
      `http://127.0.0.1:${port}/start`,
      '{}',
      {},
      { allowPrivate: false, refusal: refuseNext },
    );
    expect(refused.error).toBe(
      `refused: 127.0.0.1 is refused in this test (after a redirect to http://127.0.0.1:${port}/next)`,
    );
    expect(hits.map((h) => h.url)).toEqual(['/start']);

    hits.splice(0);
    const followed = await sendWebhook(
      `http://127.0.0.1:${port}/start`,
      '{"b":2}',
      {},
      { allowPrivate: false, refusal: async () => null },
    );
    expect(followed).toMatchObject({ statusCode: 200, error: null });
    expect(hits).toEqual([
      { host: `127.0.0.1:${port}`, url: '/start', body: '{"b":2}' },
      { host: `127.0.0.1:${port}`, url: '/next', body: '{"b":2}' },
    ]);
  });

  // Issue 11, item 12: the signed body and webhook-* headers went to any redirect target, https to http too.
  it('does not follow a redirect to another origin (host, port or scheme), and the body is not sent there', async () => {
    const elsewhere = [
      `http://127.0.0.2:${port}/steal`,
      `http://localhost:${port}/steal`,
      `https://127.0.0.1:${port}/steal`,
      `http://127.0.0.1:${port + 1}/steal`,
      'ftp://127.0.0.1/x',
    ];
    for (const location of elsewhere) {
      hits.splice(0);
      handle = (req) => (req.url === '/start' ? { status: 308, headers: { location } } : { status: 200 });
      const result = await sendWebhook(
        `http://127.0.0.1:${port}/start`,
        '{"secret":"data"}',
        { 'webhook-signature': 'v1,x' },
        { allowPrivate: true },
      );
      expect(result.statusCode).toBe(308);
      expect(result.error).toMatch(
        new RegExp(
          `^HTTP 308 redirect to another origin \\((${new URL(location).origin.replace(/[.:/]/g, '\\$&')}|ftp:)\\) not followed: only redirects within http://127\\.0\\.0\\.1:${port} are`,
        ),
      );
      expect(hits.map((h) => h.url)).toEqual(['/start']);
    }
  });

  it('gives up after three redirects', async () => {
    handle = () => ({ status: 302, headers: { location: '/again' } });
    const result = await sendWebhook(`http://127.0.0.1:${port}/x`, '{}', {}, { allowPrivate: true });
    expect(result.error).toBe('more than 3 redirects');
    expect(hits).toHaveLength(4);
  });

  it('stops waiting at the deadline', async () => {
    handle = () => 'hang';
    const result = await sendWebhook(`http://127.0.0.1:${port}/slow`, '{}', {}, { allowPrivate: true, timeoutMs: 300 });
    expect(result).toMatchObject({ statusCode: null, error: 'timed out after 0.3 s' });
  });

  it('reads Retry-After in seconds and as a date', async () => {
    handle = () => ({ status: 429, headers: { 'retry-after': '120' } });
    expect(await sendWebhook(`http://127.0.0.1:${port}/busy`, '{}', {}, { allowPrivate: true })).toMatchObject({
      statusCode: 429,
      error: 'HTTP 429',
      retryAfterSeconds: 120,
    });
    handle = () => ({ status: 503, headers: { 'retry-after': new Date(Date.now() + 60_000).toUTCString() } });
    const dated = await sendWebhook(`http://127.0.0.1:${port}/busy`, '{}', {}, { allowPrivate: true });
    expect(dated.retryAfterSeconds).toBeGreaterThan(55);
    expect(dated.retryAfterSeconds).toBeLessThanOrEqual(61);
  });

  it('refuses a loopback destination by default', async () => {
    const result = await sendWebhook(`http://127.0.0.1:${port}/in`, '{}', {}, { allowPrivate: false });
    expect(result.error).toBe('refused: 127.0.0.1 is a loopback address');
    expect(hits).toHaveLength(0);
  });
});
