import { redactKey } from './redact';

describe('redactKey', () => {
  const key = 'sk-admin-AbCdEfGh0123456789ijklmnop';

  it('removes the key, any 8 characters of it, and anything shaped like an OpenAI secret key', () => {
    expect(redactKey(`Incorrect API key provided: ${key}.`, key)).toBe('Incorrect API key provided: [redacted].');
    expect(redactKey(`key ending ...${key.slice(-10)}`, key)).not.toContain(key.slice(-10, -2));
    expect(redactKey('another one: sk-proj-ZZZZyyyyXXXX1111', key)).toBe('another one: [redacted]');
    expect(redactKey('masked: sk-admin-****mnop', key)).toBe('masked: [redacted]');
  });

  it('leaves text without the key as it is', () => {
    expect(redactKey('GET /organization/costs (page 1) answered HTTP 500', key)).toBe(
      'GET /organization/costs (page 1) answered HTTP 500',
    );
  });
});
