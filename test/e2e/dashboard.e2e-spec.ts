import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { startTestApp, TestApp } from '../support/app';
import { eventually } from '../support/eventually';
import { projectWithIngestKey, usageEvent, viewerClient } from '../support/factories';
import { WebhookReceiver } from '../fakes/webhook-receiver';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '../artifacts');

/**
 * The dashboard in real headless Chromium (Debian's chromium, driven by
 * playwright-core). `.ci/run` installs Chromium; on a machine without it this
 * file is skipped with a note, so `npm test` still passes on a fresh machine.
 */
const describeWithChromium = fs.existsSync(CHROMIUM) ? describe : describe.skip;
if (!fs.existsSync(CHROMIUM)) console.warn(`dashboard browser test skipped: ${CHROMIUM} not found (apt-get install chromium)`);

describeWithChromium('dashboard in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let viewerKey: string;

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    const web = await projectWithIngestKey(t.http, 'web-shop');
    const app = await projectWithIngestKey(t.http, 'mobile');
    const day = (d: number, hour: number) => new Date(Date.UTC(2026, 10, d, hour)).toISOString();
    const edit = { input_text_tokens: 120, input_image_tokens: 1290, output_image_tokens: 4160 };
    await web.client.post('/v1/events', {
      events: [
        usageEvent({ timestamp: day(20, 10), usage: edit, dimensions: { team: 'growth', feature: 'avatars', user: 'u_1' } }),
        usageEvent({ timestamp: day(21, 10), usage: edit, provider: 'vercel', dimensions: { team: 'growth', feature: 'banners', user: 'u_2' } }),
      ],
    });
    await app.client.post('/v1/events', { events: [usageEvent({ timestamp: day(21, 12), usage: edit, dimensions: { team: 'core', feature: 'avatars', user: 'u_1' } })] });
    await app.client.post('/v1/events', { events: [usageEvent({ timestamp: day(21, 13), model: 'gpt-image-9' })] });
    viewerKey = (await viewerClient(t.http)).key!;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('signs in, shows every panel with the seeded numbers, and follows the controls', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${t.url}/?from=2026-11-19&to=2026-11-22&tz=UTC&group_by=provider`);
    await page.fill('#key', viewerKey);
    await page.click('#signin-form button');
    await page.waitForSelector('body[data-loaded=true]');

    // 0.13572 + 0.13185 + 0.13572 (the gpt-image-9 call is unpriced)
    expect(await page.textContent('#kpi-range .value')).toBe('$0.40');
    expect(await page.textContent('#kpi-range .sub')).toContain('4 calls, 1 unpriced');
    expect(await page.textContent('#top-project')).toMatch(/web-shop\s*\$0\.268.*mobile\s*\$0\.136/s);
    expect(await page.textContent('#top-team')).toMatch(/growth.*core/s);
    expect(await page.textContent('#top-feature')).toMatch(/avatars\s*\$0\.271/);
    expect(await page.textContent('#per-image')).toContain('$0.1357');
    expect(await page.textContent('#providers')).toMatch(/save \$0\.00[0-9]+ on vercel/);
    expect(await page.textContent('#unpriced-warning')).toContain('openai/gpt-image-9 (1 calls)');
    expect(await page.textContent('#pricing')).toContain('gpt-image-2');
    expect(await page.textContent('#budgets')).toContain('No budgets yet');
    for (const id of ['spend-chart', 'tokens-chart', 'providers-chart']) {
      expect(await page.$eval(`#${id}`, (canvas: any) => canvas.width > 0 && canvas.height > 0)).toBe(true);
    }
    const legend = async () => page.evaluate(() => (globalThis as any).Chart.getChart('spend-chart').data.datasets.map((d: any) => d.label));
    expect(await legend()).toEqual(['openai', 'vercel']);

    await page.selectOption('select[name=group_by]', 'project');
    await page.waitForFunction(() => (globalThis as any).Chart.getChart('spend-chart').data.datasets[0]?.label === 'web-shop');
    expect(await legend()).toEqual(['web-shop', 'mobile']);
    expect(page.url()).toContain('group_by=project');

    await page.fill('input[name=from]', '2026-11-21');
    await page.dispatchEvent('input[name=from]', 'change');
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#kpi-range .sub')?.textContent?.startsWith('3 calls'));
    expect(await page.textContent('#kpi-range .value')).toBe('$0.27');
    expect(page.url()).toContain('from=2026-11-21');

    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows budget bars and the latest alerts with how their delivery went', async () => {
    const receiver = await new WebhookReceiver().start();
    try {
      const hook = await t.http.post('/v1/webhooks', { url: receiver.url, events: ['budget.threshold_reached'] });
      const shop = await projectWithIngestKey(t.http, 'print-shop');
      const budget = await t.http.post('/v1/budgets', { name: 'Print shop this month', amount_usd: '0.25', period: 'month', scope: { project: shop.projectId }, thresholds_pct: [50, 80], webhook_ids: [hook.body.id] });
      await t.http.post('/v1/budgets', { name: 'Everything this quarter', amount_usd: '500.00', period: 'quarter' });
      await shop.client.post('/v1/events', { events: [usageEvent({ timestamp: new Date(Date.now() - 60_000).toISOString() })] });
      await eventually(async () => expect(receiver.received).toHaveLength(1), 10_000);

      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`${t.url}/?tz=UTC`);
      await page.fill('#key', viewerKey);
      await page.click('#signin-form button');
      await page.waitForSelector('body[data-loaded=true]');
      const bars = await page.textContent('#budgets');
      expect(bars).toMatch(/Print shop this month\s*\$0\.1\d+ of \$0\.25/);
      expect(bars).toMatch(/5\d% · month/);
      expect(bars).toContain('Everything this quarter');
      const alerts = await page.textContent('#alerts');
      expect(alerts).toContain('Threshold');
      expect(alerts).toContain('Budget "Print shop this month" reached 50% of $0.25 for the month');
      expect(alerts).toContain('sent');
      const box = (await page.locator('#budgets').boundingBox())!;
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-budgets.png'), fullPage: true, clip: { x: 0, y: box.y - 60, width: 1400, height: 320 } });
      expect(budget.status).toBe(201);
      await page.close();
    } finally {
      await receiver.stop();
    }
  });

  it('counts partly priced calls in the range and says which kinds had no rate', async () => {
    const shop = await projectWithIngestKey(t.http, 'sticker-shop');
    // gpt-image-1 has no text-output rate: 50 x $5 + 4,160 x $40 per 1M = $0.16665 counted, the 100 text tokens not.
    const at = new Date(Date.UTC(2026, 10, 12, 10)).toISOString();
    await shop.client.post('/v1/events', { events: [usageEvent({ timestamp: at, model: 'gpt-image-1', usage: { input_text_tokens: 50, output_image_tokens: 4160, output_text_tokens: 100 } })] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${t.url}/?from=2026-11-12&to=2026-11-12&tz=UTC&group_by=model`);
    await page.fill('#key', viewerKey);
    await page.click('#signin-form button');
    await page.waitForSelector('body[data-loaded=true]');
    expect(await page.textContent('#kpi-range .value')).toBe('$0.17');
    expect(await page.textContent('#kpi-range .sub')).toBe('1 calls, 1 partly priced ($0.17), 0 unpriced');
    expect(await page.textContent('#partial-warning')).toContain('openai/gpt-image-1 (1 calls, $0.17 counted; no rate for output text)');
    expect(await page.textContent('#pricing')).toContain('Fully priced: 0.0% of calls, partly priced: 100.0%.');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-partial.png'), fullPage: true });
    await page.close();
  });

  it('tells a new user how to send the first event when the range is empty', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${t.url}/?from=2025-01-01&to=2025-01-31&tz=UTC`);
    await page.fill('#key', viewerKey);
    await page.click('#signin-form button');
    await page.waitForSelector('body[data-loaded=true]');
    expect(await page.isVisible('#empty')).toBe(true);
    expect(await page.textContent('#empty-snippet')).toContain('/v1/events');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-empty-phone.png') });
    await page.close();
  });

  it('refuses a key that cannot read reports', async () => {
    const page = await browser.newPage();
    await page.goto(t.url);
    await page.fill('#key', 'tt_not_a_key_at_all_000000000000');
    await page.click('#signin-form button');
    await page.waitForSelector('#signin-error:not([hidden])');
    expect(await page.textContent('#signin-error')).toContain('cannot read reports');
    await page.close();
  });
});
