import { createServer, request, Server } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

export type GateMode = 'pass' | 'down' | 'error500' | 'hang' | 'lose-response';

/**
 * Sits between the SDK and TokenTally to play outages: `down` refuses
 * connections (the port is closed), `error500` answers 500, `hang` never
 * answers, `lose-response` forwards the request and then drops the connection
 * before the answer arrives (TokenTally committed; the SDK does not know).
 */
export interface GateProxy {
  url: string;
  mode: GateMode;
  /** Requests seen per mode. */
  seen: Record<GateMode, number>;
  set(mode: GateMode): Promise<void>;
  close(): Promise<void>;
}

export async function startGateProxy(target: string): Promise<GateProxy> {
  const targetUrl = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const gate: GateProxy = {
    url: '',
    mode: 'pass',
    seen: { pass: 0, down: 0, error500: 0, hang: 0, 'lose-response': 0 },
    set: async (mode) => {
      if (mode === 'down' && server) await stop();
      if (mode !== 'down' && !server) await listen();
      gate.mode = mode;
    },
    close: () => stop(),
  };

  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((req, res) => {
        const mode = gate.mode;
        gate.seen[mode]++;
        if (mode === 'hang') return; // never answer
        if (mode === 'error500') {
          req.resume();
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"fake outage"}');
          return;
        }
        const upstream = request(
          { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers },
          (answer) => {
            if (mode === 'lose-response') {
              answer.resume();
              req.socket.destroy();
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => res.destroy());
        req.pipe(upstream);
      });
      server.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port;
        gate.url = `http://127.0.0.1:${port}`;
        resolve();
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
      server = null;
    });

  await listen();
  return gate;
}
