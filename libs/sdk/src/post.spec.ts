import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { postJson } from './post';

describe('postJson', () => {
  let server: Server;
  let url: string;
  let handle: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => handle(req, res, body));
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('POSTs through node:http on one kept-alive connection, and reads the status, Retry-After and body', async () => {
    const seen: Array<{ body: string; type?: string; length?: string; port?: number }> = [];
    handle = (req, res, body) => {
      seen.push({
        body,
        type: req.headers['content-type'],
        length: req.headers['content-length'],
        port: req.socket.remotePort,
      });
      res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' }).end('{"error":"slow down"}');
    };
    const body = JSON.stringify({ events: [{ model: 'gpt-image-2', note: 'é' }] });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await postJson(url, { 'content-type': 'application/json' }, body, 5000));
    expect(answers).toEqual(Array(3).fill({ status: 429, retryAfter: '7', text: '{"error":"slow down"}' }));
    expect(seen.map((s) => [s.body, s.type, s.length])).toEqual(
      Array(3).fill([body, 'application/json', String(Buffer.byteLength(body))]),
    );
    expect(new Set(seen.map((s) => s.port)).size).toBe(1);
  });

  it('fails when no answer comes in time, or when the answer is cut short', async () => {
    handle = () => undefined; // never answers
    await expect(postJson(url, {}, '{}', 200)).rejects.toThrow('no answer within 200 ms');
    handle = (_req, res) => {
      res.writeHead(202, { 'content-length': '100' });
      res.write('{"accepted"');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    await expect(postJson(url, {}, '{}', 5000)).rejects.toThrow();
  });

  it('keeps only the first 64 KB of a long answer', async () => {
    handle = (_req, res) => res.writeHead(500).end('x'.repeat(1024 * 1024));
    const answer = await postJson(url, {}, '{}', 5000);
    expect(answer.status).toBe(500);
    expect(answer.text.length).toBeGreaterThanOrEqual(64 * 1024);
    expect(answer.text.length).toBeLessThan(200 * 1024);
  });

  it('uses the fetch it is given instead, with the same answer', async () => {
    const fetchImpl = jest.fn(
      async () => new Response('{"accepted":1}', { status: 202, headers: { 'retry-after': '1' } }),
    ) as unknown as typeof fetch;
    expect(await postJson('http://tokentally.test/v1/events', { a: 'b' }, '{}', 1000, fetchImpl)).toEqual({
      status: 202,
      retryAfter: '1',
      text: '{"accepted":1}',
    });
    expect(fetchImpl).toHaveBeenCalledWith(
      'http://tokentally.test/v1/events',
      expect.objectContaining({ method: 'POST', headers: { a: 'b' }, body: '{}' }),
    );
  });

  it('refuses an endpoint that is neither http nor https', async () => {
    await expect(postJson('ftp://tokentally.test/v1/events', {}, '{}', 1000)).rejects.toThrow('http or https');
  });
});
