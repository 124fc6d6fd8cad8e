import fc from 'fast-check';
import {
  hostileDateText,
  hostileJson,
  hostileNumber,
  hostileString,
  mutate,
} from '../../../../test/support/arbitraries';
import { checkUsageEvent, commonEventShape, usageEventInput, usageEventSchema } from './usage-event.dto';

/**
 * The hand-written check of the common event shape must accept only what
 * usageEventSchema accepts, and read it the same way: the schema is the
 * reference (and writes every error message); the hand check only spares
 * zod's work on the events that are plainly fine.
 */
const base = {
  event_id: '019a7c1e-8f0b-7a3c-9d2e-1b2c3d4e5f60',
  timestamp: '2026-11-28T10:15:00.123456789Z',
  provider: 'openai',
  model: 'gpt-image-2',
  operation: 'images.generate',
  usage: { input_text_tokens: 120, input_image_tokens: 0, output_image_tokens: 4160, cached_input_text_tokens: null },
  images: 1,
  image_size: '1024x1024',
  image_quality: 'high',
  status: 'ok',
  latency_ms: 8123,
  dimensions: { team: 'growth', user: 'u_42', feature: 'avatars', environment: 'prod' },
  tags: { campaign: 'black-friday', env: '' },
  provider_cost_usd: '0.0387',
  sdk: { name: '@tokentally/openai' }, // unknown top-level fields are ignored
};
const PATHS = [
  'event_id',
  'timestamp',
  'provider',
  'model',
  'operation',
  'usage',
  'usage.input_text_tokens',
  'usage.output_image_tokens',
  'usage.output_text_tokens',
  'usage.surprise_tokens',
  'images',
  'image_size',
  'image_quality',
  'status',
  'latency_ms',
  'dimensions',
  'dimensions.team',
  'dimensions.user',
  'dimensions.colour',
  'tags',
  'tags.campaign',
  'tags.__proto__',
  'tags.constructor',
  'tags.x',
  'provider_cost_usd',
] as const;
const anyValue = fc.oneof(hostileString(250), hostileNumber, hostileJson, fc.constant(null), fc.boolean());
/** Strings around a length limit (empty, one, the limit and one past), plain or with a NUL or a lone surrogate. */
const nearLength = (max: number) =>
  fc
    .tuple(
      fc.constantFrom(0, 1, max - 1, max, max + 1),
      fc.constantFrom('a', 'é', '😀', '\u0000', '\ud800', ' '),
      fc.boolean(),
    )
    .map(([length, odd, atEnd]) => {
      if (length === 0) return '';
      const plain = 'x'.repeat(length - 1);
      return atEnd ? plain + odd : odd + plain;
    });
/** Numbers around a limit: negative, zero, the limit and one past, fractions, unsafe integers, numeric strings. */
const nearNumber = (max: number) =>
  fc.constantFrom(-1, -0, 0, 1, max - 1, max, max + 1, 0.5, max + 0.5, 2 ** 53, 1e21, '1', null);
const oneOf = (...arbitraries: Array<fc.Arbitrary<unknown>>) =>
  fc.oneof(...arbitraries.map((arbitrary) => ({ weight: 3, arbitrary })), { weight: 1, arbitrary: anyValue });
const VALUES: Record<string, fc.Arbitrary<unknown>> = {
  event_id: oneOf(nearLength(200)),
  provider: oneOf(nearLength(100)),
  model: oneOf(nearLength(200)),
  operation: oneOf(nearLength(100)),
  image_size: oneOf(nearLength(50)),
  image_quality: oneOf(nearLength(50)),
  'usage.input_text_tokens': oneOf(nearNumber(1_000_000_000)),
  'usage.output_image_tokens': oneOf(nearNumber(1_000_000_000)),
  'usage.output_text_tokens': oneOf(nearNumber(1_000_000_000)),
  images: oneOf(nearNumber(10_000)),
  latency_ms: oneOf(nearNumber(86_400_000)),
  'dimensions.team': oneOf(nearLength(200)),
  'dimensions.user': oneOf(nearLength(200)),
  'tags.campaign': oneOf(nearLength(200)),
  'tags.x': oneOf(nearLength(200)),
  timestamp: fc.oneof(hostileDateText, fc.constant('2026-02-28T23:59:60Z'), anyValue),
  status: fc.oneof(fc.constantFrom('ok', 'error', 'OK', 'failed', ''), anyValue),
  provider_cost_usd: fc.oneof(
    fc.constantFrom(
      '0',
      '0.0387',
      '123456789012.123456789012345678901234',
      '1234567890123',
      '0.1234567890123456789012345',
      '-1',
      '1e-3',
    ),
    fc.constantFrom('.5', '5.', ' 1', '1,5', '0x10', 0.0387, 1, '', '\u0000'),
    fc.stringMatching(/^[0-9.]{0,16}$/),
    anyValue,
  ),
  tags: fc.oneof(
    fc.dictionary(fc.oneof(nearLength(64), hostileString(70)), fc.oneof(nearLength(200), hostileString(210)), {
      maxKeys: 24,
    }),
    // Around the 20-tag limit, every tag itself valid.
    fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), fc.stringMatching(/^[a-z]{0,3}$/), { minKeys: 19, maxKeys: 22 }),
    anyValue,
  ),
};
for (const path of PATHS) VALUES[path] ??= anyValue;

describe('the common event shape, checked by hand', () => {
  it('accepts only what the schema accepts, and reads it as the schema does (generated events)', () => {
    fc.assert(
      fc.property(mutate(base, PATHS, VALUES, 2), (raw) => {
        // As JSON.parse would hand it over.
        const event = JSON.parse(JSON.stringify(raw));
        const fast = commonEventShape(event);
        const reference = usageEventSchema.safeParse(event);
        if (fast === null) return;
        expect(reference.success).toBe(true);
        expect(usageEventInput(fast, 0)).toEqual(usageEventInput(reference.data!, 0));
      }),
      { numRuns: 10_000 },
    );
  });

  it('an event as the SDK sends it takes the hand check, and the result is the same as through the schema', () => {
    expect(commonEventShape(structuredClone(base))).not.toBeNull();
    const viaCheck = checkUsageEvent(structuredClone(base), '', {
      now: Date.parse('2026-11-29T00:00:00Z'),
      keptSince: null,
    });
    const reference = usageEventSchema.parse(structuredClone(base));
    expect(viaCheck).toEqual({ ok: true, event: usageEventInput(reference, Date.parse(base.timestamp)) });
  });

  it('leaves to the schema every event it refuses, so the errors are the schema messages', () => {
    const bad = { ...structuredClone(base), usage: { input_text_tokens: -5 } };
    expect(commonEventShape(bad)).toBeNull();
    expect(checkUsageEvent(bad, 'events[0]', { now: Date.now(), keptSince: null })).toEqual({
      ok: false,
      eventId: base.event_id,
      errors: [{ path: 'events[0].usage.input_text_tokens', message: 'must not be negative' }],
    });
  });
});

describe('the stored time of an event', () => {
  it('is the time sent, cut (never rounded) to the microsecond, whatever its fraction and offset (generated)', () => {
    const digits = (n: number) => fc.stringMatching(new RegExp(`^[0-9]{${n}}$`));
    const timestamp = fc
      .tuple(
        fc.constantFrom('2026-11-28T10:15:00', '2026-12-31T23:59:59', '0001-01-01T00:00:00'),
        fc.option(fc.integer({ min: 1, max: 12 }).chain(digits), { nil: undefined }),
        fc.constantFrom('Z', 'z', '+05:30', '-00:00', '+14:00'),
      )
      .map(([time, fraction, offset]) => `${time}${fraction === undefined ? '' : `.${fraction}`}${offset}`);
    fc.assert(
      fc.property(timestamp, (sent) => {
        const stored = usageEventInput({ ...base, timestamp: sent } as never, 0).timestamp;
        // The reference: the first six fraction digits kept, the rest dropped.
        expect(stored).toBe(sent.replace(/(\.\d{6})\d+/, '$1'));
      }),
      { numRuns: 2_000 },
    );
  });
});
