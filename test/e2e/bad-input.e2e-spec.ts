import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent } from '../support/factories';
import { HttpClient } from '../support/http';

/** Every rejection is problem+json naming the bad fields; nothing is stored from a rejected event. */
describe('POST /v1/events rejects bad input clearly', () => {
  let t: TestApp;
  let ingest: HttpClient;

  beforeAll(async () => {
    t = await startTestApp();
    ({ client: ingest } = await projectWithIngestKey(t.http));
  });
  afterAll(() => t?.close());

  async function expectProblem(
    body: unknown,
    status: number,
    errors: Array<{ path: string; message?: string | RegExp }>,
  ) {
    const res = await ingest.post('/v1/events', body);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status,
      type: expect.any(String),
      title: expect.any(String),
      detail: expect.any(String),
    });
    for (const expected of errors) {
      const found = res.body.errors.find((e: { path: string }) => e.path === expected.path);
      expect({ path: expected.path, found: !!found, all: res.body.errors }).toMatchObject({ found: true });
      if (expected.message) expect(found.message).toMatch(expected.message);
    }
    expect(res.body.errors).toHaveLength(errors.length);
    return res;
  }

  it.each(['event_id', 'timestamp', 'provider', 'model'])('names a missing %s', async (field) => {
    const event = usageEvent();
    delete event[field];
    await expectProblem(event, 400, [{ path: field, message: 'is required' }]);
  });

  it('names every field of the wrong type', async () => {
    await expectProblem(
      usageEvent({
        event_id: 42,
        images: '1',
        usage: { input_text_tokens: '12' },
        dimensions: { team: 5 },
        tags: { campaign: 7 },
        status: 'fine',
      }),
      400,
      [
        { path: 'event_id', message: 'must be a string' },
        { path: 'images', message: 'must be a number' },
        { path: 'usage.input_text_tokens', message: 'must be a number' },
        { path: 'dimensions.team', message: 'must be a string' },
        { path: 'tags.campaign', message: 'must be a string' },
        { path: 'status', message: 'must be ok or error' },
      ],
    );
  });

  it('refuses negative, fractional and absurd token counts', async () => {
    await expectProblem(
      usageEvent({ usage: { input_text_tokens: -1, input_image_tokens: 1.5, output_image_tokens: 1_000_000_001 } }),
      400,
      [
        { path: 'usage.input_text_tokens', message: 'must not be negative' },
        { path: 'usage.input_image_tokens', message: 'must be a whole number' },
        { path: 'usage.output_image_tokens', message: 'must be at most 1000000000' },
      ],
    );
  });

  it.each(['2026-11-27', 'yesterday', '2026-11-27 10:15:00', '1795766400', '2026-11-27T10:15:00'])(
    'refuses the timestamp %p (not RFC 3339)',
    async (timestamp) => {
      await expectProblem(usageEvent({ timestamp }), 400, [{ path: 'timestamp', message: /RFC 3339/ }]);
    },
  );

  it('refuses a timestamp that is no real date', async () => {
    await expectProblem(usageEvent({ timestamp: '2026-02-30T25:61:00Z' }), 400, [{ path: 'timestamp' }]);
  });

  it.each([
    '2026-02-29T10:00:00Z',
    '2026-04-31T10:00:00Z',
    '2026-11-31T10:00:00Z',
    '2026-11-20T10:00:00+16:00',
    '2026-11-20T10:00:00-23:59',
  ])(
    'refuses the timestamp %p that passes Date.parse but is no date PostgreSQL takes, and keeps the valid events of the batch',
    async (timestamp) => {
      const good = usageEvent({ timestamp: new Date(Date.now() - 60_000).toISOString() });
      const res = await ingest.post('/v1/events', { events: [usageEvent({ timestamp }), good] });
      expect(res.status).toBe(202);
      expect(res.body.rejected).toEqual([
        expect.objectContaining({ index: 0, errors: [expect.objectContaining({ path: 'events[0].timestamp' })] }),
      ]);
      expect(res.body.results).toEqual([expect.objectContaining({ event_id: good.event_id, status: 'accepted' })]);
    },
  );

  it('accepts a leap day and the widest offsets PostgreSQL takes', async () => {
    const res = await ingest.post('/v1/events', {
      events: [
        usageEvent({ timestamp: '2024-02-29T10:00:00Z' }),
        usageEvent({ timestamp: '2026-11-20T10:00:00+15:59' }),
        usageEvent({ timestamp: '2026-11-20T10:00:00-15:59' }),
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(3);
  });

  it('refuses a timestamp more than 5 minutes in the future, accepts one within the skew', async () => {
    await expectProblem(usageEvent({ timestamp: new Date(Date.now() + 6 * 60_000).toISOString() }), 400, [
      { path: 'timestamp', message: 'is more than 5 minutes in the future' },
    ]);
    const near = await ingest.post(
      '/v1/events',
      usageEvent({ timestamp: new Date(Date.now() + 60_000).toISOString() }),
    );
    expect(near.status).toBe(202);
  });

  it('refuses unknown token kinds in usage', async () => {
    await expectProblem(usageEvent({ usage: { input_text_tokens: 1, reasoning_tokens: 5 } }), 400, [
      { path: 'usage.reasoning_tokens', message: 'is not a known field' },
    ]);
  });

  it('refuses more than 20 tags and tag values over 200 characters', async () => {
    const tags = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`t${i}`, 'x']));
    await expectProblem(usageEvent({ tags }), 400, [{ path: 'tags', message: 'must have at most 20 tags' }]);
    await expectProblem(usageEvent({ tags: { note: 'x'.repeat(201) } }), 400, [
      { path: 'tags.note', message: 'must be at most 200 characters' },
    ]);
  });

  it('answers 413 for a body over 1 MB', async () => {
    const res = await ingest.request('POST', '/v1/events', undefined, {
      headers: { 'content-type': 'application/json' },
      raw: JSON.stringify({ events: [usageEvent({ tags: { pad: 'x' } })], pad: 'x'.repeat(1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual([{ path: '(body)', message: 'must be at most 1 MB' }]);
  });

  it('answers 413 for more than 1,000 events, and takes exactly 1,000', async () => {
    const tiny = (i: number) => ({
      event_id: `e${i}`,
      timestamp: '2026-11-01T00:00:00Z',
      provider: 'openai',
      model: 'gpt-image-2',
    });
    await expectProblem({ events: Array.from({ length: 1001 }, (_, i) => tiny(i)) }, 413, [
      { path: 'events', message: 'must hold at most 1000 events' },
    ]);
    const full = await ingest.post('/v1/events', { events: Array.from({ length: 1000 }, (_, i) => tiny(i)) });
    expect(full.status).toBe(202);
    expect(full.body.accepted).toBe(1000);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await ingest.request('POST', '/v1/events', undefined, {
      headers: { 'content-type': 'application/json' },
      raw: '{"event_id": "x",',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual([{ path: '(body)', message: 'is not valid JSON' }]);
  });

  it('takes content-type JSON with an empty body as no body: a POST that needs none works, one that does names it', async () => {
    // Generic clients send the header on every POST; the trial saw POST /v1/pricing/refresh answer "not valid JSON".
    const json = { headers: { 'content-type': 'application/json' }, raw: '' };
    const refresh = await t.http.request('POST', '/v1/pricing/refresh', undefined, json);
    expect([refresh.status, refresh.body.status]).toEqual([201, expect.any(String)]);
    const res = await ingest.request('POST', '/v1/events', undefined, json);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual([{ path: '(body)', message: expect.not.stringMatching(/JSON/) }]);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])(
    'answers 415 for content type %s',
    async (type) => {
      const res = await ingest.request('POST', '/v1/events', undefined, {
        headers: { 'content-type': type },
        raw: 'event_id=x',
      });
      expect(res.status).toBe(415);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.errors).toEqual([{ path: '(content-type)', message: 'must be application/json' }]);
    },
  );

  it('names the body when it is not an event at all', async () => {
    for (const body of [null, 42, 'event', true]) {
      await expectProblem(body, 400, [{ path: '(body)' }]);
    }
    await expectProblem({ events: 'many' }, 400, [{ path: 'events', message: 'must be an array of events' }]);
    await expectProblem({ events: [] }, 400, [{ path: 'events', message: 'must hold at least one event' }]);
    await expectProblem({ events: [1, null] }, 400, [
      { path: 'events[0]', message: 'must be an event object' },
      { path: 'events[1]', message: 'must be an event object' },
    ]);
  });

  it('never answers 500 to malformed input', async () => {
    const bodies: unknown[] = [
      {},
      [],
      [[]],
      { events: [{}] },
      { events: [{ usage: null, dimensions: [], tags: [] }] },
      usageEvent({ usage: [] }),
      usageEvent({ usage: { input_text_tokens: 1e308 } }),
      usageEvent({ usage: { input_text_tokens: Number.MAX_SAFE_INTEGER + 2 } }),
      usageEvent({ event_id: '' }),
      usageEvent({ event_id: 'x'.repeat(10_000) }),
      usageEvent({ model: '' }),
      usageEvent({ dimensions: { team: 'a', cost_center: 'b' } }),
      usageEvent({ tags: { '': 'empty name' } }),
      usageEvent({ latency_ms: -1 }),
      usageEvent({ timestamp: '0000-01-01T00:00:00Z' }),
      usageEvent({ event_id: 'nul\u0000byte' }),
      { events: [usageEvent({ event_id: { nested: { deeply: [1, 2, 3] } } })] },
    ];
    for (const body of bodies) {
      const res = await ingest.post('/v1/events', body);
      expect({ body, status: res.status < 500 ? 'under 500' : res.text }).toEqual({ body, status: 'under 500' });
      expect(res.headers.get('content-type')).toMatch(/json/);
    }
  });
});
