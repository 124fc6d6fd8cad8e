import fc from 'fast-check';
import { detectProvider, pathOf, providerDetector } from './provider';
import { isoTimestamp } from './time';
import { operationOf } from './usage';
import { uuidv7 } from './uuid7';

/** The cheap stand-ins for what every call paid for: each gives what the plain way gives. */
describe('per-call work, done cheaply', () => {
  it('isoTimestamp gives what toISOString gives, for any millisecond (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_000_000_000_000, max: 300_000_000_000_000 }), (ms) => {
        expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 2000 },
    );
    for (const ms of [0, 999, 1000, 1_764_460_799_999, 1_764_460_800_000, 253_402_300_799_999])
      expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
  });

  it('uuidv7 from its random pool: version 7, variant 10, time first, no repeat across refills of the pool', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(1_764_460_800_000));
    // 1,764,460,800,000 ms is 0x019ad20f2800.
    for (const id of ids) expect(id).toMatch(/^019ad20f-2800-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(uuidv7(0)).toMatch(/^00000000-0000-7/);
    expect(uuidv7(2 ** 48 - 1)).toMatch(/^ffffffff-ffff-7/);
  });

  it('pathOf finds the tracked operation new URL(...).pathname finds, for any absolute URL (property)', () => {
    const suffix = fc.constantFrom(
      '/v1/images/generations',
      '/openai/deployments/img-prod/images/edits/',
      '/v1/responses',
      '/api/v1/chat/completions',
      '/v1/models',
      '',
    );
    const tail = fc.constantFrom('', '?api-version=2025-04-01-preview', '?a=/v1/responses', '#/v1/responses', '?x=1#y');
    fc.assert(
      fc.property(fc.webUrl(), suffix, tail, (base, path, rest) => {
        const url = new URL(base);
        const given = `${url.origin}${url.pathname.replace(/\/$/, '')}${path}${rest}`;
        expect(operationOf(pathOf(given)!)).toBe(operationOf(new URL(given).pathname));
      }),
      { numRuns: 500 },
    );
    expect(pathOf('/v1/images/generations')).toBeNull(); // no scheme: fetch refuses it, not tracked
    expect(pathOf('http://host:8080?q=/v1/responses')).toBe('/');
  });

  it('providerDetector gives what detectProvider gives, when the host changes between calls', () => {
    const detect = providerDetector();
    const urls = [
      'https://api.openai.com/v1/images/generations',
      'https://api.openai.com/v1/responses',
      'https://my-res.openai.azure.com/openai/deployments/img/images/generations?api-version=1',
      'https://api.openai.com.evil.example/v1/responses',
      'https://openrouter.ai/api/v1/chat/completions',
      'http://llm-proxy.internal:8080/v1/images/edits',
      'https://api.openai.com/v1/responses',
    ];
    for (const url of [...urls, ...urls.reverse()]) expect(detect(url)).toBe(detectProvider(url));
  });
});
