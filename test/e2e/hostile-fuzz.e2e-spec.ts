import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { HttpClient, HttpResponse } from '../support/http';
import {
  deepNestingText,
  hostileDateText,
  hostileJson,
  hostileNumber,
  hostileQuery,
  hostileString,
  hostileWebhookUrl,
  mutate,
  withPrototypeKeys,
} from '../support/arbitraries';

/**
 * Issue 11: hostile input, first the defects a tester found (each a
 * regression test named after what it proves), then generated input
 * (fast-check) against every route family of the running app.
 *
 * Properties of every generated request: never a 5xx; every 4xx is
 * application/problem+json, and a validation error names at least one field;
 * a valid event in a batch of bad ones is stored exactly once; the process
 * still answers /health at the end.
 *
 * Reproduce a run with TT_FUZZ_SEED=<seed> (printed at the start and on a
 * failure, with the failing request); TT_FUZZ_SCALE=2 sends twice as many.
 */
const SEED = Number(process.env.TT_FUZZ_SEED ?? 20261111);
const SCALE = Number(process.env.TT_FUZZ_SCALE ?? 1);
const PROBLEM = /^application\/problem\+json/;
const NUL_MESSAGE = 'must not contain NUL characters';
const SURROGATE_MESSAGE = 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)';

function expectProblem(
  res: HttpResponse,
  status: number,
  errors: Array<{ path: string; message?: unknown }>,
  context = '',
) {
  expect({ context, status: res.status, type: res.headers.get('content-type'), errors: res.body?.errors }).toEqual({
    context,
    status,
    type: expect.stringMatching(PROBLEM),
    errors: errors.map((e) => ({ path: e.path, message: e.message ?? expect.any(String) })),
  });
}

describe('hostile input (issue 11)', () => {
  let t: TestApp;
  let admin: HttpClient;
  let viewer: HttpClient;
  let ingest: HttpClient;
  let projectId: string;

  beforeAll(async () => {
    // WEBHOOK_ALLOW_PRIVATE stays unset: generated webhook URLs are refused or point at 127.0.0.1, never elsewhere.
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: undefined });
    admin = t.http;
    viewer = await viewerClient(admin);
    ({ client: ingest, projectId } = await projectWithIngestKey(admin, 'fuzz'));
  });
  afterAll(() => t?.close());

  const budget = (overrides: Record<string, unknown> = {}) => ({
    name: 'b',
    amount_usd: '10.00',
    period: 'month',
    ...overrides,
  });

  describe('lone UTF-16 surrogates (were stored as U+FFFD, so different ids collided)', () => {
    it('an event_id with a lone surrogate is refused with 400 naming event_id, and a second one is not answered duplicate', async () => {
      for (const eventId of ['sur\ud800', 'sur\ud801', 'x\udc00', '\udbff']) {
        expectProblem(
          await ingest.post('/v1/events', usageEvent({ event_id: eventId })),
          400,
          [{ path: 'event_id', message: SURROGATE_MESSAGE }],
          eventId,
        );
      }
      const listed = await viewer.get('/v1/events?limit=1000');
      expect(listed.body.data.filter((e: any) => /^sur|^x|\ufffd/.test(e.event_id))).toEqual([]);
    });

    it('every text field of an event refuses a lone surrogate, naming it, and the valid events of the batch are kept', async () => {
      const bad = [
        ['provider', { provider: 'open\ud800ai' }],
        ['model', { model: 'gpt-image-2\udfff' }],
        ['operation', { operation: '\ud800' }],
        ['image_size', { image_size: '1024x1024\ud800' }],
        ['image_quality', { image_quality: '\udc00high' }],
        ['dimensions.team', { dimensions: { team: 'gr\ud800owth' } }],
        ['dimensions.user', { dimensions: { user: '\ud800' } }],
        ['dimensions.feature', { dimensions: { feature: '\ud800' } }],
        ['dimensions.environment', { dimensions: { environment: '\ud800' } }],
        ['tags.campaign', { tags: { campaign: 'bf\ud800' } }],
        ['tags.ca\ud800', { tags: { 'ca\ud800': 'x' } }],
      ] as const;
      const good = usageEvent();
      const res = await ingest.post('/v1/events', { events: [...bad.map(([, o]) => usageEvent(o)), good] });
      expect(res.status).toBe(202);
      expect(res.body.results).toEqual([expect.objectContaining({ event_id: good.event_id, status: 'accepted' })]);
      expect(res.body.rejected.map((r: any) => r.errors)).toEqual(
        bad.map(([path], i) => [{ path: `events[${i}].${path}`, message: SURROGATE_MESSAGE }]),
      );
    });

    it('a well-formed surrogate pair (an emoji) is accepted and stored as sent', async () => {
      const eventId = `emoji-\ud83d\ude00-${randomUUID()}`;
      const res = await ingest.post(
        '/v1/events',
        usageEvent({ event_id: eventId, dimensions: { team: 't\ud83d\ude00' } }),
      );
      expect(res.body.results).toEqual([expect.objectContaining({ event_id: eventId, status: 'accepted' })]);
      const listed = await viewer.get(`/v1/events?team=${encodeURIComponent('t\ud83d\ude00')}`);
      expect(listed.body.data.map((e: any) => e.event_id)).toEqual([eventId]);
    });

    it('names, scopes, URLs and descriptions of every admin body refuse a lone surrogate, naming the field', async () => {
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', '/v1/projects', { name: 'p\ud800' }, 'name'],
        ['POST', '/v1/keys', { name: 'k\ud800', role: 'viewer' }, 'name'],
        ['POST', '/v1/budgets', budget({ name: '\ud800' }), 'name'],
        ['POST', '/v1/budgets', budget({ scope: { team: 'g\ud800' } }), 'scope.team'],
        ['POST', '/v1/budgets', budget({ scope: { provider: 'openai\ud800' } }), 'scope.provider'],
        ['POST', '/v1/budgets', budget({ scope: { tags: { campaign: '\udc00' } } }), 'scope.tags.campaign'],
        ['POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/\ud800' }, 'url'],
        ['POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', description: 'd\ud800' }, 'description'],
        ['PUT', '/v1/pricing/overrides', { provider: 'openai\ud800', discount_pct: '10' }, 'provider'],
        ['PUT', '/v1/pricing/overrides', { provider: 'openai', model: 'm\ud800', prices: { input: '1.00' } }, 'model'],
      ];
      for (const [method, path, body, field] of cases) {
        expectProblem(
          await admin.request(method, path, body),
          400,
          [{ path: field, message: SURROGATE_MESSAGE }],
          `${method} ${path} ${field}`,
        );
      }
    });

    it('a lone surrogate cannot arrive in a query string: its UTF-8 bytes decode to U+FFFD, which matches nothing', async () => {
      const res = await viewer.get('/v1/events?model=%ED%A0%80');
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([]);
    });
  });

  describe('inputs that were 500s', () => {
    it('GET /v1/reports/summary?tag:=x (an empty tag key) is a 400 naming the parameter, on every report and chart', async () => {
      for (const path of [
        '/v1/reports/summary?tag:=x',
        '/v1/reports/spend?tag:=x',
        '/v1/reports/tokens?tag:=',
        '/v1/charts/spend.png?tag:=x',
      ]) {
        expectProblem(await viewer.get(path), 400, [{ path: 'tag:' }], path);
      }
    });

    it('GET /v1/events?from=1 is a 400 naming from', async () => {
      expectProblem(await viewer.get('/v1/events?from=1'), 400, [{ path: 'from' }]);
    });

    it.each([
      '0000-01-01T00:00:00Z',
      '2026-01-01T00:00:00+16:00',
      '2026-01-01T00:00:00-23:59',
      '2026-02-30T00:00:00Z',
      '2026-01-01',
    ])('GET /v1/alerts?before=%s is a 400 naming before (PostgreSQL does not take it)', async (before) => {
      expectProblem(await viewer.get(`/v1/alerts?before=${encodeURIComponent(before)}`), 400, [{ path: 'before' }]);
    });

    it('GET /v1/alerts takes the widest offsets PostgreSQL takes and refuses a limit that is not a whole number', async () => {
      expect((await viewer.get(`/v1/alerts?before=${encodeURIComponent('2026-01-01T00:00:00+15:59')}`)).status).toBe(
        200,
      );
      expect((await viewer.get(`/v1/alerts?before=${encodeURIComponent('0001-01-01T00:00:00-15:59')}`)).status).toBe(
        200,
      );
      expectProblem(await viewer.get('/v1/alerts?limit=0x10'), 400, [{ path: 'limit' }]);
    });

    it('GET /v1/webhooks/:id/deliveries?before=0000-01-01T00:00:00Z is a 400 naming before', async () => {
      expectProblem(await admin.get(`/v1/webhooks/${randomUUID()}/deliveries?before=0000-01-01T00:00:00Z`), 400, [
        { path: 'before' },
      ]);
      expectProblem(
        await admin.get(
          `/v1/webhooks/${randomUUID()}/deliveries?before=${encodeURIComponent('2026-01-01T00:00:00+16:00')}`,
        ),
        400,
        [{ path: 'before' }],
      );
    });

    it.each(['1,5', '0x10', '1e3', ' 1', '-1', '', '1.', '.5'])(
      'POST /v1/budgets with amount_usd %p is a 400 naming amount_usd',
      async (amount) => {
        expectProblem(await admin.post('/v1/budgets', budget({ amount_usd: amount })), 400, [
          { path: 'amount_usd', message: 'must be a positive decimal string such as "1000.00"' },
        ]);
      },
    );

    it('PATCH /v1/budgets/:id with amount_usd "1,5" is a 400 naming amount_usd; "0" says it must be more than 0', async () => {
      const created = await admin.post('/v1/budgets', budget());
      expect(created.status).toBe(201);
      expectProblem(await admin.request('PATCH', `/v1/budgets/${created.body.id}`, { amount_usd: '1,5' }), 400, [
        { path: 'amount_usd' },
      ]);
      expectProblem(await admin.request('PATCH', `/v1/budgets/${created.body.id}`, { amount_usd: '0.00' }), 400, [
        { path: 'amount_usd', message: 'must be more than 0' },
      ]);
    });

    it('POST /v1/budgets with a NUL in scope.tags (name or value) or another scope field is a 400 naming it', async () => {
      expectProblem(await admin.post('/v1/budgets', budget({ scope: { tags: { 'a\u0000': 'b' } } })), 400, [
        { path: 'scope.tags.a\u0000', message: NUL_MESSAGE },
      ]);
      expectProblem(await admin.post('/v1/budgets', budget({ scope: { tags: { a: 'b\u0000' } } })), 400, [
        { path: 'scope.tags.a', message: NUL_MESSAGE },
      ]);
      expectProblem(await admin.post('/v1/budgets', budget({ scope: { team: '\u0000' } })), 400, [
        { path: 'scope.team', message: NUL_MESSAGE },
      ]);
      expectProblem(await admin.post('/v1/budgets', budget({ scope: { tags: { '': 'b' } } })), 400, [
        { path: 'scope.tags.', message: 'tag names must not be empty' },
      ]);
    });

    it.each(['1,5', '0x10', '1e1', 'NaN'])(
      'PUT /v1/pricing/overrides with discount_pct %p is a 400 naming discount_pct',
      async (discount) => {
        expectProblem(
          await admin.request('PUT', '/v1/pricing/overrides', { provider: 'openai', discount_pct: discount }),
          400,
          [{ path: 'discount_pct' }],
        );
      },
    );

    it('PUT /v1/pricing/overrides with a price "1,5" or an effective_from PostgreSQL does not take is a 400 naming it', async () => {
      expectProblem(
        await admin.request('PUT', '/v1/pricing/overrides', { provider: 'fuzz', model: 'm', prices: { input: '1,5' } }),
        400,
        [{ path: 'prices.input' }],
      );
      for (const effective of ['0000-01-01T00:00:00Z', '2026-01-01T00:00:00+16:00', '2026-02-30T00:00:00Z']) {
        expectProblem(
          await admin.request('PUT', '/v1/pricing/overrides', {
            provider: 'fuzz',
            model: 'm',
            prices: { input: '1.00' },
            effective_from: effective,
          }),
          400,
          [{ path: 'effective_from' }],
          effective,
        );
      }
    });
  });

  describe('generated hostile input (fast-check)', () => {
    type Who = 'admin' | 'viewer' | 'ingest' | 'none' | 'bad';
    interface Req {
      family: string;
      who: Who;
      method: string;
      path: string;
      body?: unknown;
      raw?: string;
      headers?: Record<string, string>;
    }
    const byFamily = new Map<string, Map<number, number>>();
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let sent = 0;
    const goodIds = new Set<string>();
    let budgetId = randomUUID();
    let webhookId = randomUUID();

    const clientOf = (who: Who): HttpClient =>
      who === 'admin'
        ? admin
        : who === 'viewer'
          ? viewer
          : who === 'ingest'
            ? ingest
            : admin.as(who === 'none' ? null : 'tt_not_a_key');

    const describeReq = (req: Req) => {
      const body = req.raw ?? (req.body === undefined ? '' : JSON.stringify(req.body));
      const path = req.path.length > 400 ? `${req.path.slice(0, 400)}... (${req.path.length} chars)` : req.path;
      return `${req.method} ${path} as ${req.who}${req.headers ? ` ${JSON.stringify(req.headers)}` : ''}\n  body (${body.length} chars): ${JSON.stringify(body.slice(0, 600))}`;
    };

    /** What is wrong with an answer, or null. */
    function violation(res: HttpResponse): string | null {
      if (res.status >= 500) return `answered ${res.status}`;
      if (res.status < 400) return null;
      if (!PROBLEM.test(res.headers.get('content-type') ?? ''))
        return `a ${res.status} that is not problem+json (${res.headers.get('content-type')})`;
      if (res.body?.status !== res.status)
        return `problem status ${res.body?.status} is not the HTTP status ${res.status}`;
      if (/validation$/.test(res.body.type ?? '')) {
        const errors = res.body.errors;
        if (!Array.isArray(errors) || errors.length === 0) return 'a validation error that names no field';
        // A path may be '' only for a query parameter whose name is empty (`?=x`).
        if (
          !errors.every(
            (e: any) => typeof e?.path === 'string' && typeof e.message === 'string' && e.message.length > 0,
          )
        )
          return 'a validation error whose errors are not {path, message}';
      }
      return null;
    }

    async function send(req: Req): Promise<HttpResponse> {
      sent++;
      let res: HttpResponse;
      try {
        res = await clientOf(req.who).request(req.method, req.path, req.body, { raw: req.raw, headers: req.headers });
      } catch (error) {
        failures.push(`no answer (${(error as Error).message})\n  ${describeReq(req)}`);
        throw new Error(`no answer: ${(error as Error).message}\n  ${describeReq(req)}`, { cause: error });
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const family = byFamily.get(req.family) ?? new Map<number, number>();
      family.set(res.status, (family.get(res.status) ?? 0) + 1);
      byFamily.set(req.family, family);
      const wrong = violation(res);
      if (wrong) {
        const message = `${wrong}\n  ${describeReq(req)}\n  answer: ${res.text.slice(0, 400)}`;
        failures.push(message);
        throw new Error(message);
      }
      return res;
    }

    /** Sends a run's requests concurrently (a small batch; the app is in-process). */
    let waiting = 0;
    const sendAll = async (reqs: Req[]) => {
      const start = performance.now();
      try {
        return await Promise.all(reqs.map(send));
      } finally {
        waiting += performance.now() - start;
      }
    };
    const timings: string[] = [];

    async function fuzz<T>(arb: fc.Arbitrary<T>, numRuns: number, run: (value: T) => Promise<unknown>) {
      const [start, sentBefore, waitedBefore] = [performance.now(), sent, waiting];
      const name = expect.getState().currentTestName ?? '';
      try {
        await assertProperty(arb, numRuns, run);
      } finally {
        timings.push(
          `${((performance.now() - start) / 1000).toFixed(1)} s (${((waiting - waitedBefore) / 1000).toFixed(1)} s waiting for answers), ${sent - sentBefore} requests: ${name.replace(/^.*› /, '')}`,
        );
      }
    }
    async function assertProperty<T>(arb: fc.Arbitrary<T>, numRuns: number, run: (value: T) => Promise<unknown>) {
      await fc.assert(
        fc.asyncProperty(arb, async (value) => {
          await run(value);
        }),
        { seed: SEED, numRuns: Math.max(1, Math.round(numRuns * SCALE)), endOnFailure: true, verbose: 2 },
      );
    }

    beforeAll(async () => {
      console.log(`hostile fuzz: seed ${SEED} (TT_FUZZ_SEED), scale ${SCALE}, database ${t.database.kind}`);
      const created = await admin.post('/v1/budgets', budget({ name: 'fuzz target' }));
      if (created.status === 201) budgetId = created.body.id;
      const hook = await admin.post('/v1/webhooks', { url: 'http://127.0.0.1:9/hook', enabled: false });
      if (hook.status === 201) webhookId = hook.body.id;
    });

    afterAll(() => {
      const codes = [...statuses.keys()].sort((a, b) => a - b);
      const rows = [...byFamily.entries()].map(([family, counts]) => {
        const total = [...counts.values()].reduce((a, b) => a + b, 0);
        return `| ${family} | ${total} | ${codes.map((c) => counts.get(c) ?? 0).join(' | ')} |`;
      });
      const fiveHundreds = codes.filter((c) => c >= 500).reduce((sum, c) => sum + statuses.get(c)!, 0);
      console.log(
        [
          `hostile fuzz summary (seed ${SEED}, database ${t.database.kind}): ${sent} requests, ${fiveHundreds} answered 5xx, ${failures.length} property failures`,
          '',
          `| route family | requests | ${codes.join(' | ')} |`,
          `|---|---:|${codes.map(() => '---:').join('|')}|`,
          ...rows,
          `| **all** | **${sent}** | ${codes.map((c) => `**${statuses.get(c)}**`).join(' | ')} |`,
          '',
          ...timings,
          ...(failures.length ? ['', 'failures:', ...failures.slice(0, 20)] : []),
        ].join('\n'),
      );
    });

    // ---- ingest ------------------------------------------------------------

    const EVENT_FIELDS = {
      event_id: hostileString(),
      timestamp: hostileDateText,
      provider: hostileString(),
      model: hostileString(),
      operation: hostileString(),
      usage: hostileJson,
      'usage.input_text_tokens': hostileNumber,
      'usage.output_image_tokens': hostileNumber,
      'usage.cached_input_text_tokens': hostileJson,
      'usage.bogus_tokens': hostileNumber,
      images: hostileNumber,
      image_size: hostileString(),
      image_quality: hostileString(),
      status: hostileString(),
      latency_ms: hostileNumber,
      dimensions: hostileJson,
      'dimensions.team': hostileString(),
      'dimensions.user': hostileString(),
      'dimensions.bogus': hostileString(),
      tags: hostileJson,
      'tags.campaign': hostileString(),
      'tags.__proto__': hostileJson,
      extra: hostileJson,
    };
    const eventBase = () => {
      const { event_id: _ignored, timestamp: _t, ...rest } = usageEvent();
      return rest;
    };
    /** A hostile event: a valid one with a few fields replaced (or a whole JSON value now and then). */
    const hostileEvent: fc.Arbitrary<unknown> = fc.oneof(
      {
        weight: 8,
        arbitrary: fc
          .tuple(fc.uuid(), mutate({ ...eventBase(), timestamp: 'NOW' }, Object.keys(EVENT_FIELDS), EVENT_FIELDS))
          .map(([id, e]) => ({
            event_id: `fz-${id}`,
            ...e,
            timestamp: e.timestamp === 'NOW' ? new Date(Date.now() - 60_000).toISOString() : e.timestamp,
          })),
      },
      { weight: 1, arbitrary: hostileJson },
    );
    const ingestAs = fc.oneof(
      { weight: 8, arbitrary: fc.constant({ who: 'ingest' as Who, path: '/v1/events' }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom<Who>('admin', 'viewer', 'none', 'bad').map((who) => ({ who, path: '/v1/events' })),
      },
      {
        weight: 1,
        arbitrary: hostileQuery(['project_id']).map((q) => ({ who: 'admin' as Who, path: `/v1/events?${q}` })),
      },
    );

    it('POST /v1/events, one hostile event at a time: never a 5xx, every refusal names a field', async () => {
      await fuzz(fc.array(fc.tuple(hostileEvent, ingestAs), { minLength: 8, maxLength: 8 }), 180, (list) =>
        sendAll(
          list.map(([body, as]) => ({ family: 'ingest: single', who: as.who, method: 'POST', path: as.path, body })),
        ),
      );
    });

    it('POST /v1/events, hostile batches and bare arrays: never a 5xx', async () => {
      const batch = fc
        .tuple(
          fc.array(hostileEvent, { minLength: 0, maxLength: 12 }),
          fc.constantFrom('events', 'bare', 'events-hostile'),
        )
        .map(([events, shape]) =>
          shape === 'events'
            ? { events }
            : shape === 'bare'
              ? events
              : { events: events.length ? events[0] : null, extra: events },
        );
      await fuzz(fc.array(batch, { minLength: 6, maxLength: 6 }), 160, (list) =>
        sendAll(
          list.map((body) => ({ family: 'ingest: batch', who: 'ingest', method: 'POST', path: '/v1/events', body })),
        ),
      );
    });

    it('POST /v1/events, mixed good and bad events: each valid event is accepted, and stored exactly once even when the batch is sent again', async () => {
      let n = 0;
      const mixed = fc.tuple(
        fc.array(hostileEvent, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        fc.boolean(),
      );
      await fuzz(fc.array(mixed, { minLength: 4, maxLength: 4 }), 120, async (list) => {
        const reqs = list.map(([bad, goodCount, places, bare, replay]) => {
          const events: unknown[] = [...bad];
          const good: string[] = [];
          for (let i = 0; i < goodCount; i++) {
            const event = usageEvent({
              event_id: `good-${SEED}-${n++}-${randomUUID().slice(0, 8)}`,
              tags: { fuzz: 'good' },
            });
            good.push(event.event_id);
            events.splice(places[i] % (events.length + 1), 0, event);
          }
          return {
            good,
            replay,
            req: {
              family: 'ingest: mixed',
              who: 'ingest' as Who,
              method: 'POST',
              path: '/v1/events',
              body: bare ? events : { events },
            },
          };
        });
        const check = (res: HttpResponse, body: unknown, good: string[], status: 'accepted' | 'duplicate') => {
          if (res.status === 413) return; // over 1 MB: nothing stored, said so
          // A `__proto__` or `constructor` key anywhere refuses the whole body (fastify's secure JSON parser): nothing
          // stored.
          if (res.status === 400 && /"(__proto__|constructor)"/.test(JSON.stringify(body))) return;
          if (res.status !== 202) throw new Error(`mixed batch answered ${res.status}: ${res.text.slice(0, 300)}`);
          for (const id of good) {
            const result = res.body.results.find((r: any) => r.event_id === id);
            if (result?.status !== status)
              throw new Error(
                `good event ${id} is ${JSON.stringify(result)} (expected ${status}); answer ${res.text.slice(0, 600)}`,
              );
            goodIds.add(id);
          }
        };
        const answers = await sendAll(reqs.map((r) => r.req));
        answers.forEach((res, i) => check(res, reqs[i].req.body, reqs[i].good, 'accepted'));
        const replays = reqs.filter((r, i) => r.replay && answers[i].status === 202);
        const again = await sendAll(replays.map((r) => r.req));
        again.forEach((res, i) => check(res, replays[i].req.body, replays[i].good, 'duplicate'));
      });
      const ids: string[] = [];
      for (let cursor: string | null = null, pages = 0; pages === 0 || cursor; pages++) {
        const listed: HttpResponse = await viewer.get(
          `/v1/events?tag:fuzz=good&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(listed.status).toBe(200);
        ids.push(...listed.body.data.map((e: any) => e.event_id));
        cursor = listed.body.next_cursor;
      }
      expect(ids.length).toBe(new Set(ids).size);
      expect(new Set(ids)).toEqual(goodIds);
    });

    it('odd content types and malformed bodies on every write route: never a 5xx, refusals are problem+json', async () => {
      const routes: Array<[Who, string, string]> = [
        ['ingest', 'POST', '/v1/events'],
        ['admin', 'POST', '/v1/budgets'],
        ['admin', 'POST', '/v1/webhooks'],
        ['admin', 'PUT', '/v1/pricing/overrides'],
        ['admin', 'POST', '/v1/pricing/reprice'],
        ['admin', 'POST', '/v1/projects'],
        ['admin', 'POST', '/v1/keys'],
        ['admin', 'PATCH', '/v1/budgets/BUDGET'],
      ];
      const payload = fc.oneof(
        fc.constantFrom(
          '',
          ' ',
          '{',
          '}',
          'null',
          '[]',
          '[{}]',
          '"x"',
          '1',
          '1e999',
          '-0',
          'NaN',
          'true',
          '{"a":1} x',
          '\ufeff{}',
          '{"events":NaN}',
          '{"a":1,"a":2}',
          '{"name":"x\\u0000"}',
          '{"name":"x\\ud800"}',
          '{"event_id":"\\udfff"}',
          '{"images":123456789012345678901234567890}',
          '{"amount_usd":1e308}',
          '%7B%7D',
          'name=x&role=admin',
          '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--',
        ),
        fc
          .tuple(hostileJson, fc.constantFrom<'__proto__' | 'constructor'>('__proto__', 'constructor'), hostileJson)
          .map(([v, key, inner]) =>
            withPrototypeKeys(JSON.stringify(typeof v === 'object' && v && !Array.isArray(v) ? v : { v }), key, inner),
          ),
        fc
          .tuple(fc.uuid(), fc.constantFrom<'__proto__' | 'constructor'>('__proto__', 'constructor'))
          .map(([id, key]) =>
            withPrototypeKeys(JSON.stringify(usageEvent({ event_id: `proto-${id}` })), key, { polluted: true }),
          ),
        deepNestingText(150_000),
        hostileJson.map((v) => JSON.stringify(v) ?? 'null'),
      );
      const contentType = fc.constantFrom(
        'application/json',
        'application/json',
        'application/JSON; charset=UTF-8',
        'application/json; charset=utf-16',
        'application/json;charset=latin1',
        'application/problem+json',
        'text/plain',
        'text/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        'application/xml',
        '*/*',
        ';',
        'application/json; boundary=',
      );
      const req = fc
        .tuple(fc.constantFrom(...routes), payload, fc.option(contentType, { nil: undefined }))
        .map(([[who, method, path], raw, type]): Req => ({
          family: 'content types and raw bodies',
          who,
          method,
          path: path.replace('BUDGET', budgetId),
          raw,
          headers: type === undefined ? {} : { 'content-type': type },
        }));
      await fuzz(fc.array(req, { minLength: 8, maxLength: 8 }), 130, sendAll);
    });

    // ---- queries -------------------------------------------------------------

    const REPORT_KEYS = [
      'from',
      'to',
      'granularity',
      'group_by',
      'tz',
      'basis',
      'limit',
      'raw',
      'provider',
      'model',
      'project',
      'team',
      'user',
      'feature',
      'environment',
      'tag:campaign',
      'period',
    ];
    const QUERY_ROUTES: Array<[family: string, who: Who, path: string, keys: string[]]> = [
      [
        'events list',
        'viewer',
        '/v1/events',
        [
          'from',
          'to',
          'provider',
          'model',
          'project',
          'team',
          'user',
          'feature',
          'environment',
          'status',
          'pricing',
          'limit',
          'cursor',
          'tag:campaign',
        ],
      ],
      ['reports', 'viewer', '/v1/reports/spend', REPORT_KEYS],
      ['reports', 'viewer', '/v1/reports/summary', REPORT_KEYS],
      ['reports', 'viewer', '/v1/reports/tokens', REPORT_KEYS],
      ['reports', 'viewer', '/v1/reports/compare-providers', REPORT_KEYS],
      ['reports', 'viewer', '/v1/reports/export.csv', REPORT_KEYS],
      ['charts', 'viewer', '/v1/charts/spend.png', [...REPORT_KEYS, 'width', 'height']],
      ['charts', 'viewer', '/v1/charts/providers.png', [...REPORT_KEYS, 'width', 'height']],
      ['charts', 'viewer', '/v1/charts/budgets.png', ['budget_id', 'width', 'height']],
      ['charts', 'viewer', '/v1/charts/shared/spend.png', ['sig', 'exp', 'from', 'to']],
      ['pricing (read)', 'viewer', '/v1/pricing', ['provider']],
      ['pricing (read)', 'viewer', '/v1/pricing/history', ['provider', 'model']],
      ['pricing (read)', 'viewer', '/v1/pricing/overrides', ['provider']],
      ['pricing (read)', 'viewer', '/v1/pricing/runs', ['limit']],
      ['pricing (read)', 'viewer', '/v1/pricing/coverage', ['from', 'to']],
      ['pricing (read)', 'viewer', '/v1/pricing/restatements', ['from']],
      ['pricing (read)', 'admin', '/v1/pricing/pending', ['status']],
      ['budgets', 'viewer', '/v1/budgets', ['with_status']],
      ['budgets', 'viewer', '/v1/budgets/BUDGET', ['x']],
      ['budgets', 'viewer', '/v1/budgets/BUDGET/status', ['x']],
      ['alerts', 'viewer', '/v1/alerts', ['type', 'budget_id', 'before', 'limit']],
      ['webhooks', 'admin', '/v1/webhooks', ['x']],
      ['webhooks', 'admin', '/v1/webhooks/WEBHOOK/deliveries', ['status', 'before', 'limit']],
      ['keys and projects', 'admin', '/v1/keys', ['x']],
      ['keys and projects', 'admin', '/v1/projects', ['x']],
    ];

    it('every GET route with hostile query strings (repeated and empty keys, %zz, impossible dates, long values): never a 5xx', async () => {
      const req = fc
        .tuple(fc.constantFrom(...QUERY_ROUTES), fc.integer({ min: 0, max: 1_000_000 }), fc.nat(20))
        .chain(([[family, who, path, keys], , odd]) =>
          hostileQuery(keys, 6, { emptyTagKey: true }).map((query): Req => ({
            family,
            who: odd === 0 ? 'ingest' : who,
            method: 'GET',
            path: `${path.replace('BUDGET', budgetId).replace('WEBHOOK', webhookId)}?${query}`,
          })),
        );
      await fuzz(fc.array(req, { minLength: 10, maxLength: 10 }), 300, sendAll);
    });

    it('report queries built from valid parts (dates, zones, groupings, filters), so that they reach the database: never a 5xx', async () => {
      const value: Record<string, fc.Arbitrary<string>> = {
        from: hostileDateText,
        to: hostileDateText,
        granularity: fc.constantFrom('hour', 'day', 'week', 'month', 'year', ''),
        group_by: fc.constantFrom(
          'provider',
          'model',
          'project',
          'team',
          'user',
          'feature',
          'environment',
          'none',
          'tag:campaign',
          'tag:fuzz',
          'tag:' + 'k'.repeat(64),
          'tag:a=b',
        ),
        tz: fc.constantFrom(
          'UTC',
          'Europe/Berlin',
          'Pacific/Kiritimati',
          'Pacific/Pago_Pago',
          'Asia/Kathmandu',
          'America/St_Johns',
          'Etc/GMT+12',
          'Etc/GMT-14',
          'Australia/Lord_Howe',
          'utc',
          'EST5EDT',
        ),
        basis: fc.constantFrom('restated', 'ingested'),
        limit: fc.constantFrom('1', '100', '101', '0', '-0', '1e2', '0x10', '1.0'),
        raw: fc.constantFrom('1', '0', 'true'),
        period: fc.constantFrom('day', 'week', 'month', 'quarter', 'year'),
        provider: hostileString(20),
        model: hostileString(20),
        project: fc.oneof(fc.uuid(), fc.constant(projectId), hostileString(10)),
        team: hostileString(20),
        user: hostileString(20),
        'tag:campaign': hostileString(20),
      };
      const encode = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));
      const query = fc
        .shuffledSubarray(Object.keys(value), { minLength: 0, maxLength: 6 })
        .chain((keys) =>
          fc.tuple(...keys.map((k) => value[k].map((v) => `${k}=${encode(v)}`))).map((pairs) => pairs.join('&')),
        );
      const route = fc.constantFrom(
        ...QUERY_ROUTES.filter(
          ([family]) => family === 'reports' || family === 'events list' || family === 'charts',
        ).filter(([, , path]) => !path.includes('budgets') && !path.includes('shared')),
      );
      const req = fc
        .tuple(route, query)
        .map(([[family, who, path], q]): Req => ({ family, who, method: 'GET', path: `${path}?${q}` }));
      await fuzz(fc.array(req, { minLength: 10, maxLength: 10 }), 60, sendAll);
    });

    it('hostile path ids on every :id route, with every method: never a 5xx', async () => {
      const id = fc.oneof(
        fc.uuid(),
        fc.constantFrom(
          'BUDGET',
          'WEBHOOK',
          '0',
          '-1',
          'null',
          '%00',
          '%zz',
          '%ED%A0%80',
          '..%2F..',
          'a'.repeat(100),
          'a'.repeat(101),
          'a'.repeat(5000),
          '00000000-0000-0000-0000-000000000000',
          'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
          '{}',
          '%20',
        ),
        hostileString(20)
          .map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd')))
          .filter((s) => s.length > 0 && s.length <= 6000),
      );
      const routes: Array<[Who, string, string]> = [
        ['viewer', 'GET', '/v1/budgets/ID'],
        ['viewer', 'GET', '/v1/budgets/ID/status'],
        ['admin', 'PATCH', '/v1/budgets/ID'],
        ['admin', 'DELETE', '/v1/budgets/ID'],
        ['admin', 'GET', '/v1/webhooks/ID'],
        ['admin', 'PATCH', '/v1/webhooks/ID'],
        ['admin', 'DELETE', '/v1/webhooks/ID'],
        ['admin', 'POST', '/v1/webhooks/ID/rotate-secret'],
        ['admin', 'GET', '/v1/webhooks/ID/deliveries'],
        ['admin', 'POST', '/v1/webhook-deliveries/ID/resend'],
        ['admin', 'DELETE', '/v1/keys/ID'],
        ['admin', 'DELETE', '/v1/pricing/overrides/ID'],
        ['admin', 'POST', '/v1/pricing/pending/ID/approve'],
        ['admin', 'POST', '/v1/pricing/pending/ID/reject'],
        ['viewer', 'GET', '/v1/charts/ID'],
        ['viewer', 'GET', '/assets/ID'],
      ];
      const req = fc
        .tuple(fc.constantFrom(...routes), id, fc.option(hostileJson, { nil: undefined }))
        .map(([[who, method, path], raw, body]): Req => {
          // The real budget and webhook are read and patched but never deleted, so other runs keep them.
          const real = raw === 'BUDGET' ? budgetId : raw === 'WEBHOOK' ? webhookId : raw;
          const safe = method === 'DELETE' && (raw === 'BUDGET' || raw === 'WEBHOOK') ? randomUUID() : real;
          return {
            family: 'path ids',
            who,
            method,
            path: path.replace('ID', safe),
            body: method === 'PATCH' || method === 'POST' ? (body ?? {}) : undefined,
          };
        });
      await fuzz(fc.array(req, { minLength: 8, maxLength: 8 }), 150, sendAll);
    });

    // ---- admin writes --------------------------------------------------------

    const decimalText = fc.oneof(
      fc.constantFrom(
        '1,5',
        '0x10',
        '1e3',
        '0',
        '0.00',
        '0.0000001',
        '999999999999.999999',
        '1000000000000',
        '-1',
        '+1',
        '.5',
        '5.',
        ' 1',
        '1 ',
        '１',
        '٣',
        '1000.00',
        '99.999999999999',
      ),
      hostileJson,
    );
    const BUDGET_FIELDS = {
      name: hostileString(),
      amount_usd: decimalText,
      period: fc.oneof(fc.constantFrom('day', 'week', 'month', 'quarter', 'year'), hostileJson),
      timezone: fc.oneof(
        fc.constantFrom('UTC', 'Europe/Berlin', 'Mars/Olympus', 'utc', '+01:00', 'Etc/GMT+12'),
        hostileString(),
      ),
      scope: hostileJson,
      'scope.provider': hostileString(),
      'scope.model': hostileString(),
      'scope.project': fc.oneof(fc.uuid(), hostileString()),
      'scope.team': hostileString(),
      'scope.user': hostileString(),
      'scope.feature': hostileString(),
      'scope.environment': hostileString(),
      'scope.tags': hostileJson,
      'scope.tags.campaign': hostileString(),
      thresholds_pct: hostileJson,
      'thresholds_pct.0': hostileNumber,
      forecast_alert: hostileJson,
      webhook_ids: hostileJson,
      'webhook_ids.0': fc.oneof(fc.uuid(), hostileString()),
      extra: hostileJson,
    };
    const budgetBase = {
      name: 'fuzz',
      amount_usd: '100.00',
      period: 'month',
      timezone: 'UTC',
      scope: { provider: 'openai', tags: { campaign: 'x' } },
      thresholds_pct: [50, 100],
      forecast_alert: true,
      webhook_ids: [],
    };
    const WEBHOOK_FIELDS = {
      url: hostileWebhookUrl,
      events: fc.oneof(
        fc.constant([]),
        fc.constant(['budget.threshold_reached', 'budget.threshold_reached']),
        hostileJson,
      ),
      'events.0': hostileString(),
      format: fc.oneof(fc.constantFrom('standard', 'slack', 'discord'), hostileJson),
      enabled: hostileJson,
      description: hostileString(),
      secret: hostileString(),
    };
    const webhookBase = {
      url: 'http://127.0.0.1:9/hook',
      events: ['budget.threshold_reached'],
      format: 'standard',
      enabled: false,
      description: 'fuzz',
    };
    const OVERRIDE_FIELDS = {
      provider: fc.oneof(fc.constantFrom('fuzz-provider', 'openai', 'OpenAI', ' openai '), hostileString()),
      model: fc.oneof(fc.constantFrom('fuzz-model', 'openai/gpt-image-2', 'gpt-image-2-2026-04-21'), hostileString()),
      prices: hostileJson,
      'prices.input': decimalText,
      'prices.output_image': decimalText,
      'prices.bogus': decimalText,
      'prices.image_prices': hostileJson,
      'prices.image_prices.hd/1024x1024': decimalText,
      'prices.image_prices.__proto__': decimalText,
      discount_pct: decimalText,
      effective_from: hostileDateText,
    };
    const overrideBase = {
      provider: 'fuzz-provider',
      model: 'fuzz-model',
      prices: { input: '1.00', output: '2.00' },
      effective_from: '2026-01-01T00:00:00Z',
    };
    const REPRICE_FIELDS = {
      from: hostileDateText,
      to: hostileDateText,
      provider: hostileString(),
      model: hostileString(),
      extra: hostileJson,
    };
    const repriceBase = { from: '2026-11-01', to: '2026-11-02', provider: 'fuzz-provider', model: 'fuzz-model' };
    const KEY_FIELDS = {
      name: hostileString(),
      role: fc.oneof(fc.constantFrom('admin', 'viewer', 'ingest', 'root', 'ADMIN'), hostileJson),
      project_id: fc.oneof(fc.uuid(), fc.constant(projectId), hostileJson),
      project_ids: hostileJson,
    };
    const keyBase = { name: 'fuzz key', role: 'viewer' };

    it('admin writes (budgets, webhooks with hostile URLs, pricing overrides and reprice, projects, keys): never a 5xx', async () => {
      const writes: Array<fc.Arbitrary<Req>> = [
        mutate(budgetBase, Object.keys(BUDGET_FIELDS), BUDGET_FIELDS).map((body) => ({
          family: 'budgets',
          who: 'admin' as Who,
          method: 'POST',
          path: '/v1/budgets',
          body,
        })),
        mutate(budgetBase, Object.keys(BUDGET_FIELDS), BUDGET_FIELDS).map((body) => ({
          family: 'budgets',
          who: 'admin' as Who,
          method: 'PATCH',
          path: `/v1/budgets/${budgetId}`,
          body,
        })),
        mutate(webhookBase, Object.keys(WEBHOOK_FIELDS), WEBHOOK_FIELDS).map((body) => ({
          family: 'webhooks',
          who: 'admin' as Who,
          method: 'POST',
          path: '/v1/webhooks',
          body,
        })),
        mutate(webhookBase, Object.keys(WEBHOOK_FIELDS), WEBHOOK_FIELDS).map((body) => ({
          family: 'webhooks',
          who: 'admin' as Who,
          method: 'PATCH',
          path: `/v1/webhooks/${webhookId}`,
          body: { ...body, enabled: false },
        })),
        mutate(overrideBase, Object.keys(OVERRIDE_FIELDS), OVERRIDE_FIELDS).map((body) => ({
          family: 'pricing (admin writes)',
          who: 'admin' as Who,
          method: 'PUT',
          path: '/v1/pricing/overrides',
          body,
        })),
        mutate(repriceBase, Object.keys(REPRICE_FIELDS), REPRICE_FIELDS).map((body) => ({
          family: 'pricing (admin writes)',
          who: 'admin' as Who,
          method: 'POST',
          path: '/v1/pricing/reprice',
          body,
        })),
        mutate({ name: 'fuzz project' }, ['name', 'extra'], { name: hostileString(), extra: hostileJson }).map(
          (body) => ({ family: 'keys and projects', who: 'admin' as Who, method: 'POST', path: '/v1/projects', body }),
        ),
        mutate(keyBase, Object.keys(KEY_FIELDS), KEY_FIELDS).map((body) => ({
          family: 'keys and projects',
          who: 'admin' as Who,
          method: 'POST',
          path: '/v1/keys',
          body,
        })),
        // The same writes with a key of the wrong role: 403 before any validation.
        mutate(budgetBase, Object.keys(BUDGET_FIELDS), BUDGET_FIELDS).map((body) => ({
          family: 'budgets',
          who: 'viewer' as Who,
          method: 'POST',
          path: '/v1/budgets',
          body,
        })),
      ];
      await fuzz(fc.array(fc.oneof(...writes), { minLength: 8, maxLength: 8 }), 300, sendAll);
    });

    it('the process still answers /health after the fuzzing, and at least 10,000 requests were sent', async () => {
      const health = await admin.get('/health');
      expect(health.status).toBe(200);
      expect(failures).toEqual([]);
      if (SCALE >= 1) expect(sent).toBeGreaterThanOrEqual(10_000);
    });
  });
});
