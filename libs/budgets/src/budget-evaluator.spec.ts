import { inScope } from './budget-evaluator.service';

const touched = { provider: 'openai', model: 'gpt-image-2', project: 'p1', team: 'growth', user: 'u_1', feature: 'avatars', environment: 'prod', tags: { campaign: 'bf' } };

describe('inScope', () => {
  it('counts every event toward a budget with an empty scope', () => {
    expect(inScope({}, touched)).toBe(true);
  });

  it('needs every named dimension and the tag to match', () => {
    expect(inScope({ team: 'growth', provider: 'openai' }, touched)).toBe(true);
    expect(inScope({ team: 'growth', provider: 'vercel' }, touched)).toBe(false);
    expect(inScope({ tags: { campaign: 'bf' } }, touched)).toBe(true);
    expect(inScope({ tags: { campaign: 'spring' } }, touched)).toBe(false);
    expect(inScope({ project: 'p2' }, touched)).toBe(false);
  });
});
