#!/usr/bin/env node
// Re-pricing at scale (issue 14): POST /v1/pricing/reprice over the newest 1 and 7 days of a database
// seeded by bench/reports.js (`node bench/reports.js --events 10000000 --keep --only '^$'`), twice per range:
// with the prices unchanged (every event read and priced again, none changed), then after an override of
// gpt-image-2's output image rate on openai (every openai event of the range changed, its rollups moved by
// the difference). After each, the range's cost in the events and in the rollups must agree to the digit.
//
//   npm run build && node bench/reprice.js --database <name> [--days 1,7] [--api dist/apps/api/src/main.js]
//
// Prints per run: events examined and changed, seconds, events per second. The database is changed (an
// override and restated costs): drop it afterwards.
'use strict';
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const { npmStartFlags, parseArgs, startService } = require('./support');

const args = parseArgs();
if (typeof args.database !== 'string') throw new Error('--database <a database seeded by bench/reports.js> is needed');
const DAYS = String(args.days ?? '1,7')
  .split(',')
  .map(Number);
const API = path.resolve(args.api ?? 'dist/apps/api/src/main.js');
const PORT = 3992;
const ADMIN = 'tt_bench_admin_key_0123456789abcdef';
const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
url.pathname = `/${args.database}`;

async function api(method, p, body) {
  const res = await fetch(`http://127.0.0.1:${PORT}${p}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
    signal: AbortSignal.timeout(3_600_000),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The range's cost and events in the raw events and in the rollups (hour-aligned ranges: both cover it whole). */
async function costs(db, from, to) {
  const [events] = (
    await db.query(
      `SELECT count(*)::text AS events, sum(cost_usd)::text AS cost FROM usage_events
       WHERE occurred_at >= $1 AND occurred_at < $2`,
      [from, to],
    )
  ).rows;
  const [rollups] = (
    await db.query(
      `SELECT sum(events)::text AS events, sum(cost_usd)::text AS cost FROM usage_rollup_live
       WHERE bucket >= $1 AND bucket < $2`,
      [from, to],
    )
  ).rows;
  return { events, rollups };
}

async function main() {
  const db = new Client({ connectionString: url.toString() });
  await db.connect();
  const stop = await startService(url.toString(), { api: API, port: PORT, adminKey: ADMIN, nodeArgs: npmStartFlags() });
  try {
    const [{ newest, oldest, total }] = (
      await db.query(
        `SELECT date_trunc('hour', max(occurred_at)) + interval '1 hour' AS newest, min(occurred_at) AS oldest,
                count(*)::bigint AS total FROM usage_events`,
      )
    ).rows;
    console.log(
      `\nRe-pricing, database ${args.database} (${Number(total).toLocaleString('en')} events), ${new Date().toISOString()}`,
    );
    console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0].model}`);
    console.log('| range | prices | events examined | changed | seconds | events/s | events = rollups |');
    console.log('|---|---|---|---|---|---|---|');
    const run = async (days, prices) => {
      const to = new Date(newest);
      const from = new Date(to.getTime() - days * 86_400_000);
      const started = process.hrtime.bigint();
      const r = await api('POST', '/v1/pricing/reprice', { from: from.toISOString(), to: to.toISOString() });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const c = await costs(db, from, to);
      const agree = c.events.events === c.rollups.events && c.events.cost === c.rollups.cost;
      console.log(
        `| ${days} day${days === 1 ? '' : 's'} | ${prices} | ${r.events_examined.toLocaleString('en')} | ` +
          `${r.events_changed.toLocaleString('en')} | ${seconds.toFixed(1)} | ` +
          `${Math.round(r.events_examined / seconds).toLocaleString('en')} | ` +
          `${agree ? 'yes' : `NO: ${JSON.stringify(c)}`} |`,
      );
    };
    for (const days of DAYS) await run(days, 'unchanged');
    await api('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-2',
      prices: { output_image: '33.000000' },
      effective_from: new Date(new Date(oldest).getTime() - 86_400_000).toISOString(),
    });
    for (const days of DAYS) await run(days, 'gpt-image-2 output image override');
  } finally {
    await stop();
    await db.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
