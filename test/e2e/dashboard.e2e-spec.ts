import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/app';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { WebhookReceiver } from '../fakes/webhook-receiver';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '../artifacts');
const AXE = require.resolve('axe-core/axe.min.js');

/**
 * The dashboard in real headless Chromium (Debian's chromium, driven by
 * playwright-core), against the real app and database. `.ci/run` installs
 * Chromium; on a machine without it this file is skipped with a note.
 */
const describeWithChromium = fs.existsSync(CHROMIUM) ? describe : describe.skip;
if (!fs.existsSync(CHROMIUM))
  console.warn(`dashboard browser test skipped: ${CHROMIUM} not found (apt-get install chromium)`);

// The catalog's gpt-image-2 rates: an edit (120 text in, 1,290 image in, 4,160 image out) costs
// $0.13572 on openai and $0.13185 on vercel (see test/e2e/reports.e2e-spec.ts).
const EDIT = { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 };
const RANGE = 'preset=custom&from=2026-11-19&to=2026-11-22&tz=UTC';

describeWithChromium('dashboard in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let viewerKey: string;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    const web = await projectWithIngestKey(t.http, 'web-shop');
    const app = await projectWithIngestKey(t.http, 'mobile');
    const at = (d: number, hour: number, minute = 0) => new Date(Date.UTC(2026, 10, d, hour, minute)).toISOString();
    const event = (timestamp: string, extra: Record<string, unknown>) =>
      usageEvent({ timestamp, usage: EDIT, ...extra });
    await web.client.post('/v1/events', {
      events: [
        event(at(20, 10), {
          dimensions: { team: 'growth', feature: 'avatars', user: 'u_1' },
          tags: { customer_tier: 'pro' },
        }),
        event(at(20, 23, 59), {
          dimensions: { team: 'growth', feature: 'avatars', user: 'u_3' },
          tags: { customer_tier: 'free' },
        }),
        event(at(21, 10), {
          provider: 'vercel',
          dimensions: { team: 'growth', feature: 'banners', user: 'u_2' },
          tags: { customer_tier: 'pro' },
        }),
        event(at(21, 11), {
          dimensions: { team: 'growth', feature: 'banners', user: 'u_2' },
          tags: { customer_tier: 'pro' },
          status: 'error',
          latency_ms: 30000,
        }),
      ],
    });
    await app.client.post('/v1/events', {
      events: [
        event(at(21, 12), {
          dimensions: { team: 'core', feature: 'avatars', user: 'u_1' },
          tags: { customer_tier: 'pro' },
        }),
        usageEvent({ timestamp: at(21, 13), model: 'gpt-image-9', dimensions: { team: 'core' } }),
      ],
    });
    viewerKey = (await viewerClient(t.http)).key!;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await receiver?.stop();
  });

  /** A page signed in with `key` at `query`, every panel settled. */
  async function open(
    query: string,
    key = viewerKey,
    viewport = { width: 1440, height: 1000 },
    options: { bypassCSP?: boolean } = {},
  ): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({
      viewport,
      acceptDownloads: true,
      bypassCSP: options.bypassCSP ?? false,
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on(
      'console',
      (message) =>
        message.type() === 'error' && !/Failed to load resource/.test(message.text()) && errors.push(message.text()),
    );
    await page.goto(`${t.url}/${query}`);
    await page.fill('#key', key);
    await page.click('#signin-form button');
    await page.waitForSelector('body[data-loaded=true]');
    return { page, errors };
  }

  // innerText: what a person reads (cells apart), spaces collapsed.
  const text = (page: Page, selector: string) => page.innerText(selector).then((s) => s.replace(/\s+/g, ' ').trim());

  it('shows no control before sign-in, then month to date by default with every panel loaded', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(t.url);
    expect(await page.isVisible('#signin')).toBe(true);
    for (const selector of ['#controls', '#nav', '#signout', '#ctl-preset'])
      expect(await page.isVisible(selector)).toBe(false);
    await page.fill('#key', viewerKey);
    await page.click('#signin-form button');
    await page.waitForSelector('body[data-loaded=true]');
    expect(await page.inputValue('#ctl-preset')).toBe('mtd');
    expect((await page.textContent('#spend-title'))!.trim()).toMatch(
      /^Spend by provider: Month to date \(Nov 1 – Nov \d+, 2026\)$/,
    );
    const states = await page.$$eval('.panel', (panels) => panels.map((p) => `${p.id}:${(p as any).dataset.state}`));
    const failed = await page.$$eval('.panel[data-state=error]', (panels) =>
      panels.map((p) => `${p.id}: ${p.textContent}`),
    );
    expect(failed).toEqual([]);
    expect(states.filter((s) => !/:(ready|empty)$/.test(s))).toEqual([]);
    // A viewer key is not offered the admin pages.
    expect(await page.isVisible('#nav a[data-view=admin]')).toBe(false);
    await context.close();
  });

  it('shows the seeded figures in one money format, the exact value in each title', async () => {
    const { page, errors } = await open(`?${RANGE}&group_by=provider`);
    // 4 x 0.13572 + 0.13185 = 0.67473 (the gpt-image-9 call is unpriced)
    expect(await text(page, '#kpi-range .value')).toBe('$0.6747');
    expect(await page.getAttribute('#kpi-range .value .money', 'title')).toBe('0.674730 USD');
    expect(await text(page, '#kpi-range .sub')).toBe('6 calls, 1 unpriced');
    expect((await page.textContent('#kpi-range .label'))!.trim()).toBe('Nov 19 – Nov 22, 2026');
    // "Last month" says which month it is, not this month's calls.
    expect((await page.textContent('#kpi-previous .label'))!.trim()).toBe('Last month');
    expect(await text(page, '#kpi-previous .sub')).toBe('October 2026, the whole month');
    expect(await text(page, '#top-project')).toMatch(/web-shop \$0\.5390 .*mobile \$0\.1357/);
    expect(await text(page, '#top-team')).toMatch(/growth \$0\.5390 .*core \$0\.1357/);
    expect(await text(page, '#per-image')).toContain('$0.1357');
    expect(await text(page, '#unpriced-warning')).toContain('openai/gpt-image-9 (1 call)');
    expect(await text(page, '#performance')).toMatch(/openai gpt-image-2 4 1 25\.0%/);
    // The price list is whole: gpt-image-2's image output rate is there, first.
    expect(await text(page, '#pricing')).toMatch(/gpt-image-2 output image \$30/);
    expect(await text(page, '#pricing-freshness')).toContain('Built-in catalog only: no price source is configured.');
    const legend = await page.evaluate(() =>
      (globalThis as any).Chart.getChart('spend-chart').data.datasets.map((d: any) => d.label),
    );
    // The unpriced gpt-image-9 call is not $0: its series says so.
    expect(legend).toEqual(['openai (1 unpriced)', 'vercel']);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('filters by a team and a tag through the controls: chips, the URL, every panel and the exports follow', async () => {
    const { page, errors } = await open(`?${RANGE}`);
    await page.selectOption('#ctl-filter-dimension', 'team');
    await page.fill('#ctl-filter-value', 'growth');
    await page.click('#ctl-filter-add');
    await page.waitForSelector('body[data-loaded=true] .chip[data-filter=team]');
    await page.selectOption('#ctl-filter-dimension', 'tag');
    await page.fill('#ctl-filter-tag-key', 'customer_tier');
    await page.fill('#ctl-filter-value', 'pro');
    await page.click('#ctl-filter-add');
    await page.waitForSelector('.chip[data-filter="tag:customer_tier"]');
    await page.waitForSelector('body[data-loaded=true]');
    expect(page.url()).toContain('team=growth');
    expect(decodeURIComponent(page.url())).toContain('tag:customer_tier=pro');
    expect(await text(page, '#chips')).toContain('Team: growth');
    expect(await text(page, '#chips')).toContain('Tag customer_tier: pro');
    // growth and pro: the openai edit of the 20th, the vercel one and the failed openai call of the 21st.
    expect(await text(page, '#kpi-range .value')).toBe('$0.4033');
    expect(await text(page, '#kpi-range .sub')).toBe('3 calls, 0 unpriced');
    expect(await text(page, '#top-project')).not.toContain('mobile');
    // The exports carry the same filters.
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().includes('/v1/charts/spend.png')),
      page.click('#spend-png'),
    ]);
    expect(decodeURIComponent(request.url())).toMatch(
      /team=growth.*tag:customer_tier=pro|tag:customer_tier=pro.*team=growth/,
    );
    // A shared link opens the same view.
    const shared = await open(new URL(page.url()).search);
    expect(await text(shared.page, '#kpi-range .value')).toBe('$0.4033');
    await shared.page.context().close();
    // Removing a chip removes its filter.
    await page.click('.chip[data-filter=team] .chip-x');
    await page.waitForFunction(() => !(globalThis as any).location.search.includes('team='));
    await page.waitForSelector('body[data-loaded=true]');
    expect(await text(page, '#kpi-range .sub')).toBe('4 calls, 0 unpriced');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('drills from a bar to the events behind it, whose sum equals the bar', async () => {
    const { page, errors } = await open(`?${RANGE}&group_by=provider`);
    // The openai bar of Nov 21 (index 2 of Nov 19-22).
    const target = await page.evaluate(() => {
      const chart = (globalThis as any).Chart.getChart('spend-chart');
      const datasetIndex = chart.data.datasets.findIndex((d: any) => d.key === 'openai');
      const bar = chart.getDatasetMeta(datasetIndex).data[2];
      const box = chart.canvas.getBoundingClientRect();
      return {
        x: box.left + bar.x,
        y: box.top + (bar.y + bar.base) / 2,
        exact: chart.data.datasets[datasetIndex].exact[2],
      };
    });
    expect(target.exact).toBe('0.271440'); // two openai calls on the 21st (one failed but billed)
    await page.mouse.click(target.x, target.y);
    await page.waitForFunction(() => (globalThis as any).location.search.includes('view=events'));
    await page.waitForSelector('body[data-loaded=true] #events-cost');
    expect(await page.getAttribute('#events-cost', 'data-exact')).toBe(target.exact);
    expect(await text(page, '#events-count')).toBe('3'); // the two priced calls and the unpriced gpt-image-9 one
    expect(page.url()).toContain('provider=openai');
    // The rows themselves add up to the bar.
    const rows = await page.$$eval('#events-list tbody tr', (trs) =>
      trs.map((tr) => tr.querySelector('td[data-label=Cost] .money')?.getAttribute('title') ?? 'none'),
    );
    const micro = rows
      .filter((r) => r !== 'none')
      .reduce((sum, r) => sum + BigInt(r.replace(' USD', '').replace('.', '')), 0n);
    expect(micro).toBe(271440n);
    // The CSV holds exactly the calls of the bar (the raw export cannot select a bar of a half-hour zone).
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#events-csv')]);
    const lines = fs
      .readFileSync((await download.path())!, 'utf8')
      .replace(/^\ufeff/, '')
      .trim()
      .split(/\r\n/)
      .map((l) => l.split(','));
    const cost = lines[0].indexOf('cost_usd');
    expect(lines.length - 1).toBe(3);
    expect(lines.slice(1).reduce((sum, l) => sum + (l[cost] ? BigInt(l[cost].replace('.', '')) : 0n), 0n)).toBe(
      271440n,
    );
    // Sorted by cost, then the detail of the most expensive call.
    await page.selectOption('#events-sort', '-cost');
    await page.waitForSelector('body[data-loaded=true] #events-list tbody tr');
    await page.click('#events-list tbody tr');
    await page.waitForSelector('#event-detail[open] dl.facts');
    const detail = await text(page, '#event-detail');
    expect(detail).toMatch(/output image 4,160 \$30/);
    expect(detail).toContain('catalog');
    expect(detail).toContain('This call was never re-priced.');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-event-detail-1440.png') });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it("opens a bar's events from the keyboard too, through the chart's table of figures", async () => {
    const { page } = await open(`?${RANGE}&group_by=provider`);
    await page.click('#spend-table summary');
    const cell = page.locator('#spend-table tbody tr:has(th:text-is("Nov 21")) button').first();
    expect(await cell.getAttribute('title')).toBe('0.271440 USD: open the events');
    await cell.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('body[data-loaded=true] #events-cost');
    expect(await page.getAttribute('#events-cost', 'data-exact')).toBe('0.271440');
    await page.context().close();
  });

  it("shows the dates a restatement covered in an event's detail, not '… – …'", async () => {
    // One call in October, away from every other figure here, re-priced by an override and a manual reprice.
    const { client } = await projectWithIngestKey(t.http, 'restated');
    const event = usageEvent({ timestamp: '2026-10-10T12:00:00.000Z', usage: EDIT });
    expect((await client.post('/v1/events', event)).status).toBe(202);
    const put = await t.http.request('PUT', '/v1/pricing/overrides', {
      provider: 'openai',
      model: 'gpt-image-2',
      prices: { input_text: '5', input_image: '8', output_image: '20' },
      effective_from: '2026-10-10T00:00:00.000Z',
    });
    expect(put.status).toBe(200);
    try {
      const restated = await t.http.post('/v1/pricing/reprice', {
        from: '2026-10-10T00:00:00.000Z',
        to: '2026-10-11T00:00:00.000Z',
        provider: 'openai',
        model: 'gpt-image-2',
      });
      expect([restated.status, restated.body.events_changed]).toEqual([201, 1]);
      const { page, errors } = await open('?view=events&preset=custom&from=2026-10-10&to=2026-10-10&tz=UTC');
      await page.click('#events-list tbody tr');
      await page.waitForSelector('#event-detail[open] dl.facts');
      expect(await text(page, '#event-detail td[data-label=Range]')).toBe('2026-10-10 – 2026-10-11');
      expect(errors).toEqual([]);
      await page.context().close();
    } finally {
      await t.http.delete(`/v1/pricing/overrides/${put.body.id}`);
    }
  });

  it("closes the month: totals by project, team, provider and model, and a CSV whose total is the view's", async () => {
    const { page, errors } = await open('?view=month&month=2026-11&tz=UTC');
    const exact = await page.getAttribute('#month-total', 'data-exact');
    expect(exact).toBe('0.674730');
    expect(await text(page, '#month-by-project')).toMatch(/web-shop .*\$0\.5390.*mobile .*\$0\.1357/);
    expect(await text(page, '#month-gaps')).toContain('gpt-image-9');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#month-csv')]);
    expect(download.suggestedFilename()).toBe('tokentally-month-close-2026-11.csv');
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    // One row per figure with a section column; the total row's cost is the view's, to the digit.
    const rows = csv
      .replace(/^\ufeff/, '')
      .trim()
      .split(/\r?\n/)
      .map((line) => line.split(','));
    const header = rows[0];
    const total = rows.find((r) => r[header.indexOf('section')] === 'total')!;
    expect(total[header.indexOf('cost_usd')]).toBe(exact);
    const projects = rows
      .filter((r) => r[header.indexOf('section')] === 'project')
      .map((r) => BigInt(r[header.indexOf('cost_usd')].replace('.', '')));
    expect(projects.reduce((a, b) => a + b, 0n)).toBe(674730n);
    // The finance period (not closed here) and the chargeback CSV of the same month, whose total is the view's too.
    expect(await text(page, '#month-period')).toContain('Open');
    const [chargeback] = await Promise.all([page.waitForEvent('download'), page.click('#month-chargeback-csv')]);
    expect(chargeback.suggestedFilename()).toBe('tokentally-chargeback-2026-11.csv');
    const chargebackRows = fs
      .readFileSync((await chargeback.path())!, 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(chargebackRows.at(-1)!.split(',').at(-1)).toBe(exact);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-month-close-1440.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('lets an admin create a webhook (secret shown once) and a budget through the forms, with errors beside the fields', async () => {
    const { page, errors } = await open('?view=admin&tab=webhooks', TEST_ADMIN_KEY);
    await page.fill('#webhook-form-url', 'not a url');
    await page.click('#webhook-form button[type=submit]');
    await page.waitForSelector('#webhook-form-url-error:not(:empty)');
    expect(await text(page, '#webhook-form-url-error')).toContain('absolute http(s) URL');
    expect(await page.getAttribute('#webhook-form-url', 'aria-invalid')).toBe('true');
    await page.fill('#webhook-form-url', receiver.url);
    await page.fill('#webhook-form-description', 'finance channel');
    await page.click('#webhook-form button[type=submit]');
    await page.waitForSelector('#secret-once');
    const secret = await text(page, '#secret-once');
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{20,}$/);
    await page.waitForSelector('#admin-webhooks td:has-text("finance channel")');
    // Once: a fresh view of the page does not show it again.
    await page.reload();
    await page.waitForSelector('body[data-loaded=true] #admin-webhooks table');
    expect(await page.content()).not.toContain(secret);

    await page.click('.tabs a:has-text("Budgets")');
    await page.waitForSelector('body[data-loaded=true] #budget-form');
    await page.fill('#budget-form-name', 'Growth this month');
    await page.fill('#budget-form-amount_usd', '1,5');
    await page.fill('#budget-form-scope-team', 'growth');
    await page.fill('#budget-form-thresholds_pct', '50, 80, 2000');
    await page.check('#budget-form input[name=webhook_ids]');
    await page.click('#budget-form button[type=submit]');
    await page.waitForSelector('#budget-form-amount_usd-error:not(:empty)');
    expect(await text(page, '#budget-form-amount_usd-error')).toContain('positive decimal string');
    expect(await text(page, '#budget-form-thresholds_pct-error')).toContain('must be from 1 to 1000');
    await page.fill('#budget-form-amount_usd', '0.50');
    await page.fill('#budget-form-thresholds_pct', '50, 80');
    await page.click('#budget-form button[type=submit]');
    await page.waitForSelector('#admin-budgets td:has-text("Growth this month")');
    const budgets = await t.http.get('/v1/budgets');
    const made = budgets.body.data.find((b: any) => b.name === 'Growth this month');
    expect(made).toMatchObject({ amount_usd: '0.500000', scope: { team: 'growth' }, thresholds_pct: [50, 80] });
    expect(made.webhook_ids).toHaveLength(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-admin-budgets-1440.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it("a failing panel shows its own error and the API's reason; the other panels keep their data", async () => {
    // Spend per user is kept with provider, model and project only: grouping by user with a team filter is refused.
    const { page } = await open(`?${RANGE}&group_by=user&team=growth`);
    expect(await page.getAttribute('#spend', 'data-state')).toBe('error');
    expect(await text(page, '#spend .panel-error')).toContain('cannot be combined with user');
    expect(await page.getAttribute('#top-project', 'data-state')).toBe('ready');
    expect(await page.getAttribute('#tokens', 'data-state')).toBe('ready');
    // The control at fault is marked where it is.
    expect(await page.getAttribute('.chip[data-filter=team]', 'aria-invalid')).toBe('true');
    await page.context().close();
  });

  it('survives a hand-edited URL: a bad zone, bucket or month is marked at its control and the page still draws', async () => {
    for (const query of [
      '?tz=Mars/Olympus',
      '?view=events&tz=%F0%9F%92%A9&bucket=garbage',
      '?view=month&month=2026-13&tz=UTC',
      '?preset=custom&from=2026-02-30&to=2026-03-01&tz=UTC',
    ]) {
      const { page, errors } = await open(query);
      expect({ query, errors }).toEqual({ query, errors: [] });
      expect(await page.isVisible('#controls')).toBe(true);
      expect(await page.$('#page-error')).toBeNull();
      const marked = await page.$$eval('.field-error', (slots) => slots.map((s) => s.textContent).filter(Boolean));
      if (!query.includes('bucket')) expect({ query, marked: marked.length > 0 }).toEqual({ query, marked: true });
      await page.context().close();
    }
  });

  it('filters a project typed by its name by its id, and marks a name no project has', async () => {
    const { page } = await open(`?${RANGE}`);
    await page.selectOption('#ctl-filter-dimension', 'project');
    await page.fill('#ctl-filter-value', 'Mobile');
    await page.click('#ctl-filter-add');
    await page.waitForSelector('body[data-loaded=true] .chip[data-filter=project]');
    expect(await text(page, '#chips')).toContain('Project: mobile');
    expect(page.url()).toMatch(/project=[0-9a-f-]{36}/);
    expect(await text(page, '#kpi-range .value')).toBe('$0.1357');
    await page.selectOption('#ctl-filter-dimension', 'project');
    await page.fill('#ctl-filter-value', 'storefront');
    await page.click('#ctl-filter-add');
    expect(await text(page, '#filter-error')).toBe('no project named "storefront"');
    await page.context().close();
  });

  it('does not blame a valid team filter for the user ranking it cannot make; a second tag is refused, not swapped', async () => {
    const { page } = await open(`?${RANGE}&team=growth`);
    expect(await page.getAttribute('.chip[data-filter=team]', 'aria-invalid')).toBeNull();
    expect(await page.getAttribute('#top-user', 'data-state')).toBe('empty');
    expect(await text(page, '#top-user')).toContain('Users are ranked by provider, model and project only');
    await page.selectOption('#ctl-filter-dimension', 'tag');
    await page.fill('#ctl-filter-tag-key', 'customer_tier');
    await page.fill('#ctl-filter-value', 'pro');
    await page.click('#ctl-filter-add');
    await page.waitForSelector('body[data-loaded=true] .chip[data-filter="tag:customer_tier"]');
    await page.selectOption('#ctl-filter-dimension', 'tag');
    await page.fill('#ctl-filter-tag-key', 'campaign');
    await page.fill('#ctl-filter-value', 'black-friday');
    await page.click('#ctl-filter-add');
    expect(await text(page, '#filter-error')).toContain('one tag filter at a time');
    expect(decodeURIComponent(page.url())).toContain('tag:customer_tier=pro');
    await page.context().close();
  });

  it('says in the providers panel which providers are not compared and why, and marks an incomplete actual in its chart', async () => {
    const { page, errors } = await open(`?${RANGE}`);
    const row = await text(page, '#providers-table tbody tr:has-text("gpt-image-9")');
    expect(row).toContain('not comparable: some calls are not priced');
    expect(await text(page, '#providers-table .not-compared')).toBe(
      'Not compared: openai has no price for gpt-image-9.',
    );
    const labels = await page.evaluate(() => (globalThis as any).Chart.getChart('providers-chart').data.labels);
    expect(labels).toEqual(
      expect.arrayContaining([
        'gpt-image-2',
        'gpt-image-9 (actual incomplete: 1 call not priced; not compared at openai)',
      ]),
    );
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('counts one call as "1 call" in the provider-cost panel', async () => {
    const other = await projectWithIngestKey(t.http, 'reseller');
    const res = await other.client.post('/v1/events', {
      events: [
        usageEvent({
          timestamp: '2026-09-10T10:00:00Z',
          provider: 'openrouter',
          model: 'mystery-image-model',
          usage: EDIT,
          provider_cost_usd: '0.5',
        }),
      ],
    });
    expect(res.body.accepted).toBe(1);
    const { page, errors } = await open('?preset=custom&from=2026-09-10&to=2026-09-10&tz=UTC');
    const row = await text(page, '#provider-cost-table tbody tr:has-text("mystery-image-model")');
    expect(row).toContain('1 call, $0.50');
    expect(row).not.toContain('calls');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('shows calls without a price as unpriced, never as $0.00', async () => {
    const { page } = await open(`?${RANGE}`);
    const row = await text(page, '#per-image tbody tr:has-text("gpt-image-9")');
    expect(row).toContain('unpriced');
    expect(row).not.toContain('$0.00');
    await page.context().close();
  });

  it('forgets the key on sign-out, and refuses an ingest key at sign-in', async () => {
    const { page } = await open(`?${RANGE}`);
    await page.click('#signout');
    expect(await page.inputValue('#key')).toBe('');
    const ingest = (await projectWithIngestKey(t.http, 'sign-in-probe')).key;
    await page.fill('#key', ingest);
    await page.click('#signin-form button');
    await page.waitForSelector('#signin-error:not([hidden])');
    expect(await text(page, '#signin-error')).toContain('That is an ingest key');
    expect(await page.isVisible('#app')).toBe(false);
    await page.context().close();
  });

  it('offers hourly bars only where they can be read', async () => {
    const { page } = await open('?preset=30d&tz=UTC');
    expect(await page.$eval('#ctl-granularity option[value=hour]', (o) => (o as any).disabled)).toBe(true);
    await page.selectOption('#ctl-preset', 'today');
    await page.waitForSelector('body[data-loaded=true]');
    expect(await page.$eval('#ctl-granularity option[value=hour]', (o) => (o as any).disabled)).toBe(false);
    await page.context().close();
  });

  for (const [name, width, height] of [
    ['1440', 1440, 1000],
    ['390', 390, 844],
  ] as const) {
    it(`fits a ${width} px screen on every page with no serious accessibility violation (axe-core)`, async () => {
      const pages: Array<[string, string, string]> = [
        ['overview', `?${RANGE}`, viewerKey],
        ['events', `?view=events&${RANGE}`, viewerKey],
        ['month-close', '?view=month&month=2026-11&tz=UTC', viewerKey],
        ['admin-webhooks', '?view=admin&tab=webhooks', TEST_ADMIN_KEY],
        ['admin-keys', '?view=admin&tab=keys', TEST_ADMIN_KEY],
        ['admin-pricing', '?view=admin&tab=pricing', TEST_ADMIN_KEY],
      ];
      for (const [label, query, key] of pages) {
        const { page, errors } = await open(query, key, { width, height }, { bypassCSP: true });
        const scroll = await page.evaluate(() => ({
          page: (globalThis as any).document.documentElement.scrollWidth,
          view: (globalThis as any).innerWidth,
        }));
        expect({ label, width: scroll.page }).toEqual({ label, width: scroll.view });
        await page.addScriptTag({ path: AXE });
        const violations = await page.evaluate(async () => {
          const result = await (globalThis as any).axe.run((globalThis as any).document, {
            resultTypes: ['violations'],
          });
          return result.violations
            .filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
            .map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`);
        });
        expect({ label, violations }).toEqual({ label, violations: [] });
        await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${label}-${name}.png`), fullPage: true });
        expect(errors).toEqual([]);
        await page.context().close();
      }
    });
  }

  it('tells a new user how to send the first event when the period is empty', async () => {
    const { page } = await open('?preset=custom&from=2025-01-01&to=2025-01-31&tz=UTC', viewerKey, {
      width: 390,
      height: 844,
    });
    expect(await page.isVisible('#empty')).toBe(true);
    expect(await text(page, '#empty-snippet')).toContain('/v1/events');
    await page.context().close();
  });

  it('refuses a key that is not accepted and says so', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(t.url);
    await page.fill('#key', 'tt_not_a_key_at_all_000000000000');
    await page.click('#signin-form button');
    await page.waitForSelector('#signin-error:not([hidden])');
    expect(await text(page, '#signin-error')).toContain('not accepted');
    expect(await page.isVisible('#controls')).toBe(false);
    await context.close();
  });
});
