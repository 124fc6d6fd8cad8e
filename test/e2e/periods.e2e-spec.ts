import { Client } from 'pg';
import { Decimal } from '@tokentally/core';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http';
import { csvObjects } from '../support/csv';

/**
 * Closing a month (POST /v1/periods/:month/close, /reopen, GET /v1/periods):
 * October 2026 is closed, then late events arrive for it and re-pricing is
 * tried three ways; October's figures must not move by a digit, the late
 * events must be counted in November with their own dates kept, and a
 * reopen must be logged with who and why.
 */
describe('closing a month', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let ingest: HttpClient;
  let projectId: string;

  const call = (id: string, timestamp: string, extra: Record<string, unknown> = {}) =>
    usageEvent({
      event_id: id,
      timestamp,
      usage: {
        input_text_tokens: 117 + id.length,
        input_image_tokens: 1291,
        output_image_tokens: 4163 + 7 * id.length,
      },
      ...extra,
    });

  /** Every figure of October a finance lead can read, in UTC and in two far-apart zones. */
  const octoberFigures = async () => {
    const utc = (await viewer.get('/v1/reports/month-close?month=2026-10')).body;
    const la = (await viewer.get('/v1/reports/month-close?month=2026-10&tz=America/Los_Angeles')).body;
    const kiritimati = (await viewer.get('/v1/reports/month-close?month=2026-10&tz=Pacific/Kiritimati')).body;
    const spend = (await viewer.get('/v1/reports/spend?from=2026-10-01&to=2026-10-31&granularity=day&group_by=model'))
      .body;
    const ingested = (await viewer.get('/v1/reports/month-close?month=2026-10&basis=ingested')).body;
    return {
      utc: utc.totals,
      la: la.totals,
      kiritimati: kiritimati.totals,
      ingested: ingested.totals,
      spend: spend.total,
      by_project: utc.by_project.map((p: any) => [p.key, p.cost_usd, p.events]),
    };
  };

  beforeAll(async () => {
    t = await startTestApp();
    viewer = await viewerClient(t.http);
    const p = await projectWithIngestKey(t.http, 'periods');
    ingest = p.client;
    projectId = p.projectId;
    const stored = await ingest.post('/v1/events', {
      events: [
        call('oct-1', '2026-10-01T00:00:00Z'),
        call('oct-15', '2026-10-15T10:20:30.123456Z'),
        call('oct-31', '2026-10-31T23:59:59.999999Z'),
        // Unpriced until a price for its model arrives: a new price must not price it inside a closed month.
        call('oct-unpriced', '2026-10-20T08:00:00Z', { model: 'gpt-image-9' }),
        call('nov-2', '2026-11-02T09:00:00Z'),
      ],
    });
    expect(stored.body).toMatchObject({ accepted: 5, rejected: [] });
  });
  afterAll(() => t?.close());

  it('closes October with its totals locked, and October does not move after late events and re-pricing', async () => {
    const before = await octoberFigures();
    expect(before.utc).toMatchObject({ events: 4, unpriced_events: 1 });

    const closed = await t.http.post('/v1/periods/2026-10/close', { reason: 'October invoice booked' });
    expect(closed.status).toBe(201);
    expect(closed.body).toMatchObject({
      month: '2026-10',
      status: 'closed',
      from: '2026-10-01T00:00:00.000Z',
      to: '2026-11-01T00:00:00.000Z',
      closed: { reason: 'October invoice booked', by: { key_name: expect.any(String) } },
      unchanged: true,
    });
    // What was locked is the month close's figures, to the digit.
    expect(closed.body.locked.totals).toMatchObject({
      cost_usd: before.utc.cost_usd,
      events: before.utc.events,
      images: before.utc.images,
      unpriced_events: 1,
    });
    expect(closed.body.locked.by_project).toEqual([
      expect.objectContaining({ project_id: projectId, cost_usd: before.utc.cost_usd }),
    ]);

    // Late events for October: stored and counted, not lost, not in October.
    const late = await ingest.post('/v1/events', {
      events: [call('late-oct-10', '2026-10-10T10:00:00Z'), call('late-oct-31', '2026-10-31T23:30:00Z')],
    });
    expect(late.status).toBe(202);
    expect(late.body).toMatchObject({ accepted: 2, duplicates: 0, rejected: [] });
    // A replay of a late event is a duplicate, as any other.
    expect((await ingest.post('/v1/events', call('late-oct-10', '2026-10-10T10:00:00Z'))).body).toMatchObject({
      accepted: 0,
      duplicates: 1,
    });

    // Re-pricing inside the closed month is refused, with the reason and the way out.
    for (const range of [
      { from: '2026-10-01', to: '2026-10-31' },
      { from: '2026-09-20', to: '2026-11-05' },
      { from: '2026-10-31T23:00:00Z', to: '2026-11-01T01:00:00Z' },
      // Starts in December of year 0 in UTC (1 BC): no JavaScript month arithmetic (it was a 500 in the fuzz test).
      { from: '0001-01-01T00:00:00+15:59', to: '2026-11-02' },
    ]) {
      const refused = await t.http.post('/v1/pricing/reprice', range);
      expect([range, refused.status]).toEqual([range, 409]);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.body.detail).toMatch(/closed months \(2026-10\).*reopen/);
      expect(refused.body.closed_months).toEqual(['2026-10']);
    }
    // A re-price of an open month next to it is allowed.
    expect((await t.http.post('/v1/pricing/reprice', { from: '2026-11-01', to: '2026-11-30' })).status).toBe(201);

    // A price now arrives for the unpriced model (and a new rate for gpt-image-2): new prices price unpriced calls,
    // but not the one counted in closed October.
    const override = await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-9',
      prices: { input_text: '5.00', input_image: '8.00', output_image: '30.00' },
      effective_from: '2026-01-01T00:00:00Z',
    });
    expect(override.status).toBe(200);
    const cheaper = await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-2',
      prices: { input_text: '1.00', input_image: '1.00', output_image: '1.00' },
      effective_from: '2026-01-01T00:00:00Z',
    });
    expect(cheaper.status).toBe(200);
    // The late unpriced call below is counted in November: that one is priced by the new price.
    await ingest.post('/v1/events', call('late-oct-unpriced', '2026-10-05T00:00:00Z', { model: 'gpt-image-10' }));
    await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-10',
      prices: { input_text: '5.00', input_image: '8.00', output_image: '30.00' },
      effective_from: '2026-01-01T00:00:00Z',
    });
    await eventually(async () => {
      const event = (await viewer.get(`/v1/events/${projectId}/late-oct-unpriced`)).body;
      expect(event.pricing).toBe('priced');
    });
    const stillUnpriced = (await viewer.get(`/v1/events/${projectId}/oct-unpriced`)).body;
    expect(stillUnpriced).toMatchObject({ pricing: 'unpriced', cost_usd: null });

    // October, every way a finance lead reads it: unchanged to the digit.
    expect(await octoberFigures()).toEqual(before);
    const period = (await viewer.get('/v1/periods/2026-10')).body;
    expect(period).toMatchObject({ status: 'closed', unchanged: true });
    expect(period.current).toEqual(period.locked.totals);
    expect(period.late_events).toEqual([{ counted_in: '2026-11', events: 3, cost_usd: expect.any(String) }]);
  });

  it('counts the late events in November as adjustments, with their own dates kept', async () => {
    const event = (await viewer.get(`/v1/events/${projectId}/late-oct-10`)).body;
    expect(event).toMatchObject({
      timestamp: '2026-10-10T10:00:00.000000Z',
      counted_at: '2026-11-01T12:00:00.000Z',
      pricing: 'priced',
    });
    const onTime = (await viewer.get(`/v1/events/${projectId}/nov-2`)).body;
    expect(onTime.counted_at).toBeNull();

    const lateCosts = await Promise.all(
      ['late-oct-10', 'late-oct-31', 'late-oct-unpriced'].map(
        async (id) => (await viewer.get(`/v1/events/${projectId}/${id}`)).body.cost_usd as string,
      ),
    );
    const lateTotal = lateCosts.reduce((sum, c) => sum.add(Decimal.parse(c)), Decimal.ZERO);
    const novOwn = Decimal.parse((await viewer.get(`/v1/events/${projectId}/nov-2`)).body.cost_usd);

    const oct31 = Decimal.parse((await viewer.get(`/v1/events/${projectId}/oct-31`)).body.cost_usd);
    // In every zone, the adjustments fall inside November (booked at noon UTC on the 1st). East of UTC by 30
    // minutes or more, November also holds the on-time call of 2026-10-31T23:59:59Z (its own local November).
    for (const [tz, withOct31] of [
      ['UTC', false],
      ['America/Los_Angeles', false],
      ['Pacific/Kiritimati', true],
      ['Asia/Kolkata', true],
    ] as const) {
      const november = (await viewer.get(`/v1/reports/month-close?month=2026-11&tz=${tz}`)).body;
      expect([tz, november.adjustments.events, november.adjustments.by_month]).toEqual([
        tz,
        3,
        [{ month: '2026-10', events: 3, cost_usd: november.adjustments.cost_usd }],
      ]);
      expect([tz, Decimal.parse(november.adjustments.cost_usd).compare(lateTotal)]).toEqual([tz, 0]);
      expect([tz, november.totals.events]).toEqual([tz, withOct31 ? 5 : 4]);
      const expected = novOwn.add(lateTotal).add(withOct31 ? oct31 : Decimal.ZERO);
      expect([tz, Decimal.parse(november.totals.cost_usd).compare(expected)]).toEqual([tz, 0]);
      expect(november.period).toEqual({ status: 'open' });
    }
    const october = (await viewer.get('/v1/reports/month-close?month=2026-10')).body;
    expect(october.period).toMatchObject({ status: 'closed', reason: 'October invoice booked' });
    expect(october.period.locked_cost_usd).toBe(october.totals.cost_usd);
    expect(october.adjustments).toEqual({ events: 0, cost_usd: '0.000000', by_month: [] });
    // The locked figures are of every project: a filtered report (a key limited to projects always is) leaves them out.
    const filtered = (await viewer.get(`/v1/reports/month-close?month=2026-10&project=${projectId}`)).body;
    expect(filtered.period).toEqual({
      status: 'closed',
      closed_at: october.period.closed_at,
      reason: 'October invoice booked',
      locked_cost_usd: null,
      locked_events: null,
    });
    const scopedKey = await t.http.post('/v1/keys', { name: 'scoped', role: 'viewer', project_ids: [projectId] });
    const scoped = (await t.http.as(scopedKey.body.key).get('/v1/reports/month-close?month=2026-10')).body;
    expect([scoped.period.locked_cost_usd, scoped.period.locked_events]).toEqual([null, null]);
    // The month-close CSV lists the adjustments November includes, by the month they belong to.
    const novemberCsv = csvObjects((await viewer.get('/v1/reports/month-close.csv?month=2026-11')).text);
    expect(novemberCsv.filter((r) => r.section === 'adjustment').map((r) => [r.key, r.events])).toEqual([
      ['2026-10', '3'],
    ]);

    // The raw export keeps the event's own time and says when it is counted.
    const csv = await viewer.get('/v1/reports/export.csv?raw=1&from=2026-10-10&to=2026-10-10');
    const [header, row] = csv.text
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n');
    const counted = header.split(',').indexOf('counted_at');
    expect(counted).toBeGreaterThan(0);
    expect(row.split(',')[counted]).toBe('2026-11-01T12:00:00.000000Z');
  });

  it('locks exactly what was counted when events of the month arrive while it is being closed', async () => {
    // Three senders post September calls without pause from before the close until each has sent a batch after it
    // (counted by batches, not by a clock: a loaded machine, as CI's two passes side by side, stretches every call).
    let sent = 0;
    let closedAt: number | null = null;
    const sender = async (n: number) => {
      const answers: number[] = [];
      for (let b = 0; ; b++) {
        const afterClose = closedAt !== null;
        const events = Array.from({ length: 20 }, (_, i) =>
          call(`race-${n}-${b}-${i}`, `2026-09-${String(1 + ((b + i) % 28)).padStart(2, '0')}T12:00:00Z`),
        );
        const res = await ingest.post('/v1/events', { events });
        answers.push(res.status);
        sent += res.body.accepted;
        if (afterClose) return answers;
      }
    };
    const senders = [0, 1, 2].map(sender);
    // The close starts once calls were counted, while the senders go on.
    await eventually(async () => expect(sent).toBeGreaterThan(0));
    const closed = await t.http.post('/v1/periods/2026-09/close', { reason: 'race' });
    closedAt = Date.now();
    const answers = (await Promise.all(senders)).flat();
    expect(closed.status).toBe(201);
    expect(new Set(answers)).toEqual(new Set([202]));
    const period = (await viewer.get('/v1/periods/2026-09')).body;
    expect(period.unchanged).toBe(true);
    const late = period.late_events.reduce((n: number, l: any) => n + l.events, 0);
    // The close fell between calls: some were counted in September, the rest in the first open month after it.
    expect(period.locked.totals.events).toBeGreaterThan(0);
    expect(late).toBeGreaterThan(0);
    // Every call was counted once: in September before the close, or in November after it.
    expect(period.locked.totals.events + late).toBe(sent);
    expect(period.current.events).toBe(period.locked.totals.events);
    expect(period.late_events.map((l: any) => l.counted_in)).toEqual(['2026-11']);
  });

  it('refuses to close a month that has not ended, a month twice, or a malformed month, naming the field', async () => {
    const now = new Date();
    const current = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    const notOver = await t.http.post(`/v1/periods/${current}/close`, {});
    expect(notOver.status).toBe(409);
    expect(notOver.body.errors).toEqual([{ path: 'month', message: 'has not ended yet' }]);
    const twice = await t.http.post('/v1/periods/2026-10/close', { reason: 'again' });
    expect([twice.status, twice.body.errors]).toEqual([409, [{ path: 'month', message: 'is already closed' }]]);
    for (const month of ['2026-13', '2026-1', '26-10', '2026-10-01', '0000-01']) {
      const bad = await t.http.post(`/v1/periods/${month}/close`, {});
      expect([month, bad.status, bad.body.errors?.[0]?.path]).toEqual([month, 400, 'month']);
    }
    // A reason with a lone surrogate would be stored changed (as U+FFFD): refused like every other text field.
    const surrogate = await t.http.post('/v1/periods/2026-08/close', { reason: 'book\ud800' });
    expect([surrogate.status, surrogate.body.errors?.[0]?.path]).toEqual([400, 'reason']);
    const badBody = await t.http.post('/v1/periods/2026-09/close', { reason: 7, extra: true });
    expect(badBody.status).toBe(400);
    expect(badBody.body.errors.map((e: any) => e.path).sort()).toEqual(['extra', 'reason']);
    // A viewer reads periods but cannot close one.
    expect((await viewer.post('/v1/periods/2026-09/close', {})).status).toBe(403);
  });

  it('reopens only with a reason, logs who and why, and then allows re-pricing the month', async () => {
    const noReason = await t.http.post('/v1/periods/2026-10/reopen', {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.errors).toEqual([{ path: 'reason', message: expect.stringMatching(/required|expected/) }]);
    const blank = await t.http.post('/v1/periods/2026-10/reopen', { reason: '   ' });
    expect([blank.status, blank.body.errors[0].path]).toEqual([400, 'reason']);
    expect((await t.http.post('/v1/periods/2026-08/reopen', { reason: 'x' })).status).toBe(409);

    const reopened = await t.http.post('/v1/periods/2026-10/reopen', { reason: 'Credit note 2026-114 from OpenAI' });
    expect(reopened.status).toBe(201);
    expect(reopened.body).toMatchObject({ status: 'open', closed: null, locked: null });
    expect(reopened.body.log.map((l: any) => [l.action, l.reason])).toEqual([
      ['reopen', 'Credit note 2026-114 from OpenAI'],
      ['close', 'October invoice booked'],
    ]);
    expect(reopened.body.log[0].by.key_id).toEqual(expect.any(String));
    const list = (await viewer.get('/v1/periods')).body.data;
    expect(list.map((p: any) => [p.month, p.status])).toEqual([
      ['2026-10', 'open'],
      ['2026-09', 'closed'],
    ]);

    // Open again: re-pricing October is allowed and now moves it (the cheaper override).
    const before = (await viewer.get('/v1/reports/month-close?month=2026-10')).body.totals.cost_usd;
    const repriced = await t.http.post('/v1/pricing/reprice', { from: '2026-10-01', to: '2026-10-31' });
    expect(repriced.status).toBe(201);
    const after = (await viewer.get('/v1/reports/month-close?month=2026-10')).body.totals.cost_usd;
    expect(Decimal.parse(after).compare(Decimal.parse(before))).toBeLessThan(0);
    // A call for October arriving now is counted in October again.
    await ingest.post('/v1/events', call('oct-after-reopen', '2026-10-12T00:00:00Z'));
    expect((await viewer.get(`/v1/events/${projectId}/oct-after-reopen`)).body.counted_at).toBeNull();
  });

  it('re-prices an open month without touching its late calls counted in a closed one, and records what it changed', async () => {
    await ingest.post('/v1/events', {
      events: [call('jun-1', '2026-06-01T10:00:00Z'), call('jun-2', '2026-06-15T10:00:00Z')],
    });
    expect((await t.http.post('/v1/periods/2026-06/close', { reason: 'June' })).status).toBe(201);
    // Late June calls, counted in July; then July is closed and June reopened.
    await ingest.post('/v1/events', {
      events: [call('late-jun-1', '2026-06-03T00:00:00Z'), call('late-jun-2', '2026-06-04T00:00:00Z')],
    });
    expect((await viewer.get(`/v1/events/${projectId}/late-jun-1`)).body.counted_at).toBe('2026-07-01T12:00:00.000Z');
    expect((await t.http.post('/v1/periods/2026-07/close', { reason: 'July' })).status).toBe(201);
    expect((await t.http.post('/v1/periods/2026-06/reopen', { reason: 'June credit note' })).status).toBe(201);

    const cost = async (id: string) => (await viewer.get(`/v1/events/${projectId}/${id}`)).body.cost_usd as string;
    const onTime = ['jun-1', 'jun-2'];
    const late = ['late-jun-1', 'late-jun-2'];
    const before = await Promise.all([...onTime, ...late].map(cost));
    await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-2',
      prices: { input_text: '2.00', input_image: '2.00', output_image: '2.00' },
      effective_from: '2026-05-01T00:00:00Z',
    });
    const repriced = await t.http.post('/v1/pricing/reprice', { from: '2026-06-01', to: '2026-06-30' });
    expect(repriced.status).toBe(201);
    const after = await Promise.all([...onTime, ...late].map(cost));
    // The late calls, counted in closed July, kept their cost; the on-time ones moved.
    expect(after.slice(2)).toEqual(before.slice(2));
    expect(after.slice(0, 2)).not.toEqual(before.slice(0, 2));
    // The restatement's totals are those of the calls it re-priced, so its delta is what moved.
    const total = (costs: string[]) => costs.reduce((a, c) => a.add(Decimal.parse(c)), Decimal.ZERO).toFixedString(6);
    expect(repriced.body).toMatchObject({
      events_examined: 2,
      events_changed: 2,
      total_before_usd: total(before.slice(0, 2)),
      total_after_usd: total(after.slice(0, 2)),
    });
    expect((await viewer.get('/v1/periods/2026-07')).body.unchanged).toBe(true);
  });

  it('answers 409 to a re-pricing whose month is closed while it runs, and records only what it changed', async () => {
    if (t.database.kind !== 'postgres') return; // one session: a re-pricing and a close cannot interleave
    await ingest.post('/v1/events', {
      events: [call('aug-1', '2026-08-01T10:00:00Z'), call('aug-2', '2026-08-20T10:00:00Z')],
    });
    await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-2',
      prices: { input_text: '3.00', input_image: '3.00', output_image: '3.00' },
      effective_from: '2026-07-15T00:00:00Z',
    });
    const costs = async () =>
      Promise.all(
        ['aug-1', 'aug-2'].map(async (id) => (await viewer.get(`/v1/events/${projectId}/${id}`)).body.cost_usd),
      );
    const before = await costs();
    // Hold the restatement lock from outside, so the re-pricing stops after reading its page and before writing it.
    const holder = new Client({ connectionString: t.database.env.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(7291003)');
      const reprice = t.http.post('/v1/pricing/reprice', { from: '2026-08-01', to: '2026-08-31' });
      await eventually(async () => {
        const waiting = await holder.query(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 7291003 AND NOT granted`,
        );
        expect(waiting.rowCount).toBe(1);
      });
      const closed = await t.http.post('/v1/periods/2026-08/close', { reason: 'August, while a re-pricing ran' });
      expect(closed.status).toBe(201);
      await holder.query('COMMIT');
      const answer = await reprice;
      expect(answer.status).toBe(409);
      expect(answer.body.closed_months).toEqual(['2026-08']);
      expect(answer.body.detail).toMatch(/closed while this re-pricing ran/);
      // Recorded, with what it really changed: nothing.
      expect(answer.body.restatement).toMatchObject({ events_changed: 0 });
      expect(answer.body.restatement.total_after_usd).toBe(answer.body.restatement.total_before_usd);
    } finally {
      await holder.end();
    }
    expect(await costs()).toEqual(before);
    const period = (await viewer.get('/v1/periods/2026-08')).body;
    expect(period.unchanged).toBe(true);
  });
});
