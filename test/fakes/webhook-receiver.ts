import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  /** The payload as `standardwebhooks` verified it with the secret; null when no secret was set. */
  verified: unknown;
  /** When it arrived (Date.now()), for tests that measure how soon an alert goes out. */
  receivedAt: number;
}

/**
 * A webhook receiver, as a customer would run one: a real HTTP server that
 * checks every Standard Webhooks signature with the `standardwebhooks`
 * package (wrong signatures are answered 401 and counted). It can be taken
 * down and brought back on the same port, or told which status to answer.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  readonly rejected: Array<{ headers: IncomingHttpHeaders; body: string; error: string }> = [];
  /** Status to answer; 2xx records the message as received. */
  status = 204;
  /** Extra headers of the answer (Retry-After, Location). */
  answerHeaders: Record<string, string> = {};
  secrets: string[] = [];
  private server: Server | null = null;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let verified: unknown = null;
        if (this.secrets.length > 0) {
          const errors: string[] = [];
          verified = undefined;
          for (const secret of this.secrets) {
            try {
              verified = new Webhook(secret).verify(body, req.headers as Record<string, string>);
              break;
            } catch (error) {
              errors.push(String((error as Error).message));
            }
          }
          if (verified === undefined) {
            this.rejected.push({ headers: req.headers, body, error: errors.join('; ') });
            res.writeHead(401).end('bad signature');
            return;
          }
        }
        if (this.status >= 200 && this.status < 300)
          this.received.push({ headers: req.headers, body, json: JSON.parse(body), verified, receivedAt: Date.now() });
        res.writeHead(this.status, this.answerHeaders).end(this.status >= 400 ? 'nope' : '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening: deliveries meet "connection refused" until start() again. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Received messages by Standard Webhooks id: each id must appear once. */
  idCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.received)
      counts.set(String(r.headers['webhook-id']), (counts.get(String(r.headers['webhook-id'])) ?? 0) + 1);
    return counts;
  }

  ofType(type: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.json.type === type || (type === 'slack' && r.json.blocks));
  }
}
