import fc from 'fast-check';
import { takeAttributionHeaders } from './context';
import { fitEvent, fitText, LIMITS } from './fit';
import { azureDeployment } from './provider';
import { UsageEvent } from './types';
import { requestFacts, withApiDefaults } from './usage';

const event = (extra: Partial<UsageEvent> = {}): UsageEvent => ({
  event_id: 'e1',
  timestamp: '2026-11-30T00:00:00.000Z',
  provider: 'openai',
  model: 'gpt-image-2',
  operation: 'images.generate',
  usage: { input_text_tokens: 12, output_image_tokens: 4160 },
  status: 'ok',
  dimensions: { team: 'growth', user: 'u_1' },
  tags: { plan: 'pro' },
  ...extra,
});

/** What the server refuses (libs/ingest/src/dto/usage-event.dto.ts): the limits the fitted event must keep. */
function refusedBy(e: UsageEvent): string[] {
  const bad: string[] = [];
  const text = (name: string, value: unknown, max: number, min = 0) => {
    if (value === undefined) return;
    if (typeof value !== 'string' || value.length > max || value.length < min) bad.push(name);
    else if (value.includes('\u0000') || !(value as unknown as { isWellFormed(): boolean }).isWellFormed())
      bad.push(name);
  };
  text('provider', e.provider, 100, 1);
  text('model', e.model, 200, 1);
  text('operation', e.operation, 100);
  text('image_size', e.image_size, 50);
  text('image_quality', e.image_quality, 50);
  for (const [name, value] of Object.entries(e.dimensions ?? {})) text(`dimensions.${name}`, value, 200);
  const tags = Object.entries(e.tags ?? {});
  if (tags.length > 20) bad.push('tags');
  for (const [key, value] of tags) {
    text('tag name', key, 64, 1);
    text(`tags.${key}`, value, 200);
  }
  return bad;
}

describe('an event cut to the server limits, so that a billed call is never refused for an attribute', () => {
  it('leaves an event that fits as it is: the same object', () => {
    const fitting = event();
    expect(fitEvent(fitting)).toBe(fitting);
  });

  it('cuts a long user, tag, model and size, replaces NUL and lone surrogates, drops tags past the 20th', () => {
    const tags = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`t${i}`, 'v'.repeat(i === 0 ? 10_000 : 1)]));
    const fitted = fitEvent(
      event({
        model: 'm'.repeat(300),
        image_size: 's'.repeat(60),
        dimensions: { user: 'u'.repeat(10_000), team: 'a\u0000b', feature: 'x\ud800y' },
        tags,
      }),
    );
    expect(refusedBy(fitted)).toEqual([]);
    expect(fitted.model).toBe('m'.repeat(LIMITS.model));
    expect(fitted.dimensions).toEqual({ user: 'u'.repeat(200), team: 'a\uFFFDb', feature: 'x\uFFFDy' });
    expect(Object.keys(fitted.tags!)).toHaveLength(20);
    expect(fitted.tags!.t0).toBe('v'.repeat(200));
    expect(fitted.usage).toEqual(event().usage);
  });

  it('never splits a surrogate pair when cutting, and names an empty model or provider unknown', () => {
    expect(fitText('a'.repeat(199) + '😀', 200)).toBe('a'.repeat(199));
    const fitted = fitEvent(event({ model: '', provider: '' }));
    expect([fitted.provider, fitted.model]).toEqual(['unknown', 'unknown']);
  });

  it('fits any event to what the server takes (property)', () => {
    const anyText = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }));
    fc.assert(
      fc.property(
        anyText,
        anyText,
        fc.option(anyText, { nil: undefined }),
        fc.dictionary(anyText, anyText, { maxKeys: 30 }),
        fc.record({ user: anyText, team: anyText }),
        (provider, model, size, tags, dimensions) => {
          const fitted = fitEvent(event({ provider, model, image_size: size, tags, dimensions }));
          expect(refusedBy(fitted)).toEqual([]);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('attribution headers with a malformed escape', () => {
  it('are still taken out of the request, their values kept as written', () => {
    const { attribution, headers } = takeAttributionHeaders({
      'X-TokenTally-Tags': 'plan=%E0%A4%A,ok=a%20b,bad=%ZZ',
      'X-TokenTally-User': 'u1',
      authorization: 'Bearer sk',
    });
    expect(attribution).toEqual({ user: 'u1', tags: { plan: '%E0%A4%A', ok: 'a b', bad: '%ZZ' } });
    expect([...headers!.keys()]).toEqual(['authorization']);
  });

  it('an Azure deployment name with a malformed escape is read as written', () => {
    expect(azureDeployment('https://x.openai.azure.com/openai/deployments/img%E0%A4%A/images/generations')).toBe(
      'img%E0%A4%A',
    );
  });
});

describe('what the API does when a DALL-E request leaves a setting out', () => {
  it('DALL-E 2 and 3 make 1024x1024 images, DALL-E 3 at standard quality; others are left as asked', () => {
    const facts = (body: Record<string, unknown>) => withApiDefaults(requestFacts(body));
    expect(facts({ model: 'dall-e-3' })).toMatchObject({ size: '1024x1024', quality: 'standard' });
    expect(facts({ model: 'dall-e-3', size: '1792x1024', quality: 'hd' })).toMatchObject({
      size: '1792x1024',
      quality: 'hd',
    });
    expect(facts({ model: 'dall-e-2' })).toMatchObject({ size: '1024x1024', quality: null });
    expect(facts({ model: 'gpt-image-2' })).toMatchObject({ size: null, quality: null });
  });
});
