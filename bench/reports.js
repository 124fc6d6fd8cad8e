#!/usr/bin/env node
// Report latency on a large data set: seeds N events (default 10 million) over
// 90 days straight into PostgreSQL (generate_series, then every rollup the
// schema has, built from them as ingest would), starts TokenTally on that
// database, and measures with autocannon every report the dashboard calls
// (summary, spend by the chosen dimension, the top-5 panels, tokens,
// compare-providers, performance, pricing, coverage, budgets with status,
// alerts), spend grouped by user, and filtered calls (team + tag, user).
//
//   npm run build && node bench/reports.js [--events 10000000] [--duration 15] [--connections 4]
//     [--api dist/apps/api/src/main.js]   the build to measure (another checkout's, for "before")
//     [--keep]                            keep the seeded database (its name is printed)
//     [--database <name>]                 measure an existing seeded database (no seeding)
//     [--only <regexp>]                   measure the reports whose name matches
//     [--json <file>]                     write the figures as JSON
//     [--baseline <main.js> --baseline-database <name>]
//                                         also run that build ("before") on that seeded database
//                                         and measure each report on both, one right after the
//                                         other, so that both meet the same load on the machine
//
// The seeded database is built by whatever schema the measured build migrates
// to: the rollups are found in information_schema and filled with the columns
// they have, so an older build is measured on the same events.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { Client } = require('pg');
const { parseArgs, startService: startApi } = require('./support');

const args = parseArgs();
const EVENTS = Number(args.events ?? 10_000_000);
const DURATION = Number(args.duration ?? 15);
const CONNECTIONS = Number(args.connections ?? 4);
const API = path.resolve(args.api ?? 'dist/apps/api/src/main.js');
const PORT = 3991;
const ADMIN = 'tt_bench_admin_key_0123456789abcdef';
const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function adminQuery(sql) {
  const c = new Client({ connectionString: server });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function databaseUrl(name) {
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

function startService(url, api = API, port = PORT) {
  return startApi(url, { api, port, adminKey: ADMIN });
}

/**
 * The events: 70 % openai / 30 % vercel, 20 projects of unequal size (each
 * with its team and two features), 5,000 users (each in one project, on one
 * provider), edits with image input, three qualities, 2 % errors, a latency
 * on 99 % of the calls, a campaign tag on half of them; cost with the
 * catalog's gpt-image-2 rates.
 */
async function seedEvents(db) {
  const started = Date.now();
  await db.query(`INSERT INTO projects (name) SELECT 'project-' || g FROM generate_series(1, 20) g`);
  // The monthly tables of raw events over the 90 days, as ingest would make them for late events.
  const { rows: months } = await db.query(
    `SELECT DISTINCT date_trunc('month', d, 'UTC') AS month
     FROM generate_series(now() - interval '91 days', now(), interval '1 day') d`,
  );
  for (const { month } of months) {
    const start = new Date(month);
    const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    const name = `usage_events_y${start.getUTCFullYear()}m${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF usage_events FOR VALUES FROM ('${start.toISOString()}') TO ('${end.toISOString()}')`,
    );
  }
  const chunk = 1_000_000;
  for (let from = 1; from <= EVENTS; from += chunk) {
    const to = Math.min(EVENTS, from + chunk - 1);
    await db.query(
      `INSERT INTO usage_events (project_id, event_id, occurred_at, provider, model, operation,
         input_text_tokens, input_image_tokens, output_image_tokens, images, image_size, image_quality, status, latency_ms,
         team, user_id, feature, environment, tags, cost_usd, cost_ingested_usd, priced)
       SELECT p.id, 'e' || g, t.at, t.provider, 'gpt-image-2', CASE WHEN g % 3 = 0 THEN 'images.edit' ELSE 'images.generate' END,
         t.text_in, t.image_in, t.image_out, 1, '1024x1024', t.quality, CASE WHEN g % 50 = 7 THEN 'error' ELSE 'ok' END,
         CASE WHEN g % 100 = 3 THEN NULL ELSE 2000 + (g * 7919) % 9000 END,
         'team-' || (p.n % 7), 'u_' || (g % 5000), 'feature-' || ((p.n + g % 2) % 11), 'prod',
         CASE WHEN g % 2 = 0 THEN jsonb_build_object('campaign', 'c' || (g / 2) % 6) ELSE '{}'::jsonb END,
         t.cost, t.cost, true
       FROM generate_series($1::bigint, $2::bigint) g
       CROSS JOIN LATERAL (SELECT
           now() - interval '90 days' * (g::float8 / $3) AS at,
           CASE WHEN g % 10 < 7 THEN 'openai' ELSE 'vercel' END AS provider,
           100 + g % 60 AS text_in,
           CASE WHEN g % 3 = 0 THEN 1290 ELSE 0 END AS image_in,
           (ARRAY[272, 1056, 4160])[1 + g % 3] AS image_out,
           (ARRAY['low', 'medium', 'high'])[1 + g % 3] AS quality) t0
       CROSS JOIN LATERAL (SELECT t0.*,
           CASE WHEN t0.provider = 'openai'
             THEN (t0.text_in * 5 + t0.image_in * 8 + t0.image_out * 30)::numeric / 1000000
             ELSE ((t0.text_in + t0.image_in) * 5 + t0.image_out * 30)::numeric / 1000000 END AS cost) t
       JOIN (SELECT id, row_number() OVER (ORDER BY name) - 1 AS n FROM projects) p ON p.n = (g * g) % 20`,
      [from, to, EVENTS],
    );
    process.stderr.write(
      `seeded ${to.toLocaleString('en-US')} events (${Math.round((Date.now() - started) / 1000)} s)\n`,
    );
  }
  // Each event's key, as ingest stores it beside the event (replays are found there).
  await db.query(
    `INSERT INTO usage_event_keys (project_id, event_id, occurred_at) SELECT project_id, event_id, occurred_at FROM usage_events`,
  );
}

/** The value of each rollup column, from usage_events `e` (and its tag `t`), whatever the schema's version. */
function rollupExpression(column, grain) {
  const exprs = {
    bucket: `date_trunc('${grain}', e.occurred_at, 'UTC')`,
    image_size: `coalesce(e.image_size, '')`,
    image_quality: `coalesce(e.image_quality, '')`,
    tag_key: 't.key',
    tag_value: 't.value',
    events: 'count(*)',
    unpriced_events: `count(*) FILTER (WHERE NOT e.priced)`,
    error_events: `count(*) FILTER (WHERE e.status = 'error')`,
    cost_usd: 'coalesce(sum(e.cost_usd), 0)',
    cost_ingested_usd: 'coalesce(sum(e.cost_ingested_usd), 0)',
    partial_events: '0',
    partial_cost_usd: '0',
    per_image_images: `coalesce(sum(e.images) FILTER (WHERE e.output_image_tokens = 0 AND e.status = 'ok'), 0)`,
    latency_ms_sum: 'coalesce(sum(e.latency_ms), 0)',
    latency_events: 'count(e.latency_ms)',
  };
  if (exprs[column]) return exprs[column];
  if (/_tokens$|^images$/.test(column)) return `sum(e.${column})`;
  return `e.${column}`; // a key column of the same name (project_id, provider, team, user_id, ...)
}
const MEASURE =
  /^(events|unpriced_events|error_events|images|.*_tokens|cost_usd|cost_ingested_usd|partial_events|partial_cost_usd|per_image_images|latency_ms_sum|latency_events)$/;

/**
 * Every rollup table of the schema, filled as ingest and the compactor would
 * have, in time order (the compactor appends each second's rows, so a table's
 * rows of one hour lie together).
 */
async function buildRollups(db) {
  const { rows: tables } = await db.query(
    `SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position) AS columns FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name LIKE 'usage\\_rollup\\_%' AND table_name NOT LIKE '%\\_deltas' AND table_name NOT LIKE '%\\_live'
     GROUP BY table_name ORDER BY table_name`,
  );
  for (const { table_name: table, columns } of tables) {
    const started = Date.now();
    const grain = table.endsWith('_monthly') ? 'month' : table.endsWith('_daily') ? 'day' : 'hour';
    const keys = columns.filter((c) => !MEASURE.test(c));
    const fanOut = table.includes('_tag_') ? ', jsonb_each_text(e.tags) t' : '';
    await db.query(`
      INSERT INTO ${table} (${columns.join(', ')})
      SELECT ${columns.map((c) => rollupExpression(c, grain)).join(', ')}
      FROM usage_events e${fanOut}
      GROUP BY ${keys.map((c) => columns.indexOf(c) + 1).join(', ')}
      ORDER BY ${columns.indexOf('bucket') + 1}`);
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${table}`);
    process.stderr.write(
      `${table}: ${rows[0].n.toLocaleString('en-US')} rows (${Math.round((Date.now() - started) / 1000)} s)\n`,
    );
  }
  await db.query('VACUUM (ANALYZE)');
}

/** A few budgets the dashboard's budget panel measures: the whole org, a team, a user, a tag. */
async function createBudgets(base, headers) {
  const budgets = [
    { name: 'all', amount_usd: '100000.00', period: 'month', scope: {} },
    { name: 'team-3', amount_usd: '5000.00', period: 'month', scope: { team: 'team-3' } },
    { name: 'u_42', amount_usd: '50.00', period: 'month', scope: { user: 'u_42' } },
    {
      name: 'campaign c1',
      amount_usd: '2000.00',
      period: 'week',
      timezone: 'Europe/Berlin',
      scope: { tags: { campaign: 'c1' } },
    },
  ];
  const { data } = await (await fetch(`${base}/v1/budgets`, { headers })).json();
  if (data.length > 0) return;
  for (const b of budgets) {
    const res = await fetch(`${base}/v1/budgets`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(b),
    });
    if (!res.ok) throw new Error(`budget ${b.name}: ${res.status} ${await res.text()}`);
  }
}

/** Every call the dashboard makes for a 30-day range by day (as the dashboard asks it), and the filtered variants. */
function reportsToMeasure(tz) {
  const to = new Date().toISOString().slice(0, 10);
  const from = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);
  const range = `from=${from}&to=${to}&granularity=day&tz=${encodeURIComponent(tz)}`;
  const coverage = `from=${new Date(Date.parse(from)).toISOString()}&to=${new Date(Date.parse(to) + 86400000).toISOString()}`;
  return {
    'summary (month)': `/v1/reports/summary?tz=${encodeURIComponent(tz)}&period=month`,
    'spend by provider': `/v1/reports/spend?${range}&group_by=provider`,
    'spend by user': `/v1/reports/spend?${range}&group_by=user`,
    'top 5 projects': `/v1/reports/spend?${range}&group_by=project&limit=5`,
    'top 5 teams': `/v1/reports/spend?${range}&group_by=team&limit=5`,
    'top 5 users': `/v1/reports/spend?${range}&group_by=user&limit=5`,
    'top 5 features': `/v1/reports/spend?${range}&group_by=feature&limit=5`,
    tokens: `/v1/reports/tokens?${range}`,
    'compare-providers': `/v1/reports/compare-providers?${range}`,
    performance: `/v1/reports/performance?${range}`,
    pricing: `/v1/pricing`,
    'pricing coverage': `/v1/pricing/coverage?${coverage}`,
    'budgets with status': `/v1/budgets?with_status=1`,
    alerts: `/v1/alerts`,
    'spend, team + tag filter': `/v1/reports/spend?${range}&group_by=provider&team=team-3&tag:campaign=c1`,
    'spend, user filter': `/v1/reports/spend?${range}&group_by=provider&user=u_42`,
    'summary, user filter': `/v1/reports/summary?tz=${encodeURIComponent(tz)}&period=month&user=u_42`,
    'performance, user filter': `/v1/reports/performance?${range}&user=u_42`,
    'spend by user, Kolkata': `/v1/reports/spend?${range.replace(encodeURIComponent(tz), 'Asia/Kolkata')}&group_by=user`,
  };
}

/**
 * Waits until the databases of the services run no statement but ours:
 * autocannon stops at the end of its duration, and the statements of
 * requests still running would otherwise weigh on the next figures.
 */
async function settle(services) {
  const [{ db }] = services;
  const names = services.map((s) => s.database);
  const ours = services.map((s) => s.pid);
  for (let i = 0; i < 600; i++) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ANY($1) AND state = 'active' AND pid <> ALL($2)`,
      [names, ours],
    );
    if (rows[0].n === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * One report on one service: autocannon for DURATION seconds; when not one
 * answer came back in that time (the slowest reports before issue 12), three
 * requests one after the other instead (p50 their median, p99 their maximum).
 */
async function measureOne(base, path, headers) {
  const check = await fetch(`${base}${path}`, { headers });
  if (check.status === 404) return { missing: true };
  if (!check.ok) throw new Error(`${base}${path}: ${check.status} ${await check.text()}`);
  // A slow report is measured, not cut off at autocannon's 10 s default.
  const r = await autocannon({
    url: `${base}${path}`,
    headers,
    connections: CONNECTIONS,
    duration: DURATION,
    timeout: 120,
  });
  if (r.latency.totalCount > 0)
    return {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      failures: r.non2xx + r.errors,
    };
  const times = [];
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    const res = await fetch(`${base}${path}`, { headers });
    await res.arrayBuffer();
    times.push(Date.now() - t0);
  }
  times.sort((x, y) => x - y);
  return { rps: null, p50: times[1], p99: times[2], max: times[2], failures: 0, sequential: true };
}

/** Every report on the measured service (and the baseline, alternating which goes first). */
async function measure(services, headers) {
  const results = [];
  const only = args.only ? new RegExp(args.only) : null;
  let i = 0;
  for (const [name, path] of Object.entries(reportsToMeasure('UTC'))) {
    if (only && !only.test(name)) continue;
    const order = i++ % 2 === 0 ? services : [...services].reverse();
    const row = { name, path };
    for (const service of order) {
      await settle(services);
      row[service.role] = await measureOne(service.base, path, headers);
    }
    results.push(row);
    const fmt = (m) =>
      !m ? '' : m.missing ? 'n/a' : `p50 ${m.p50} ms, p99 ${m.p99} ms${m.sequential ? ' (sequential)' : ''}`;
    process.stderr.write(`${name}: ${services.map((s) => `${s.role} ${fmt(row[s.role])}`).join('; ')}\n`);
  }
  return results;
}

/**
 * The dashboard in Chromium, on the seeded database: from the click on "Open
 * dashboard" to every panel of the overview drawn (bench/dashboard-chromium.js).
 */
async function dashboardInChromium(base, adminKey) {
  const result = await require('./dashboard-chromium').dashboardInChromium(base, adminKey, {
    loads: 7,
    query: '?tz=UTC',
  });
  return result && result.summary;
}

async function main() {
  const reuse = typeof args.database === 'string' ? args.database : null;
  const name = reuse ?? `tt_bench_reports_${Date.now()}`;
  if (!reuse) await adminQuery(`CREATE DATABASE ${name}`);
  const services = [];
  let seedSeconds = null;
  try {
    const after = { role: 'after', api: API, database: name, base: `http://127.0.0.1:${PORT}` };
    after.stop = await startService(databaseUrl(name));
    services.push(after);
    after.db = new Client({ connectionString: databaseUrl(name) });
    await after.db.connect();
    if (!reuse) {
      const started = Date.now();
      await seedEvents(after.db);
      await buildRollups(after.db);
      seedSeconds = Math.round((Date.now() - started) / 1000);
    }
    if (typeof args.baseline === 'string') {
      const database = args['baseline-database'];
      if (typeof database !== 'string')
        throw new Error('--baseline needs --baseline-database <a database seeded for that build>');
      const before = {
        role: 'before',
        api: path.resolve(args.baseline),
        database,
        base: `http://127.0.0.1:${PORT + 1}`,
      };
      before.stop = await startService(databaseUrl(database), before.api, PORT + 1);
      services.unshift(before);
      before.db = new Client({ connectionString: databaseUrl(database) });
      await before.db.connect();
    }
    const headers = { authorization: `Bearer ${ADMIN}` };
    for (const s of services) {
      s.pid = (await s.db.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      s.events = Number((await s.db.query(`SELECT count(*)::bigint AS n FROM usage_events`)).rows[0].n);
      await createBudgets(s.base, headers);
    }
    const results = await measure(services, headers);
    const chromium = args.only ? null : await dashboardInChromium(after.base, ADMIN);

    const when = new Date().toISOString();
    const machine = `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0].model}, PostgreSQL on 127.0.0.1`;
    const described = services.map(({ role, api, database, events }) => ({ role, api, database, events }));
    if (args.json)
      fs.writeFileSync(
        args.json,
        JSON.stringify(
          { when, machine, connections: CONNECTIONS, duration: DURATION, services: described, results },
          null,
          2,
        ),
      );
    console.log(
      `\nTokenTally reports, ${when}, ${machine}, ${CONNECTIONS} connections, ${DURATION} s each${seedSeconds ? `; seeded in ${seedSeconds} s` : ''}`,
    );
    for (const s of described)
      console.log(`${s.role}: ${s.api} on ${s.database} (${s.events.toLocaleString('en-US')} events over 90 days)`);
    const cell = (m, k) => (!m ? '-' : m.missing ? 'n/a' : m[k] === null ? 'seq.' : String(m[k]));
    const roles = services.map((s) => s.role);
    console.log(
      `| report (30 days by day, UTC) | ${roles.map((r) => `${r} p50 ms | ${r} p99 ms`).join(' | ')} | ${roles.at(-1)} requests/s | failures |`,
    );
    console.log(`|---|${roles.map(() => '---|---|').join('')}---|---|`);
    for (const r of results) {
      const last = r[roles.at(-1)];
      console.log(
        `| ${r.name} | ${roles.map((role) => `${cell(r[role], 'p50')} | ${cell(r[role], 'p99')}`).join(' | ')} | ${cell(last, 'rps')} | ${roles.map((role) => cell(r[role], 'failures')).join(' / ')} |`,
      );
    }
    console.log(`\ndashboard in Chromium (${after.role}): ${chromium ?? 'not measured here'}`);
  } finally {
    for (const s of services) {
      await s.db?.end().catch(() => undefined);
      await s.stop();
    }
    if (!reuse && !args.keep) await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    else console.log(`kept database ${name}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
