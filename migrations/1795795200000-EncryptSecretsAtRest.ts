import { MigrationInterface, QueryRunner } from 'typeorm';
import { randomBytes } from 'node:crypto';
import {
  CHART_LINKS_KEY_NAME,
  DATA_KEY_NAME,
  isSealed,
  Keyring,
  open,
  sealClearSecrets,
} from '../libs/common/src/secrets';

/**
 * Encrypts in place (AES-256-GCM, libs/webhooks/src/secrets.ts) the webhook
 * signing secrets, current and previous, and the chart-link signing key that
 * earlier versions stored in clear. Idempotent: sealed values are left alone.
 *
 * A migration cannot see SECRETS_KEY (it runs before the app reads its
 * settings), so the data key it seals with is stored as is; the first start
 * with SECRETS_KEY set seals that data key with it, the same boot. On an empty
 * database nothing is sealed here and no data key is made.
 */
export class EncryptSecretsAtRest1795795200000 implements MigrationInterface {
  name = 'EncryptSecretsAtRest1795795200000';

  async up(q: QueryRunner): Promise<void> {
    const [{ clear }] = await q.query(`
      SELECT (SELECT count(*) FROM webhooks WHERE secret NOT LIKE 'tt1:%' OR previous_secret NOT LIKE 'tt1:%')
           + (SELECT count(*) FROM server_secrets WHERE name = '${CHART_LINKS_KEY_NAME}' AND value NOT LIKE 'tt1:%') AS clear`);
    if (Number(clear) === 0) return;
    await q.query(`INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
      DATA_KEY_NAME,
      `plain:${randomBytes(32).toString('base64')}`,
    ]);
    const [{ value }] = await q.query(`SELECT value FROM server_secrets WHERE name = $1`, [DATA_KEY_NAME]);
    // Sealed with SECRETS_KEY already: the app seals what is left in clear at start-up, with the key it has.
    if (!String(value).startsWith('plain:')) return;
    await sealClearSecrets(
      (sql, parameters) => q.query(sql, parameters),
      new Keyring(Buffer.from(String(value).slice('plain:'.length), 'base64')),
    );
  }

  /** Back to clear secrets; possible only while the data key is not sealed with SECRETS_KEY. */
  async down(q: QueryRunner): Promise<void> {
    const [row] = await q.query(`SELECT value FROM server_secrets WHERE name = $1`, [DATA_KEY_NAME]);
    if (!row) return;
    if (!String(row.value).startsWith('plain:')) {
      throw new Error(
        'The data key is sealed with SECRETS_KEY; a migration cannot open it. Decrypt with the app, or restore a backup taken before this migration.',
      );
    }
    const key = Buffer.from(String(row.value).slice('plain:'.length), 'base64');
    const clear = (value: string | null) => (value !== null && isSealed(value) ? open(key, 'webhook', value) : value);
    for (const hook of await q.query(`SELECT id, secret, previous_secret FROM webhooks`)) {
      await q.query(`UPDATE webhooks SET secret = $2, previous_secret = $3 WHERE id = $1`, [
        hook.id,
        clear(hook.secret),
        clear(hook.previous_secret),
      ]);
    }
    const [chart] = await q.query(`SELECT value FROM server_secrets WHERE name = $1`, [CHART_LINKS_KEY_NAME]);
    if (chart && isSealed(chart.value))
      await q.query(`UPDATE server_secrets SET value = $2 WHERE name = $1`, [
        CHART_LINKS_KEY_NAME,
        open(key, 'chart_links', chart.value),
      ]);
    await q.query(`DELETE FROM server_secrets WHERE name = $1`, [DATA_KEY_NAME]);
  }
}
