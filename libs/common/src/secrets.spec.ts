import { randomBytes } from 'node:crypto';
import { Keyring, loadKeyring, open, parseSecretsKey, Query, seal, sealClearSecrets, SecretsKeyError } from './secrets';

/** server_secrets and webhooks as a map, enough for the statements of secrets.ts. */
function fakeDatabase() {
  const serverSecrets = new Map<string, string>();
  const webhooks = new Map<string, { id: string; secret: string; previous_secret: string | null }>();
  const query: Query = async (sql, p = []) => {
    const [a, b, c, d, e] = p as any[];
    if (sql.startsWith('INSERT INTO server_secrets')) {
      if (!serverSecrets.has(a)) serverSecrets.set(a, b);
      return [];
    }
    if (sql.startsWith('SELECT value FROM server_secrets WHERE name = $1 AND value NOT LIKE')) {
      const value = serverSecrets.get(a);
      return value !== undefined && !value.startsWith('tt1:') ? [{ value }] : [];
    }
    if (sql.startsWith('SELECT value FROM server_secrets'))
      return serverSecrets.has(a) ? [{ value: serverSecrets.get(a) }] : [];
    if (sql.startsWith('UPDATE server_secrets')) {
      if (serverSecrets.get(a) === c) serverSecrets.set(a, b);
      return [];
    }
    if (sql.startsWith('SELECT id, secret, previous_secret FROM webhooks')) {
      return [...webhooks.values()]
        .filter(
          (w) => !w.secret.startsWith('tt1:') || (w.previous_secret !== null && !w.previous_secret.startsWith('tt1:')),
        )
        .map((w) => ({ ...w }));
    }
    if (sql.trim().startsWith('UPDATE webhooks')) {
      const row = webhooks.get(a)!;
      if (row.secret === d && row.previous_secret === e) Object.assign(row, { secret: b, previous_secret: c });
      return [];
    }
    throw new Error(`unexpected statement ${sql}`);
  };
  return { serverSecrets, webhooks, query };
}

const KEY_HEX = randomBytes(32).toString('hex');
const KEY_B64 = randomBytes(32).toString('base64');

describe('secrets at rest', () => {
  it('reads SECRETS_KEY as 64 hex digits or base64 of 32 bytes, and names the format otherwise', () => {
    expect(parseSecretsKey(KEY_HEX)).toHaveLength(32);
    expect(parseSecretsKey(KEY_B64)).toHaveLength(32);
    expect(parseSecretsKey(KEY_B64.replace(/=$/, '').replace(/\+/g, '-').replace(/\//g, '_'))).toEqual(
      Buffer.from(KEY_B64, 'base64'),
    );
    expect(() => parseSecretsKey('short')).toThrow(/SECRETS_KEY must be 32 bytes/);
    expect(() => parseSecretsKey(randomBytes(16).toString('hex'))).toThrow(SecretsKeyError);
  });

  it('seals with AES-256-GCM: the stored value is not the secret and does not open without the key or for another purpose', () => {
    const key = randomBytes(32);
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const sealed = seal(key, 'webhook', secret);
    expect(sealed).toMatch(/^tt1:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('whsec_');
    expect(Buffer.from(sealed.slice(4), 'base64url').toString('latin1')).not.toContain('MfKQ9r8G');
    expect(seal(key, 'webhook', secret)).not.toBe(sealed); // a fresh IV each time
    expect(open(key, 'webhook', sealed)).toBe(secret);
    expect(() => open(randomBytes(32), 'webhook', sealed)).toThrow(/does not open with this key/);
    expect(() => open(key, 'chart_links', sealed)).toThrow(SecretsKeyError);
    const altered = sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'AB' : 'AA');
    expect(() => open(key, 'webhook', altered)).toThrow(SecretsKeyError);
  });

  it('keeps a made data key in the database as is when SECRETS_KEY is unset, and seals it once SECRETS_KEY is set', async () => {
    const db = fakeDatabase();
    const first = await loadKeyring(db.query, undefined);
    const stored = db.serverSecrets.get('secrets_data_key')!;
    expect(stored).toMatch(/^plain:/);
    const sealedByFirst = first.seal('webhook', 'whsec_abc');

    const withKey = await loadKeyring(db.query, KEY_HEX);
    expect(db.serverSecrets.get('secrets_data_key')).toMatch(/^sealed:tt1:/);
    expect(db.serverSecrets.get('secrets_data_key')).not.toContain(stored.slice('plain:'.length));
    expect(withKey.open('webhook', sealedByFirst)).toBe('whsec_abc');
    expect((await loadKeyring(db.query, KEY_HEX)).open('webhook', sealedByFirst)).toBe('whsec_abc');
  });

  it('stops with a clear error when SECRETS_KEY is wrong, or missing while the data key is sealed with one', async () => {
    const db = fakeDatabase();
    await loadKeyring(db.query, KEY_HEX);
    await expect(loadKeyring(db.query, randomBytes(32).toString('hex'))).rejects.toThrow(
      /SECRETS_KEY does not open the secrets of this database: it is not the key this database was started with/,
    );
    await expect(loadKeyring(db.query, undefined)).rejects.toThrow(
      /encrypted with a SECRETS_KEY, and SECRETS_KEY is not set/,
    );
  });

  it('seals clear webhook secrets (current and previous) and the chart-link key in place, once', async () => {
    const db = fakeDatabase();
    db.webhooks.set('a', { id: 'a', secret: 'whsec_new', previous_secret: 'whsec_old' });
    db.webhooks.set('b', { id: 'b', secret: 'whsec_only', previous_secret: null });
    db.serverSecrets.set('chart_links', randomBytes(32).toString('base64'));
    const chartKey = db.serverSecrets.get('chart_links')!;
    const keyring = new Keyring(randomBytes(32));
    expect(await sealClearSecrets(db.query, keyring)).toBe(4);
    const a = db.webhooks.get('a')!;
    expect(
      [a.secret, a.previous_secret, db.webhooks.get('b')!.secret, db.serverSecrets.get('chart_links')].every((v) =>
        v!.startsWith('tt1:'),
      ),
    ).toBe(true);
    expect(keyring.open('webhook', a.secret)).toBe('whsec_new');
    expect(keyring.open('webhook', a.previous_secret!)).toBe('whsec_old');
    expect(keyring.open('chart_links', db.serverSecrets.get('chart_links')!)).toBe(chartKey);
    const before = JSON.stringify([...db.webhooks.values()]);
    expect(await sealClearSecrets(db.query, keyring)).toBe(0);
    expect(JSON.stringify([...db.webhooks.values()])).toBe(before);
    // A value still in clear (an older replica wrote it) is used as it is.
    expect(keyring.open('webhook', 'whsec_legacy')).toBe('whsec_legacy');
  });
});
