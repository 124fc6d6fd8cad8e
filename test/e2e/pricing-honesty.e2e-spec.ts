import { startTestApp, TestApp } from '../support/app';
import { viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';
import { FakePriceSources, startFakePriceSources } from '../fakes/price-sources';

/**
 * GET /v1/pricing says where its prices come from: which sources are
 * configured, whether the last refresh read a remote source or only the
 * built-in catalog, and when a remote source was last read. (Found defect:
 * "Prices last refreshed 3 min ago" when no source was configured and only
 * the catalog had been read.)
 */
describe('pricing honesty: sources configured and what a refresh read', () => {
  const byName = (body: any) => Object.fromEntries(body.sources.map((s: any) => [s.name, s]));

  describe('with no source configured', () => {
    let t: TestApp;
    let viewer: HttpClient;

    beforeAll(async () => {
      t = await startTestApp();
      viewer = await viewerClient(t.http);
    });
    afterAll(() => t?.close());

    it('before any refresh: catalog only, no refresh, every remote source unconfigured', async () => {
      const body = (await viewer.get('/v1/pricing')).body;
      expect(body).toMatchObject({ last_refresh: null, catalog_only: true, last_remote_refresh: null });
      expect(body.sources).toEqual([
        { name: 'catalog', kind: 'builtin', setting: null, url_configured: false, last_read: null },
        { name: 'litellm', kind: 'remote', setting: 'PRICING_LITELLM_URL', url_configured: false, last_read: null },
        {
          name: 'openrouter',
          kind: 'remote',
          setting: 'PRICING_OPENROUTER_URL',
          url_configured: false,
          last_read: null,
        },
        { name: 'vercel', kind: 'remote', setting: 'PRICING_VERCEL_URL', url_configured: false, last_read: null },
      ]);
      expect(body.freshness_note).toMatch(
        /^No price source is configured \(PRICING_LITELLM_URL, PRICING_OPENROUTER_URL, PRICING_VERCEL_URL\)/,
      );
      expect(body.data.length).toBeGreaterThan(0); // the catalog's prices
    });

    it('after a refresh: a refresh happened, but it read the built-in catalog only, and says so', async () => {
      const run = (await t.http.post('/v1/pricing/refresh')).body;
      expect(run.status).toBe('succeeded');
      const body = (await viewer.get('/v1/pricing')).body;
      expect(body.last_refresh).toEqual({
        run_id: run.id,
        finished_at: run.finished_at,
        status: 'succeeded',
        sources_read: ['catalog'],
      });
      expect(body.catalog_only).toBe(true);
      expect(body.last_remote_refresh).toBeNull();
      const sources = byName(body);
      expect(sources.catalog.last_read).toEqual({ run_id: run.id, finished_at: run.finished_at });
      for (const name of ['litellm', 'openrouter', 'vercel'])
        expect(sources[name]).toMatchObject({ url_configured: false, last_read: null });
      expect(body.freshness_note).toMatch(/^No price source is configured/);
    });

    it('is for viewers: no key is a 401', async () => {
      expect((await viewer.as(null).get('/v1/pricing')).status).toBe(401);
    });
  });

  describe('with LiteLLM and OpenRouter configured (fake servers), Vercel not', () => {
    let t: TestApp;
    let sources: FakePriceSources;
    let viewer: HttpClient;

    beforeAll(async () => {
      sources = await startFakePriceSources();
      t = await startTestApp({
        PRICING_LITELLM_URL: sources.urls.litellm,
        PRICING_OPENROUTER_URL: sources.urls.openrouter,
        PRICING_TIMEOUT_MS: '500',
      });
      viewer = await viewerClient(t.http);
    });
    afterEach(() => sources.reset());
    afterAll(async () => {
      await t?.close();
      await sources?.close();
    });

    it('before any refresh: the configured sources are named, nothing was read yet', async () => {
      const body = (await viewer.get('/v1/pricing')).body;
      expect(body).toMatchObject({ last_refresh: null, catalog_only: true, last_remote_refresh: null });
      expect(body.sources.map((s: any) => [s.name, s.url_configured])).toEqual([
        ['catalog', false],
        ['litellm', true],
        ['openrouter', true],
        ['vercel', false],
      ]);
      expect(JSON.stringify(body.sources)).not.toContain('127.0.0.1'); // whether a URL is set, never the URL (it may carry a token)
      expect(body.freshness_note).toMatch(/have not been read yet/);
    });

    it('after a refresh that read both: not catalog only, the last remote refresh names them', async () => {
      const run = (await t.http.post('/v1/pricing/refresh')).body;
      expect(run.status).toBe('succeeded');
      const body = (await viewer.get('/v1/pricing')).body;
      expect(body.catalog_only).toBe(false);
      expect(body.last_refresh).toMatchObject({
        run_id: run.id,
        status: 'succeeded',
        sources_read: ['catalog', 'litellm', 'openrouter'],
      });
      expect(body.last_remote_refresh).toEqual({
        run_id: run.id,
        finished_at: run.finished_at,
        sources: ['litellm', 'openrouter'],
      });
      const state = byName(body);
      expect(state.litellm.last_read).toEqual({ run_id: run.id, finished_at: run.finished_at });
      expect(state.vercel).toMatchObject({ url_configured: false, last_read: null });
      expect(body.freshness_note).toBe(
        'The last successful refresh read litellm, openrouter on top of the built-in catalog.',
      );
    });

    it('when one source fails: the run is partial, each source keeps the last time it was read', async () => {
      const first = (await viewer.get('/v1/pricing')).body.last_remote_refresh;
      sources.modes.litellm = 'error500';
      const run = (await t.http.post('/v1/pricing/refresh')).body;
      expect(run.status).toBe('partial');
      const body = (await viewer.get('/v1/pricing')).body;
      expect(body.catalog_only).toBe(false);
      expect(body.last_refresh).toMatchObject({
        run_id: run.id,
        status: 'partial',
        sources_read: ['catalog', 'openrouter'],
      });
      expect(body.last_remote_refresh).toEqual({
        run_id: run.id,
        finished_at: run.finished_at,
        sources: ['openrouter'],
      });
      const state = byName(body);
      expect(state.litellm.last_read.run_id).toBe(first.run_id);
      expect(state.openrouter.last_read.run_id).toBe(run.id);
      expect(body.freshness_note).toMatch(/read openrouter \(not litellm; see GET \/v1\/pricing\/runs\)/);
    });

    it('when every source fails: the failed run is no refresh, the last remote refresh stays', async () => {
      const before = (await viewer.get('/v1/pricing')).body;
      sources.modes.litellm = 'error500';
      sources.modes.openrouter = 'broken';
      const run = (await t.http.post('/v1/pricing/refresh')).body;
      expect(run.status).toBe('failed');
      const body = (await viewer.get('/v1/pricing')).body;
      expect(body.last_refresh).toEqual(before.last_refresh);
      expect(body.last_remote_refresh).toEqual(before.last_remote_refresh);
      expect(body.catalog_only).toBe(false);
    });
  });
});
