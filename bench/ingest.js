#!/usr/bin/env node
// Ingest throughput: autocannon in this process, TokenTally in another.
//   node bench/ingest.js [--db postgres|embedded] [--duration 20] [--connections 50] [--budgets 0] [--baseline]
// --database <name> (PostgreSQL) ingests into that existing database (one seeded by bench/reports.js
// --keep, say) instead of a fresh one, and keeps it: ingest speed with 10 or 50 million events stored.
// --baseline (PostgreSQL) also measures, in the same run and database, what PostgreSQL itself takes:
// plain multi-row INSERTs of the same rows (100 per statement, autocommit) into a table with the same
// columns and a primary key on (project_id, event_id), from 10 connections, and prints ingest's ratio to it.
// --no-singles / --no-batches skip that workload (to profile the other alone).
// --ids v7|v4: the events' ids; v7 (the default) as the SDK makes them (time-ordered UUIDv7), v4 random UUIDs
// as some other clients send. Ingest and the baseline get the same kind of ids.
// --budgets N creates N budgets (scopes that the events touch) and a webhook to a
// local receiver first, so budget evaluation and delivery run during the load; it
// then measures the time from an accepted event to its alert at the receiver.
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
const { npmStartFlags } = require('./support');

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const dbKind = args.db ?? 'postgres';
const duration = Number(args.duration ?? 20);
const connections = Number(args.connections ?? 50);
const budgets = Number(args.budgets ?? 0);
const baseline = 'baseline' in args;
const idKind = args.ids ?? 'v7';
if (idKind !== 'v7' && idKind !== 'v4') throw new Error('--ids must be v7 or v4');
const newEventId = idKind === 'v7' ? require('../libs/sdk/dist/cjs/index.js').uuidv7 : () => crypto.randomUUID();
const port = 3990;
const adminKey = 'tt_bench_admin_key_0123456789abcdef';
const root = path.resolve(__dirname, '..');

function existingPostgres(name) {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  url.pathname = `/${name}`;
  return { env: { DATABASE_URL: url.toString() }, drop: async () => undefined };
}

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
  // The service runs with the node flags of `npm start` (package.json), and BENCH_SERVICE_NODE_ARGS after them,
  // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = [...npmStartFlags(), ...(process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist/apps/api/src/main.js')], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      ...env,
      PORT: String(port),
      ADMIN_API_KEY: adminKey,
      LOG_LEVEL: 'warn',
      WEBHOOK_ALLOW_PRIVATE: 'true',
    },
    stdio: ['ignore', process.env.BENCH_SERVICE_LOGS ? 'inherit' : 'pipe', 'inherit'],
  });
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return child;
    } catch {
      // not listening yet
    }
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
    event_id: newEventId(),
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

/**
 * The senders' work (random ids, timestamps, JSON) is done before a phase starts, for ingest and for
 * the plain INSERT baseline alike: in production the senders are other machines, and on this one their
 * CPU would be taken from the service and the database being measured. Each body is used once (fresh
 * event ids); if a phase outruns them, the rest are built as it goes.
 */
function prebuiltBodies(perRequest, count) {
  let counter = 0;
  const build = () => {
    const events = Array.from({ length: perRequest }, () => event(counter++));
    return JSON.stringify(perRequest === 1 ? events[0] : { events });
  };
  const bodies = Array.from({ length: count }, build);
  let next = 0;
  return () => (next < bodies.length ? bodies[next++] : build());
}

/**
 * CPU time (ms) used so far by the service process, by the PostgreSQL backends connected to the bench's
 * database (per backend), and by this process (autocannon or the baseline's client), read from /proc (Linux).
 * Backends that exit between two readings take their time with them, so read while the connections are open;
 * the difference is taken per backend (summing first, a pool connection closed when idle between the readings
 * would subtract its whole life), and a backend that started between them counts from zero.
 */
function cpuNow(servicePid, database) {
  const ticksOf = (pid) => {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, at 100 ticks per second
  };
  const postgres = new Map();
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.startsWith('postgres: ') && cmd.split(' ').includes(database)) postgres.set(pid, ticksOf(pid));
    } catch {
      // gone meanwhile
    }
  }
  const self = process.cpuUsage();
  return { service: servicePid ? ticksOf(servicePid) : 0, postgres, bench: (self.user + self.system) / 1000 };
}

/** µs of CPU per event (or row) of each part between two cpuNow readings. */
function cpuPerEvent(before, after, events) {
  const per = (ms) => Math.round((ms * 1000) / events);
  let postgres = 0;
  for (const [pid, ms] of after.postgres) postgres += ms - (before.postgres.get(pid) ?? 0);
  return {
    service: per(after.service - before.service),
    postgres: per(postgres),
    bench: per(after.bench - before.bench),
  };
}

let measureCpu = null; // set in main(): () => cpuNow(service pid, database name), or null off Linux

/** Ingest statements and the requests they wrote so far, from GET /metrics. */
async function statementCounts() {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } });
  const text = await res.text();
  const value = (name) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    statements: value('tokentally_ingest_statements_total'),
    requests: value('tokentally_ingest_statement_requests_total'),
  };
}

async function run(name, key, perRequest) {
  const nextBody = prebuiltBodies(
    perRequest,
    Math.ceil((30_000 * duration) / perRequest / (perRequest === 1 ? 10 : 1)),
  );
  const cpuBefore = measureCpu?.();
  const countsBefore = await statementCounts();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/v1/events`,
    method: 'POST',
    connections,
    duration,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req) => {
          req.body = nextBody();
          return req;
        },
      },
    ],
  });
  const ok = result['2xx'];
  const bad = result.non2xx + result.errors + result.timeouts;
  const cpu = cpuBefore ? cpuPerEvent(cpuBefore, measureCpu(), ok * perRequest) : null;
  const countsAfter = await statementCounts();
  return {
    cpu,
    requestsPerStatement: (
      (countsAfter.requests - countsBefore.requests) /
      (countsAfter.statements - countsBefore.statements)
    ).toFixed(2),
    name,
    requestsPerSec: Math.round(ok / result.duration),
    eventsPerSec: Math.round((ok * perRequest) / result.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: bad,
  };
}

/** A webhook receiver that notes when each alert arrived. */
async function startReceiver() {
  const arrivals = [];
  const server = require('node:http').createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      arrivals.push({ at: Date.now(), json: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    arrivals,
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Budgets over scopes the load touches; amounts so large they never fire during the load. */
async function createBudgets(n, webhookId) {
  const scopes = [
    {},
    ...teams.map((team) => ({ team })),
    ...features.map((feature) => ({ feature })),
    { provider: 'vercel' },
    { tags: { campaign: 'black-friday' } },
  ];
  for (let i = 0; i < n; i++) {
    await api(adminKey, 'POST', '/v1/budgets', {
      name: `budget ${i}`,
      amount_usd: '100000000',
      period: ['day', 'week', 'month', 'quarter'][i % 4],
      scope: scopes[i % scopes.length],
      webhook_ids: [webhookId],
    });
  }
}

/** Time from a 202 to the alert at the receiver, for budgets that one event crosses. */
async function alertLatency(receiver, webhookId, samples = 5) {
  const times = [];
  for (let i = 0; i < samples; i++) {
    const project = await api(adminKey, 'POST', '/v1/projects', { name: `latency ${i}` });
    const key = await api(adminKey, 'POST', '/v1/keys', {
      name: `latency ${i}`,
      role: 'ingest',
      project_id: project.id,
    });
    const budget = await api(adminKey, 'POST', '/v1/budgets', {
      name: `latency ${i}`,
      amount_usd: '0.01',
      period: 'month',
      scope: { project: project.id },
      thresholds_pct: [100],
      webhook_ids: [webhookId],
    });
    const accepted = Date.now();
    await api(key.key, 'POST', '/v1/events', { events: [event(i)] });
    for (;;) {
      const hit = receiver.arrivals.find((a) => a.json.data?.budget_id === budget.id);
      if (hit) {
        times.push(hit.at - accepted);
        break;
      }
      if (Date.now() - accepted > 60_000) throw new Error('alert did not arrive within 60 s');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return times;
}

/**
 * PostgreSQL's own pace for the same rows: 10 connections sending multi-row INSERTs of 100 rows (the
 * columns ingest stores, with its cost) into a plain table with a primary key, for `duration` seconds.
 */
async function rawInsertBaseline(env, projectId) {
  const columns = [
    'project_id',
    'event_id',
    'occurred_at',
    'provider',
    'model',
    'operation',
    'input_text_tokens',
    'input_image_tokens',
    'output_image_tokens',
    'images',
    'image_size',
    'image_quality',
    'status',
    'latency_ms',
    'team',
    'user_id',
    'feature',
    'environment',
    'tags',
    'cost_usd',
    'cost_ingested_usd',
    'priced',
    'pricing',
  ];
  const setup = new Client({ connectionString: env.DATABASE_URL });
  await setup.connect();
  await setup.query(`DROP TABLE IF EXISTS bench_raw_events`);
  await setup.query(
    `CREATE TABLE bench_raw_events (LIKE usage_events INCLUDING DEFAULTS, PRIMARY KEY (project_id, event_id))`,
  );
  await setup.end();
  const rowOf = (e) => [
    projectId,
    e.event_id,
    e.timestamp,
    e.provider,
    e.model,
    e.operation,
    e.usage.input_text_tokens,
    e.usage.input_image_tokens,
    e.usage.output_image_tokens,
    e.images,
    e.image_size,
    e.image_quality,
    e.status,
    e.latency_ms,
    e.dimensions.team,
    e.dimensions.user,
    e.dimensions.feature,
    e.dimensions.environment,
    JSON.stringify(e.tags),
    '0.135720',
    '0.135720',
    true,
    'priced',
  ];
  const placeholders = Array.from(
    { length: 100 },
    (_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`,
  ).join(', ');
  const sql = `INSERT INTO bench_raw_events (${columns.join(', ')}) VALUES ${placeholders}`;
  // Rows built before the clock starts, as ingest's bodies are (prebuiltBodies).
  const statements = Array.from({ length: Math.ceil((60_000 * duration) / 100) }, (_, s) =>
    Array.from({ length: 100 }, (_, i) => rowOf(event(s * 100 + i))).flat(),
  );
  let built = statements.length * 100;
  let next = 0;
  const nextValues = () =>
    next < statements.length ? statements[next++] : Array.from({ length: 100 }, () => rowOf(event(built++))).flat();
  const clients = await Promise.all(
    Array.from({ length: 10 }, async () => {
      const client = new Client({ connectionString: env.DATABASE_URL });
      await client.connect();
      return client;
    }),
  );
  let rows = 0;
  const deadline = Date.now() + duration * 1000;
  const started = Date.now();
  const cpuBefore = measureCpu?.();
  await Promise.all(
    clients.map(async (client) => {
      while (Date.now() < deadline) {
        await client.query(sql, nextValues());
        rows += 100;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const cpu = cpuBefore ? cpuPerEvent(cpuBefore, measureCpu(), rows) : null;
  await Promise.all(clients.map((client) => client.end()));
  return { rowsPerSec: Math.round(rows / seconds), cpu };
}

async function main() {
  const db =
    dbKind === 'embedded'
      ? freshEmbedded()
      : typeof args.database === 'string'
        ? existingPostgres(args.database)
        : await freshPostgres();
  const child = await startService(db.env);
  const database = db.env.DATABASE_URL ? new URL(db.env.DATABASE_URL).pathname.slice(1) : null;
  if (fs.existsSync('/proc/self/stat') && database) measureCpu = () => cpuNow(child.pid, database);
  const receiver = await startReceiver();
  try {
    const project = await api(adminKey, 'POST', '/v1/projects', { name: `bench ${Date.now()}` });
    const ingest = await api(adminKey, 'POST', '/v1/keys', { name: 'bench', role: 'ingest', project_id: project.id });
    let webhook = null;
    if (budgets > 0) {
      webhook = await api(adminKey, 'POST', '/v1/webhooks', {
        url: receiver.url,
        events: ['budget.threshold_reached', 'budget.forecast_exceeded'],
      });
      await createBudgets(budgets, webhook.id);
    }
    await run('warm-up', ingest.key, 100).catch(() => undefined);
    const rows = [];
    if (!('no-batches' in args)) rows.push(await run('batches of 100', ingest.key, 100));
    if (!('no-singles' in args)) rows.push(await run('single events', ingest.key, 1));
    const latencies = webhook ? await alertLatency(receiver, webhook.id) : null;
    const raw = baseline && dbKind === 'postgres' ? await rawInsertBaseline(db.env, project.id) : null;
    console.log(
      `\nTokenTally ingest, ${dbKind} database, ${connections} connections, ${duration} s each, ${budgets} budgets, ` +
        `event ids ${idKind}, ${new Date().toISOString()}`,
    );
    console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0].model}`);
    console.log('| workload | requests/s | events/s | p50 ms | p99 ms | failures |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows)
      console.log(`| ${r.name} | ${r.requestsPerSec} | ${r.eventsPerSec} | ${r.p50} | ${r.p99} | ${r.failures} |`);
    if (raw)
      console.log(
        `plain multi-row INSERT of the same rows (100 per statement, 10 connections): ${raw.rowsPerSec} rows/s; ` +
          `ingest in batches of 100 reaches **${(rows[0]?.eventsPerSec / raw.rowsPerSec).toFixed(2)}** of it`,
      );
    if (measureCpu) {
      console.log('CPU µs per event (per row for the baseline): service | PostgreSQL | this process (load or client)');
      for (const r of rows) console.log(`${r.name}: ${r.cpu.service} | ${r.cpu.postgres} | ${r.cpu.bench}`);
      for (const r of rows) console.log(`${r.name}: ${r.requestsPerStatement} requests per ingest statement`);
      if (raw) console.log(`plain INSERT: - | ${raw.cpu.postgres} | ${raw.cpu.bench}`);
    }
    if (latencies)
      console.log(
        `event accepted -> alert at the receiver, ms: ${latencies.join(', ')} (max ${Math.max(...latencies)})`,
      );
  } finally {
    await receiver.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    if (process.env.BENCH_KEEP_DB) console.log('kept database:', JSON.stringify(db.env));
    else await db.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
