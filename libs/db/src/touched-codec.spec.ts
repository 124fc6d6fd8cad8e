import { TouchedScope } from './event-bus';
import { decodeTouched, encodeTouched, EVERYTHING_PAYLOAD, NOTIFY_PAYLOAD_LIMIT, scopeKey } from './touched-codec';

const scope = (overrides: Partial<TouchedScope> = {}): TouchedScope => ({
  provider: 'openai',
  model: 'gpt-image-2',
  project: '8f4c2a9e-0d1b-4c55-9a34-6f1e2d3c4b5a',
  team: 'growth',
  user: 'u_42',
  feature: 'avatars',
  environment: 'prod',
  tags: { campaign: 'black-friday' },
  ...overrides,
});

describe('the usage signal payload', () => {
  it('carries the distinct touched scopes, each value once', () => {
    const touched = [
      scope(),
      scope(),
      scope({ user: 'u_7', tags: {} }),
      scope({ provider: 'vercel', tags: { region: 'eu', campaign: 'spring' } }),
    ];
    const payload = encodeTouched(touched);
    expect(payload.match(/8f4c2a9e/g)).toHaveLength(1);
    const decoded = decodeTouched(payload);
    expect(decoded).toEqual([touched[0], touched[2], touched[3]]);
  });

  it('treats tags in another order as the same scope', () => {
    const a = scope({ tags: { a: '1', b: '2' } });
    const b = scope({ tags: { b: '2', a: '1' } });
    expect(scopeKey(a)).toBe(scopeKey(b));
    expect(decodeTouched(encodeTouched([a, b]))).toHaveLength(1);
  });

  it('is pure ASCII, so its length is its size in bytes whatever the server encoding', () => {
    const touched = [scope({ team: 'équipe 東京', tags: { clé: '🚀' } })];
    const payload = encodeTouched(touched);
    expect(payload).toMatch(/^[\x20-\x7e]*$/);
    expect(decodeTouched(payload)).toEqual(touched);
  });

  it('means "everything" when the scopes do not fit in a NOTIFY', () => {
    const many = Array.from({ length: 400 }, (_, i) => scope({ user: `user-${i}-${'x'.repeat(20)}` }));
    expect(encodeTouched(many)).toBe(EVERYTHING_PAYLOAD);
    const fits = Array.from({ length: 100 }, (_, i) => scope({ user: `user-${i}` }));
    const payload = encodeTouched(fits);
    expect(payload.length).toBeLessThan(NOTIFY_PAYLOAD_LIMIT);
    expect(decodeTouched(payload)).toEqual(fits);
    expect(encodeTouched('everything')).toBe(EVERYTHING_PAYLOAD);
  });

  it('reads anything it cannot read in full as "everything"', () => {
    for (const payload of [
      undefined,
      '',
      '*',
      'not json',
      '[]',
      '{"v":2,"d":[],"s":[]}',
      '{"v":1,"d":[[],[],[],[],[],[],[]],"s":[]}',
      '{"v":1,"d":[["a"],["b"],["c"],["d"],["e"],["f"],["g"],[{}]],"s":[0,0,0,0,0,0,0]}',
      '{"v":1,"d":[["a"],["b"],["c"],["d"],["e"],["f"],["g"],[{}]],"s":[0,0,0,0,0,0,0,1]}',
      '{"v":1,"d":[["a"],["b"],["c"],["d"],["e"],["f"],[7],[{}]],"s":[0,0,0,0,0,0,0,0]}',
      '{"v":1,"d":[["a"],["b"],["c"],["d"],["e"],["f"],["g"],[{"k":1}]],"s":[0,0,0,0,0,0,0,0]}',
    ])
      expect([payload, decodeTouched(payload)]).toEqual([payload, 'everything']);
    expect(decodeTouched('{"v":1,"d":[["a"],["b"],["c"],["d"],["e"],["f"],["g"],[{}]],"s":[0,0,0,0,0,0,0,0]}')).toEqual(
      [{ provider: 'a', model: 'b', project: 'c', team: 'd', user: 'e', feature: 'f', environment: 'g', tags: {} }],
    );
  });
});
