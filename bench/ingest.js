#!/usr/bin/env node
// Ingest throughput: autocannon in this process, TokenTally in another.
//   node bench/ingest.js [--db postgres|embedded] [--duration 20] [--connections 50]
// With --db postgres it uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
// and creates a fresh database for the run. Needs `npm run build` first.
'use strict';
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { Client } = require('pg');

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const dbKind = args.db ?? 'postgres';
const duration = Number(args.duration ?? 20);
const connections = Number(args.connections ?? 50);
const port = 3990;
const adminKey = 'tt_bench_admin_key_0123456789abcdef';
const root = path.resolve(__dirname, '..');

async function freshPostgres() {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `tt_bench_${Date.now()}`;
  const client = new Client({ connectionString: server });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    drop: async () => {
      const c = new Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

function freshEmbedded() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tt-bench-'));
  return { env: { DATA_DIR: dir }, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function startService(env) {
  const child = spawn(process.execPath, [path.join(root, 'dist/apps/api/src/main.js')], {
    env: { ...process.env, DATABASE_URL: '', ...env, PORT: String(port), ADMIN_API_KEY: adminKey, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('service did not start');
}

async function api(key, method, p, body) {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  return res.json();
}

const teams = ['growth', 'core', 'search', 'ads'];
const features = ['avatars', 'thumbnails', 'banners', 'edits', 'stickers'];
function event(i) {
  return {
    event_id: crypto.randomUUID(),
    timestamp: new Date(Date.now() - (i % 3600) * 1000).toISOString(),
    provider: i % 3 ? 'openai' : 'vercel',
    model: 'gpt-image-2',
    operation: i % 2 ? 'images.generate' : 'images.edit',
    usage: { input_text_tokens: 100 + (i % 50), input_image_tokens: i % 2 ? 0 : 1290, output_image_tokens: 4160 },
    images: 1,
    image_size: '1024x1024',
    image_quality: 'high',
    status: 'ok',
    latency_ms: 8000 + (i % 1000),
    dimensions: { team: teams[i % 4], user: `u_${i % 200}`, feature: features[i % 5], environment: 'prod' },
    tags: { campaign: i % 7 ? 'evergreen' : 'black-friday' },
  };
}

async function run(name, key, perRequest) {
  let counter = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/v1/events`,
    method: 'POST',
    connections,
    duration,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req) => {
          const events = Array.from({ length: perRequest }, () => event(counter++));
          req.body = JSON.stringify(perRequest === 1 ? events[0] : { events });
          return req;
        },
      },
    ],
  });
  const ok = result['2xx'];
  const bad = result.non2xx + result.errors + result.timeouts;
  return {
    name,
    requestsPerSec: Math.round(ok / result.duration),
    eventsPerSec: Math.round((ok * perRequest) / result.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: bad,
  };
}

async function main() {
  const db = dbKind === 'embedded' ? freshEmbedded() : await freshPostgres();
  const child = await startService(db.env);
  try {
    const project = await api(adminKey, 'POST', '/v1/projects', { name: 'bench' });
    const ingest = await api(adminKey, 'POST', '/v1/keys', { name: 'bench', role: 'ingest', project_id: project.id });
    await run('warm-up', ingest.key, 100).catch(() => undefined);
    const rows = [await run('batches of 100', ingest.key, 100), await run('single events', ingest.key, 1)];
    console.log(`\nTokenTally ingest, ${dbKind} database, ${connections} connections, ${duration} s each, ${new Date().toISOString()}`);
    console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0].model}`);
    console.log('| workload | requests/s | events/s | p50 ms | p99 ms | failures |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.name} | ${r.requestsPerSec} | ${r.eventsPerSec} | ${r.p50} | ${r.p99} | ${r.failures} |`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await db.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
