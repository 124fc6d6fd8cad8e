import 'reflect-metadata';
import { ApiKeysService } from '@tokentally/auth';
import { BudgetEvaluator } from '@tokentally/budgets';
import { createLogger, loadConfigOrExit, redactSecrets } from '@tokentally/common';
import { displayUsd } from '@tokentally/core';
import { RollupCompactor } from '@tokentally/ingest';
import { WebhookDispatcher } from '@tokentally/webhooks';
import { createApp } from './app';
import { seedDemo } from './demo-seed';

/**
 * `npm run demo`: starts the service (the embedded database unless
 * DATABASE_URL is set), fills it through its own HTTP API (demo-seed.ts), runs
 * the budget and anomaly pass at once instead of waiting for the minute, and
 * keeps serving: open the URL it prints and paste the viewer key.
 * `npm run demo -- --exit` fills and stops (then `npm start`).
 *
 * The demo's webhook points at 127.0.0.1:9, where nobody listens, so it lifts
 * the private-address guard for itself (WEBHOOK_ALLOW_PRIVATE=true); a later
 * `npm start` without it refuses that address at each delivery, which fails
 * the same way.
 */
async function main(): Promise<void> {
  const exitAfterSeeding = process.argv.includes('--exit');
  const config = loadConfigOrExit(
    { ...process.env, WEBHOOK_ALLOW_PRIVATE: 'true', PRICING_REFRESH_ON_START: 'false' },
    'TokenTally demo',
  );
  // Errors only: the demo's webhook fails on purpose, and each attempt would log a warning.
  const { app, createdAdminKey } = await createApp(config, createLogger({ ...config, logLevel: 'error' }));
  app.enableShutdownHooks();
  await app.listen({ port: config.port, host: config.host });
  const address = app.getHttpServer().address() as { port: number };
  const localUrl = `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;

  // An admin key to seed with: the one this start created, ADMIN_API_KEY, or a new one (the database already had an
  // admin key we cannot read).
  const adminKey =
    createdAdminKey ??
    config.adminApiKey ??
    (await app.get(ApiKeysService).createKey({ name: 'demo admin key', role: 'admin', project_id: null })).key;
  const adminKeyIsNew = adminKey !== config.adminApiKey;

  console.log(
    `Filling ${config.databaseUrl ? 'the PostgreSQL of DATABASE_URL' : `the embedded database in ${config.dataDir}`} with demo data...`,
  );
  const seeded = await seedDemo({ baseUrl: localUrl, adminKey, log: (line) => console.log(line) });
  await app.get(RollupCompactor).compactOnce();
  // Thresholds fire within seconds of ingest; the forecast and anomaly rules run every minute: run that pass now.
  await app.get(BudgetEvaluator).evaluate('all');
  await app.get(WebhookDispatcher).runOnce();
  const answer = await fetch(`${localUrl}/v1/alerts?limit=200`, { headers: { authorization: `Bearer ${adminKey}` } });
  const alerts = ((await answer.json()) as { data: Array<{ type: string }> }).data;
  const count = (type: string) => alerts.filter((a) => a.type === type).length;

  const url = config.publicUrl;
  const lines = [
    '',
    `  Demo data: ${seeded.events.accepted} calls stored (${seeded.events.duplicates} already there) since ${seeded.from.toISOString().slice(0, 10)} in ${seeded.projects.map((p) => p.name).join(', ')}`,
    `  Budgets: "${seeded.budgets.crossed.name}" (${displayUsd(seeded.budgets.crossed.amount_usd)} a ${seeded.budgets.crossed.period}, already spent) and "${seeded.budgets.forecast.name}" (${displayUsd(seeded.budgets.forecast.amount_usd)} a ${seeded.budgets.forecast.period}, forecast to go over)`,
    `  Alerts: ${count('budget.threshold_reached')} budget thresholds, ${count('budget.forecast_exceeded')} forecast, ${count('spend.anomaly')} anomalies (today's spike in ${seeded.spikeProject.name})`,
    `  Webhook: ${seeded.webhook.url}, where nobody listens: its deliveries fail and are retried`,
    '',
    `  Dashboard:   ${url}/`,
    `  Viewer key:  ${seeded.viewerKey}`,
    adminKeyIsNew ? `  Admin key:   ${adminKey}   (shown only this once)` : '  Admin key:   your ADMIN_API_KEY',
    '',
    exitAfterSeeding
      ? '  Start the service with `npm start` and open the dashboard.'
      : '  Serving until Ctrl-C; `npm start` serves the same data later.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (exitAfterSeeding) await app.close();
}

main().catch((error) => {
  console.error(redactSecrets(`demo failed: ${error instanceof Error ? error.message : error}`));
  process.exit(1);
});
