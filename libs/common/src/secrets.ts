import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (webhook signing secrets, the chart-link signing key).
 *
 * Envelope encryption with AES-256-GCM (node:crypto):
 * - each secret is sealed with a random 32-byte **data key** and stored as
 *   `tt1:<base64url(iv 12 | tag 16 | ciphertext)>`; the purpose (`webhook`,
 *   `chart_links`) is bound as additional data, so a sealed value cannot be
 *   moved to another use;
 * - the data key lives in `server_secrets` (name `secrets_data_key`). With
 *   SECRETS_KEY set it is stored sealed with SECRETS_KEY (`sealed:tt1:...`),
 *   so the tables alone (a dump, a backup) do not reveal any secret. Without
 *   SECRETS_KEY it is stored as is (`plain:<base64>`): the secrets are not in
 *   clear in their columns, but whoever has the whole database has the key.
 *
 * Kept free of Nest and of AppConfig: the migration that encrypts the clear
 * secrets of earlier versions uses it too.
 */

export const SEALED_PREFIX = 'tt1:';
export const DATA_KEY_NAME = 'secrets_data_key';
/** Server secret (in server_secrets) that signs shareable chart links. */
export const CHART_LINKS_KEY_NAME = 'chart_links';

export type SecretPurpose = 'webhook' | 'chart_links' | 'data_key';

/** Runs one SQL statement (a DataSource, EntityManager or QueryRunner `query`). */
export type Query = (sql: string, parameters?: unknown[]) => Promise<unknown>;

/** The rows of a SELECT run by `query`, as `T`. */
async function select<T>(query: Query, sql: string, parameters?: unknown[]): Promise<T[]> {
  return (await query(sql, parameters)) as T[];
}

export class SecretsKeyError extends Error {
  readonly code = 'ERR_SECRETS_KEY';
}

/** SECRETS_KEY as 32 bytes: 64 hex digits, or base64 / base64url of 32 bytes. */
export function parseSecretsKey(text: string): Buffer {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === 32) return key;
  }
  throw new SecretsKeyError(
    'SECRETS_KEY must be 32 bytes, written as 64 hex digits or in base64 (44 characters); make one with `openssl rand -base64 32`',
  );
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

export function seal(key: Buffer, purpose: SecretPurpose, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`tokentally:${purpose}`));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The plaintext of a sealed value; throws when the key or the purpose is not the one it was sealed with, or the value
 * was altered. */
export function open(key: Buffer, purpose: SecretPurpose, sealed: string): string {
  if (!isSealed(sealed)) throw new SecretsKeyError('not a sealed value');
  const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
  if (raw.length < 28) throw new SecretsKeyError('a sealed value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(`tokentally:${purpose}`));
  decipher.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretsKeyError(
      `a ${purpose} secret does not open with this key (another key sealed it, or it was altered)`,
    );
  }
}

/** Seals and opens the secrets of one database with its data key. */
export class Keyring {
  constructor(private readonly dataKey: Buffer) {}

  seal(purpose: SecretPurpose, plaintext: string): string {
    return seal(this.dataKey, purpose, plaintext);
  }

  /**
   * The plaintext of a stored value. A value that is not sealed is a clear
   * secret written before encryption at rest (or by an older replica during
   * a rolling upgrade): it is used as it is, and sealed by `sealClearSecrets`.
   */
  open(purpose: SecretPurpose, stored: string): string {
    return isSealed(stored) ? open(this.dataKey, purpose, stored) : stored;
  }
}

/**
 * Reads (or, on the first start, creates) the data key of this database and
 * opens it with SECRETS_KEY. Throws a SecretsKeyError saying what to do when
 * SECRETS_KEY is wrong, or missing while the data key is sealed with one.
 * With SECRETS_KEY set, a data key stored as is (first start without it, or
 * made by the migration) is sealed with it on the way.
 */
export async function loadKeyring(query: Query, secretsKey: string | undefined): Promise<Keyring> {
  const master = secretsKey ? parseSecretsKey(secretsKey) : null;
  const fresh = randomBytes(32);
  const initial = master
    ? `sealed:${seal(master, 'data_key', fresh.toString('base64'))}`
    : `plain:${fresh.toString('base64')}`;
  await query(`INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
    DATA_KEY_NAME,
    initial,
  ]);
  const [row] = await select<{ value: string }>(query, `SELECT value FROM server_secrets WHERE name = $1`, [
    DATA_KEY_NAME,
  ]);
  const stored: string = row.value;
  if (stored.startsWith('plain:')) {
    const dataKey = Buffer.from(stored.slice('plain:'.length), 'base64');
    // SECRETS_KEY is set now: from here on, the tables alone no longer reveal the key.
    if (master)
      await query(`UPDATE server_secrets SET value = $2 WHERE name = $1 AND value = $3`, [
        DATA_KEY_NAME,
        `sealed:${seal(master, 'data_key', dataKey.toString('base64'))}`,
        stored,
      ]);
    return new Keyring(dataKey);
  }
  if (!stored.startsWith('sealed:'))
    throw new SecretsKeyError(`server_secrets.${DATA_KEY_NAME} is not in a known format`);
  if (!master) {
    throw new SecretsKeyError(
      'The secrets in this database are encrypted with a SECRETS_KEY, and SECRETS_KEY is not set: set it to the key this database was started with.',
    );
  }
  try {
    return new Keyring(Buffer.from(open(master, 'data_key', stored.slice('sealed:'.length)), 'base64'));
  } catch {
    throw new SecretsKeyError(
      'SECRETS_KEY does not open the secrets of this database: it is not the key this database was started with. Set SECRETS_KEY back to that key (webhook and chart-link secrets cannot be read without it).',
    );
  }
}

/**
 * Seals, in place, every webhook secret (current and previous) and the
 * chart-link key still stored in clear. Idempotent: sealed values are left
 * alone, and each update applies only if the value did not change meanwhile
 * (a rotation on another replica). Answers how many values it sealed.
 */
export async function sealClearSecrets(query: Query, keyring: Keyring): Promise<number> {
  let sealed = 0;
  const hooks = await select<{ id: string; secret: string; previous_secret: string | null }>(
    query,
    `SELECT id, secret, previous_secret FROM webhooks WHERE secret NOT LIKE 'tt1:%' OR previous_secret NOT LIKE 'tt1:%'`,
  );
  for (const hook of hooks) {
    const secret = isSealed(hook.secret) ? hook.secret : keyring.seal('webhook', hook.secret);
    const previous =
      hook.previous_secret === null || isSealed(hook.previous_secret)
        ? hook.previous_secret
        : keyring.seal('webhook', hook.previous_secret);
    await query(
      `UPDATE webhooks SET secret = $2, previous_secret = $3
       WHERE id = $1 AND secret = $4 AND previous_secret IS NOT DISTINCT FROM $5`,
      [hook.id, secret, previous, hook.secret, hook.previous_secret],
    );
    sealed += Number(secret !== hook.secret) + Number(previous !== hook.previous_secret);
  }
  const [chart] = await select<{ value: string }>(
    query,
    `SELECT value FROM server_secrets WHERE name = $1 AND value NOT LIKE 'tt1:%'`,
    [CHART_LINKS_KEY_NAME],
  );
  if (chart) {
    await query(`UPDATE server_secrets SET value = $2 WHERE name = $1 AND value = $3`, [
      CHART_LINKS_KEY_NAME,
      keyring.seal('chart_links', chart.value),
      chart.value,
    ]);
    sealed++;
  }
  return sealed;
}

/** AppConfig-shaped input, so callers need not import libs/common here. */
interface KeyConfig {
  secretsKey?: string;
}

const keyrings = new WeakMap<object, Map<string, Promise<Keyring>>>();

/** The keyring of a DataSource and SECRETS_KEY, loaded once (every service of a process shares it). */
export function keyringOf(db: { query: Query }, config: KeyConfig): Promise<Keyring> {
  const byKey = keyrings.get(db) ?? new Map<string, Promise<Keyring>>();
  keyrings.set(db, byKey);
  const name = config.secretsKey ?? '';
  let keyring = byKey.get(name);
  if (!keyring) {
    keyring = loadKeyring((sql, parameters) => db.query(sql, parameters), config.secretsKey);
    byKey.set(name, keyring);
    keyring.catch(() => byKey.delete(name));
  }
  return keyring;
}
