import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@tokentally/common';
import { Database, openDatabase } from '@tokentally/db';
import { TestDatabase } from './database';
import { usageEvent } from './factories';

export const FAULT_ADMIN_KEY = 'tt_test_admin_key_0123456789abcdef';

/** Environment for a service process of the fault tests. */
export function serviceEnv(database: TestDatabase): Record<string, string | undefined> {
  return {
    ...database.env,
    ADMIN_API_KEY: FAULT_ADMIN_KEY,
    LOG_LEVEL: 'warn',
    PRICING_REFRESH_ON_START: 'false',
  };
}

export async function api(url: string, key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, text, body: json };
}

export async function projectAndIngestKey(url: string): Promise<{ projectId: string; key: string }> {
  const project = await api(url, FAULT_ADMIN_KEY, 'POST', '/v1/projects', {
    name: `faults-${randomUUID().slice(0, 8)}`,
  });
  if (project.status !== 201) throw new Error(`project: ${project.status} ${project.text}`);
  const key = await api(url, FAULT_ADMIN_KEY, 'POST', '/v1/keys', {
    name: 'faults ingest',
    role: 'ingest',
    project_id: project.body.id,
  });
  if (key.status !== 201) throw new Error(`key: ${key.status} ${key.text}`);
  return { projectId: project.body.id, key: key.body.key };
}

/** Batches of events with unique ids, varied enough to touch several rollup rows. */
export function makeBatches(count: number, size: number): Array<Array<Record<string, any>>> {
  const teams = ['growth', 'core', 'search'];
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: size }, (_, i) =>
      usageEvent({
        event_id: `f-${b}-${i}-${randomUUID().slice(0, 8)}`,
        timestamp: new Date(Date.now() - ((b * size + i) % 180) * 60_000).toISOString(),
        usage: { input_text_tokens: 100 + (i % 7), output_image_tokens: 4160 + b },
        dimensions: { team: teams[(b + i) % 3], user: `u_${i % 11}`, feature: 'avatars', environment: 'prod' },
      }),
    ),
  );
}

/** Opens the test's database from this process (the service must not hold the embedded one). */
export async function openForChecks(database: TestDatabase): Promise<Database> {
  const config = loadConfig({ ...serviceEnv(database) });
  return openDatabase(config, new Logger('faults'));
}

export interface LedgerCheck {
  stored: number;
  distinct: number;
  acknowledgedStored: number;
  eventsCost: string;
  rollupEvents: number;
  rollupCost: string;
  eventsOutputTokens: string;
  rollupOutputTokens: string;
}

/** What is stored for a project, and whether the rollups add up to it. */
export async function ledger(db: Database, projectId: string, acknowledged: string[]): Promise<LedgerCheck> {
  const [events] = await db.dataSource.query(
    `SELECT count(*)::int AS stored, count(DISTINCT event_id)::int AS distinct,
            count(*) FILTER (WHERE event_id = ANY($2::text[]))::int AS acknowledged_stored,
            COALESCE(sum(cost_usd), 0)::text AS cost, COALESCE(sum(output_image_tokens), 0)::text AS output_tokens
       FROM usage_events WHERE project_id = $1`,
    [projectId, acknowledged],
  );
  const [rollup] = await db.dataSource.query(
    `SELECT COALESCE(sum(events), 0)::int AS events, COALESCE(sum(cost_usd), 0)::text AS cost,
            COALESCE(sum(output_image_tokens), 0)::text AS output_tokens
       FROM usage_rollup_live WHERE project_id = $1`,
    [projectId],
  );
  return {
    stored: events.stored,
    distinct: events.distinct,
    acknowledgedStored: events.acknowledged_stored,
    eventsCost: events.cost,
    rollupEvents: rollup.events,
    rollupCost: rollup.cost,
    eventsOutputTokens: events.output_tokens,
    rollupOutputTokens: rollup.output_tokens,
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
