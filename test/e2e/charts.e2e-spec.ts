import { ChartRenderer } from '@tokentally/reporting';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';

describe('GET /v1/charts/<name>.png', () => {
  let t: TestApp;
  let viewer: HttpClient;

  beforeAll(async () => {
    t = await startTestApp();
    const project = await projectWithIngestKey(t.http);
    await project.client.post('/v1/events', {
      events: [
        usageEvent({ timestamp: '2026-11-20T10:00:00Z' }),
        usageEvent({ provider: 'vercel', timestamp: '2026-11-21T10:00:00Z' }),
      ],
    });
    viewer = await viewerClient(t.http);
  });
  afterAll(() => t?.close());

  it.each(['spend', 'tokens', 'providers', 'budgets'])('renders %s.png as a PNG of the asked size', async (name) => {
    const res = await fetch(`${t.url}/v1/charts/${name}.png?from=2026-11-15&to=2026-11-25&width=640&height=320`, {
      headers: { authorization: `Bearer ${viewer.key}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await res.arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([640, 320]);
  });

  it("draws budgets.png from the budgets' real status", async () => {
    const budget = await t.http.post('/v1/budgets', { name: 'Chart budget', amount_usd: '100.00', period: 'month' });
    expect(budget.status).toBe(201);
    for (const query of ['', `?budget_id=${budget.body.id}&width=400&height=300`]) {
      const res = await fetch(`${t.url}/v1/charts/budgets.png${query}`, {
        headers: { authorization: `Bearer ${viewer.key}` },
      });
      expect(res.status).toBe(200);
      expect(
        Buffer.from(await res.arrayBuffer())
          .subarray(1, 4)
          .toString(),
      ).toBe('PNG');
    }
    expect((await viewer.get('/v1/charts/budgets.png?budget_id=00000000-0000-4000-8000-000000000000')).status).toBe(
      404,
    );
    expect((await viewer.get('/v1/charts/budgets.png?budget_id=nope')).body.errors).toEqual([
      { path: 'budget_id', message: 'must be a budget id (UUID)' },
    ]);
  });

  it("says in providers.png when a model's actual is incomplete, and which providers are not compared", async () => {
    const project = await projectWithIngestKey(t.http);
    await project.client.post('/v1/events', {
      events: [
        usageEvent({ timestamp: '2026-10-05T10:00:00Z' }),
        // Images made with no usage reported: gpt-image-2 has no per-image price, here or anywhere.
        usageEvent({ timestamp: '2026-10-05T11:00:00Z', usage: null, images: 1 }),
        usageEvent({ model: 'gpt-image-1.5', timestamp: '2026-10-05T12:00:00Z' }),
      ],
    });
    const renderer = t.app.get(ChartRenderer);
    const png = jest.spyOn(renderer, 'png');
    try {
      const res = await fetch(
        `${t.url}/v1/charts/providers.png?project=${project.projectId}&from=2026-10-05&to=2026-10-05`,
        {
          headers: { authorization: `Bearer ${viewer.key}` },
        },
      );
      expect(res.status).toBe(200);
      expect(png).toHaveBeenCalledTimes(1);
      const config = png.mock.calls[0][0];
      expect([...(config.data.labels as string[])].sort()).toEqual([
        'gpt-image-1.5',
        'gpt-image-2 (actual incomplete: 1 call not priced; not compared at azure, openai, vercel)',
      ]);
    } finally {
      png.mockRestore();
    }
  });

  it('answers 404 for an unknown chart and 400 for bad parameters', async () => {
    expect((await viewer.get('/v1/charts/pie.png')).status).toBe(404);
    const bad = await viewer.get('/v1/charts/spend.png?granularity=fortnight');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('granularity');
  });
});
