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
});
