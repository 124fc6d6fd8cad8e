import * as fs from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';

export type SourceMode = 'ok' | 'error500' | 'hang' | 'broken';
type Name = 'litellm' | 'openrouter' | 'vercel';

const FIXTURES = path.join(__dirname, '../fixtures/pricing');

/**
 * Serves LiteLLM's price file, OpenRouter's and Vercel AI Gateway's model
 * lists (trimmed real samples in test/fixtures/pricing), editable per test,
 * and able to fail: 500, no answer, or broken JSON.
 */
export interface FakePriceSources {
  urls: Record<Name, string>;
  documents: Record<Name, any>;
  modes: Record<Name, SourceMode>;
  hits: Record<Name, number>;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakePriceSources(): Promise<FakePriceSources> {
  const load = (): Record<Name, any> => ({
    litellm: JSON.parse(fs.readFileSync(path.join(FIXTURES, 'litellm.json'), 'utf8')),
    openrouter: JSON.parse(fs.readFileSync(path.join(FIXTURES, 'openrouter.json'), 'utf8')),
    vercel: JSON.parse(fs.readFileSync(path.join(FIXTURES, 'vercel.json'), 'utf8')),
  });
  const routes: Record<string, Name> = {
    '/litellm/model_prices_and_context_window.json': 'litellm',
    '/openrouter/api/v1/models': 'openrouter',
    '/vercel/v1/models': 'vercel',
  };
  const fake: FakePriceSources = {
    urls: {} as Record<Name, string>,
    documents: load(),
    modes: { litellm: 'ok', openrouter: 'ok', vercel: 'ok' },
    hits: { litellm: 0, openrouter: 0, vercel: 0 },
    reset: () => {
      fake.documents = load();
      fake.modes = { litellm: 'ok', openrouter: 'ok', vercel: 'ok' };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const name = routes[(req.url ?? '').split('?')[0]];
    if (!name) return res.writeHead(404).end();
    fake.hits[name]++;
    switch (fake.modes[name]) {
      case 'hang':
        return; // never answers
      case 'error500':
        return res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream exploded');
      case 'broken':
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"data": [{"id": "openai/gpt-image-2", "pricing": ');
      default:
        // LiteLLM's file has JSON numbers: written with JSON.stringify they keep their spelling (5e-06).
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fake.documents[name], null, 2));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.urls = {
    litellm: `${base}/litellm/model_prices_and_context_window.json`,
    openrouter: `${base}/openrouter/api/v1/models?output_modalities=all`,
    vercel: `${base}/vercel/v1/models`,
  };
  return fake;
}
