#!/usr/bin/env node
// Generates an image through a local fake OpenAI server with the real `openai`
// client and @tokentally/openai, then shows the event as TokenTally stored it.
//
//   npm start                                   # in one terminal (prints the admin key)
//   TOKENTALLY_ADMIN_KEY=tt_... node libs/sdk/examples/generate-image.js
//
// TOKENTALLY_URL defaults to http://127.0.0.1:3000. Needs `npm run build` (npm start does it).
'use strict';
const http = require('node:http');
const OpenAI = require('openai').default;
const { withTokenTally, tokenTallyOf } = require('..');

const TOKENTALLY_URL = process.env.TOKENTALLY_URL ?? 'http://127.0.0.1:3000';
const ADMIN_KEY = process.env.TOKENTALLY_ADMIN_KEY;

// A fake OpenAI Images API answering in the real wire format.
function startFakeOpenAI() {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const { prompt = '', size = '1024x1024', quality = 'high' } = JSON.parse(body || '{}');
      const textTokens = Math.ceil(prompt.length / 4);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          created: Math.floor(Date.now() / 1000),
          data: [
            {
              b64_json:
                'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
            },
          ],
          size,
          quality,
          output_format: 'png',
          usage: {
            input_tokens: textTokens,
            input_tokens_details: { text_tokens: textTokens, image_tokens: 0 },
            output_tokens: 4160,
            total_tokens: textTokens + 4160,
          },
        }),
      );
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function tokentally(key, method, path, body) {
  const res = await fetch(TOKENTALLY_URL + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function main() {
  if (!ADMIN_KEY) throw new Error('Set TOKENTALLY_ADMIN_KEY to the admin key npm start printed.');
  const project = await tokentally(ADMIN_KEY, 'POST', '/v1/projects', { name: `example-${Date.now()}` });
  const { key } = await tokentally(ADMIN_KEY, 'POST', '/v1/keys', {
    name: 'example app',
    role: 'ingest',
    project_id: project.id,
  });

  const fake = await startFakeOpenAI();
  const openai = withTokenTally(
    new OpenAI({ apiKey: 'sk-example', baseURL: `http://127.0.0.1:${fake.address().port}/v1` }),
    {
      endpoint: TOKENTALLY_URL,
      apiKey: key,
      provider: 'openai', // the fake runs on 127.0.0.1; against api.openai.com this is detected
      dimensions: { team: 'growth', feature: 'avatars', environment: 'dev' },
    },
  );

  const image = await openai.images.generate({
    model: 'gpt-image-2',
    prompt: 'A watercolor fox reading a ledger',
    size: '1024x1024',
    quality: 'high',
  });
  console.log(`generated ${image.data.length} image(s) of ${image.size}, ${image.usage.output_tokens} output tokens`);

  await tokenTallyOf(openai).shutdown();
  fake.close();

  const { data } = await tokentally(ADMIN_KEY, 'GET', `/v1/events?project=${project.id}`);
  console.log('TokenTally stored:');
  console.log(JSON.stringify(data[0], null, 2));
}

main().catch((error) => {
  console.error(error.message ?? error);
  process.exit(1);
});
