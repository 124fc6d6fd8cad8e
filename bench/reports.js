#!/usr/bin/env node
// Report latency on a large data set: seeds N events (default 10 million) over
// 90 days straight into PostgreSQL (generate_series, then the hourly rollup
// built from them), starts TokenTally on that database, and measures the
// spend, summary and compare-providers reports (30 days by day and provider)
// with autocannon, then the dashboard's first paint with data in Chromium.
//   npm run build && node bench/reports.js [--events 10000000] [--duration 15]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const autocannon = require('autocannon');
const { Client } = require('pg');

const args = Object.fromEntries(process.argv.slice(2).reduce((p, a, i, all) => (a.startsWith('--') ? [...p, [a.slice(2), all[i + 1]]] : p), []));
const EVENTS = Number(args.events ?? 10_000_000);
const DURATION = Number(args.duration ?? 15);
const PORT = 3991;
const ADMIN = 'tt_bench_admin_key_0123456789abcdef';
const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function main() {
  const name = `tt_bench_reports_${Date.now()}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  const child = spawn(process.execPath, ['dist/apps/api/src/main.js'], {
    env: { ...process.env, DATABASE_URL: url.toString(), PORT: String(PORT), ADMIN_API_KEY: ADMIN, LOG_LEVEL: 'warn', RUN_JOBS: 'false', PRICING_REFRESH_ON_START: 'false' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const c = new Client({ connectionString: server });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  };
  try {
    for (let i = 0; i < 120; i++) {
      try { if ((await fetch(`http://127.0.0.1:${PORT}/health`)).ok) break; } catch {}
      await new Promise((r) => setTimeout(r, 500));
    }
    const db = new Client({ connectionString: url.toString() });
    await db.connect();
    const started = Date.now();
    await db.query(`INSERT INTO projects (name) SELECT 'project-' || g FROM generate_series(1, 20) g`);
    const chunk = 1_000_000;
    for (let from = 1; from <= EVENTS; from += chunk) {
      const to = Math.min(EVENTS, from + chunk - 1);
      // 70 % openai / 30 % vercel, 20 projects of unequal size (each with its team and two features),
      // 5,000 users, edits with image input, three qualities; cost with the catalog's gpt-image-2 rates.
      await db.query(
        `INSERT INTO usage_events (project_id, event_id, occurred_at, provider, model, operation,
           input_text_tokens, input_image_tokens, output_image_tokens, images, image_size, image_quality, status,
           team, user_id, feature, environment, tags, cost_usd, cost_ingested_usd, priced)
         SELECT p.id, 'e' || g, t.at, t.provider, 'gpt-image-2', CASE WHEN g % 3 = 0 THEN 'images.edit' ELSE 'images.generate' END,
           t.text_in, t.image_in, t.image_out, 1, '1024x1024', t.quality, 'ok',
           'team-' || (p.n % 7), 'u_' || (g % 5000), 'feature-' || ((p.n + g % 2) % 11), 'prod', '{}'::jsonb,
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
      process.stderr.write(`seeded ${to.toLocaleString('en-US')} events (${Math.round((Date.now() - started) / 1000)} s)\n`);
    }
    const measures = `count(*), count(*) FILTER (WHERE NOT priced), count(*) FILTER (WHERE status = 'error'), sum(images),
      sum(input_text_tokens), sum(cached_input_text_tokens), sum(input_image_tokens), sum(cached_input_image_tokens),
      sum(output_image_tokens), sum(output_text_tokens), coalesce(sum(cost_usd), 0), coalesce(sum(cost_ingested_usd), 0)`;
    // The rollups as ingest would have built them (events carry no tags here).
    await db.query(`INSERT INTO usage_rollup_hourly
      SELECT date_trunc('hour', occurred_at, 'UTC'), project_id, provider, model, team, feature, environment,
        coalesce(image_size, ''), coalesce(image_quality, ''), ${measures}
      FROM usage_events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`);
    await db.query(`INSERT INTO usage_rollup_user_hourly
      SELECT date_trunc('hour', occurred_at, 'UTC'), project_id, provider, model, user_id, ${measures}
      FROM usage_events GROUP BY 1, 2, 3, 4, 5`);
    await db.query('ANALYZE');
    const rollupRows = (await db.query('SELECT count(*)::int AS rows FROM usage_rollup_hourly')).rows[0].rows;
    const seedSeconds = Math.round((Date.now() - started) / 1000);
    await db.end();

    const headers = { authorization: `Bearer ${ADMIN}` };
    const to = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);
    const reports = {
      spend: `/v1/reports/spend?from=${from}&to=${to}&granularity=day&group_by=provider`,
      summary: `/v1/reports/summary`,
      'compare-providers': `/v1/reports/compare-providers?from=${from}&to=${to}`,
    };
    const rows = [];
    for (const [name, path] of Object.entries(reports)) {
      const check = await fetch(`http://127.0.0.1:${PORT}${path}`, { headers });
      if (!check.ok) throw new Error(`${name}: ${check.status} ${await check.text()}`);
      const result = await autocannon({ url: `http://127.0.0.1:${PORT}${path}`, headers, connections: 4, duration: DURATION });
      rows.push(`| ${name} | ${result.requests.average} | ${result.latency.p50} | ${result.latency.p99} | ${result.non2xx + result.errors} |`);
    }

    let paint = 'not measured (no Chromium)';
    if (fs.existsSync('/usr/bin/chromium')) {
      const { chromium } = require('playwright-core');
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
      const times = [];
      const full = [];
      for (let i = 0; i < 5; i++) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        await page.goto(`http://127.0.0.1:${PORT}/`);
        await page.evaluate((key) => sessionStorage.setItem('tokentally.key', key), ADMIN);
        const t0 = Date.now();
        await page.reload();
        await page.waitForSelector('body[data-first-paint=true]', { timeout: 30000 });
        times.push(Date.now() - t0);
        await page.waitForSelector('body[data-loaded=true]', { timeout: 60000 });
        full.push(Date.now() - t0);
        await page.close();
      }
      await browser.close();
      times.sort((a, b) => a - b);
      full.sort((a, b) => a - b);
      paint = `headline figures and spend chart: median ${times[2]} ms (of 5 loads: ${times.join(', ')} ms); every panel: median ${full[2]} ms`;
    }
    console.log(`\nTokenTally reports, ${EVENTS.toLocaleString('en-US')} events over 90 days (${rollupRows.toLocaleString('en-US')} hourly rollup rows), seeded in ${seedSeconds} s`);
    console.log(`${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} x ${os.cpus()[0].model}, PostgreSQL on 127.0.0.1, 4 connections, ${DURATION} s each`);
    console.log('| report (30 days, by day and provider) | requests/s | p50 ms | p99 ms | failures |');
    console.log('|---|---|---|---|---|');
    for (const row of rows) console.log(row);
    console.log(`\ndashboard first paint with data: ${paint}`);
  } finally {
    await stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
