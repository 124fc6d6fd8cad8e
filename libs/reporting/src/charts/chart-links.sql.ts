import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CHART_LINKS_KEY_NAME } from '@tokentally/common/secrets';
import { queryRows } from '@tokentally/db';

/** Statements of the chart-link signing key (a row of server_secrets, sealed like the webhook secrets). */
export const CHART_LINKS_SQL = {
  insertKeyIfAbsent: `INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
  key: `SELECT value FROM server_secrets WHERE name = $1`,
} as const;

/** The chart-link signing key, shared by every replica and restart. */
@Injectable()
export class ChartLinksRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Stores this (sealed) key unless one exists, and answers the one stored (sealed): the first writer's. */
  async sealedKey(candidate: string): Promise<string> {
    await this.db.query(CHART_LINKS_SQL.insertKeyIfAbsent, [CHART_LINKS_KEY_NAME, candidate]);
    const [row] = await queryRows<{ value: string }>(this.db, CHART_LINKS_SQL.key, [CHART_LINKS_KEY_NAME]);
    return row.value;
  }
}
