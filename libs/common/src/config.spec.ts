import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('gives defaults that run the service on the embedded database', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: './data',
      logLevel: 'log',
      pricingCron: '0 6 * * 1',
      webhookAllowPrivate: false,
      publicUrl: 'http://127.0.0.1:3000',
      runJobs: true,
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).databaseUrl).toBeUndefined();
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        ADMIN_API_KEY: 'secret',
        WEBHOOK_ALLOW_PRIVATE: 'maybe',
        PRICING_LITELLM_URL: 'not a url',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const names = (error as ConfigError).problems.map((p) => p.split(':')[0]).sort();
    expect(names).toEqual(['ADMIN_API_KEY', 'DATABASE_URL', 'PORT', 'PRICING_LITELLM_URL', 'WEBHOOK_ALLOW_PRIVATE']);
    expect((error as ConfigError).message).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
  });

  it('maps info to log and builds the public URL from HOST and PORT', () => {
    const config = loadConfig({ LOG_LEVEL: 'info', HOST: '0.0.0.0', PORT: '8080' });
    expect(config.logLevel).toBe('log');
    expect(config.publicUrl).toBe('http://localhost:8080');
    expect(loadConfig({ PUBLIC_URL: 'https://tally.example.com/' }).publicUrl).toBe('https://tally.example.com');
  });

  it('reads the reconciliation settings, off without an admin key, and refuses a base URL the key must not go to', () => {
    expect(loadConfig({}).reconciliation).toEqual({
      adminKey: undefined,
      baseUrl: 'https://api.openai.com/v1',
      thresholdPct: '2',
      cron: '30 4 * * *',
      days: 3,
      timeoutMs: 30_000,
    });
    const on = loadConfig({
      OPENAI_ADMIN_KEY: 'sk-admin-0123456789abcdefghij',
      OPENAI_ADMIN_BASE_URL: 'http://127.0.0.1:8080/v1/',
      RECONCILE_THRESHOLD_PCT: '0.5',
    }).reconciliation;
    expect([on.adminKey, on.baseUrl, on.thresholdPct]).toEqual([
      'sk-admin-0123456789abcdefghij',
      'http://127.0.0.1:8080/v1',
      '0.5',
    ]);
    let error: unknown;
    try {
      loadConfig({
        OPENAI_ADMIN_KEY: 'short',
        OPENAI_ADMIN_BASE_URL: 'http://openai-proxy.internal/v1',
        RECONCILE_THRESHOLD_PCT: '101',
        RECONCILE_CRON: 'every day',
      });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'OPENAI_ADMIN_BASE_URL',
      'OPENAI_ADMIN_KEY',
      'RECONCILE_CRON',
      'RECONCILE_THRESHOLD_PCT',
    ]);
    for (const url of ['https://user:pw@api.openai.com/v1', 'https://api.openai.com/v1?x=1', 'ftp://api.openai.com'])
      expect(() => loadConfig({ OPENAI_ADMIN_BASE_URL: url })).toThrow(/OPENAI_ADMIN_BASE_URL/);
  });
});
