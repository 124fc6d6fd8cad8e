import { TouchedValues } from './budget-evaluator.service';

const touched = {
  provider: 'openai',
  model: 'gpt-image-2',
  project: 'p1',
  team: 'growth',
  user: 'u_1',
  feature: 'avatars',
  environment: 'prod',
  tags: { campaign: 'bf' },
};

describe('TouchedValues', () => {
  const values = new TouchedValues();
  values.add(touched);
  values.add({ ...touched, provider: 'vercel', team: 'core', tags: {} });

  it('matches a budget with an empty scope once anything was stored', () => {
    expect(values.mayMatch({})).toBe(true);
    expect(new TouchedValues().mayMatch({})).toBe(false);
  });

  it('needs every named dimension and the tag among the stored values', () => {
    expect(values.mayMatch({ team: 'growth', provider: 'openai' })).toBe(true);
    expect(values.mayMatch({ team: 'core', provider: 'vercel' })).toBe(true);
    expect(values.mayMatch({ team: 'search' })).toBe(false);
    expect(values.mayMatch({ tags: { campaign: 'bf' } })).toBe(true);
    expect(values.mayMatch({ tags: { campaign: 'spring' } })).toBe(false);
    expect(values.mayMatch({ project: 'p2' })).toBe(false);
  });

  it('over-approximates rather than miss: a cross combination of stored values may match', () => {
    // No event had team core with provider openai, but both values were stored.
    expect(values.mayMatch({ team: 'core', provider: 'openai' })).toBe(true);
  });

  it('matches every budget once "everything" was noted (a signal from another process may have been missed)', () => {
    const everything = new TouchedValues();
    everything.addEverything();
    expect(everything.mayMatch({})).toBe(true);
    expect(everything.mayMatch({ team: 'search', project: 'p2', tags: { campaign: 'spring' } })).toBe(true);
  });
});
