'use strict';
// The dashboard in Chromium on a running service: from the click on "Open
// dashboard" to every panel of the overview drawn with its data (or its empty
// state), the way a person signs in. Used by bench/reports.js on the seeded
// 10-million-event database; needs /usr/bin/chromium (Debian's chromium).
const fs = require('node:fs');

const CHROMIUM = '/usr/bin/chromium';

/**
 * Signs in `loads` times (a fresh browser context each: no cache, no session)
 * and answers, per load, the milliseconds until every panel left its loading
 * state, and which panel came last. Null without Chromium.
 */
async function dashboardInChromium(base, key, { loads = 7, query = '' } = {}) {
  if (!fs.existsSync(CHROMIUM)) return null;
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const runs = [];
  try {
    for (let i = 0; i < loads; i++) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
      const page = await context.newPage();
      await page.goto(`${base}/${query}`);
      await page.fill('#key', key);
      // Watches the panels from the click on: each one's time out of 'loading', and whether it drew an error.
      const watch = page.evaluate(
        () =>
          new Promise((resolve) => {
            const start = performance.now();
            const seen = {};
            const tick = () => {
              const panels = [...document.querySelectorAll('.panel')];
              for (const p of panels)
                if (!(p.id in seen) && p.dataset.state !== 'loading')
                  seen[p.id] = { ms: performance.now() - start, state: p.dataset.state };
              const kpis = document.querySelectorAll('.kpi').length > 0;
              if (panels.length > 0 && kpis && Object.keys(seen).length === panels.length)
                resolve({ ms: performance.now() - start, seen });
              else if (performance.now() - start > 60_000) resolve({ ms: null, seen });
              else requestAnimationFrame(tick);
            };
            requestAnimationFrame(tick);
          }),
      );
      await page.click('#signin-form button');
      const result = await watch;
      const last = Object.entries(result.seen).sort((a, b) => b[1].ms - a[1].ms)[0];
      runs.push({
        ms: result.ms === null ? null : Math.round(result.ms),
        last: last && `${last[0]} ${Math.round(last[1].ms)} ms`,
        errors: Object.entries(result.seen)
          .filter(([, v]) => v.state === 'error')
          .map(([id]) => id),
      });
      await context.close();
    }
  } finally {
    await browser.close();
  }
  const times = runs
    .map((r) => r.ms)
    .filter((ms) => ms !== null)
    .sort((a, b) => a - b);
  return {
    runs,
    median: times[Math.floor(times.length / 2)] ?? null,
    max: times[times.length - 1] ?? null,
    summary:
      `every panel drawn after sign-in: median ${times[Math.floor(times.length / 2)]} ms, slowest ${times[times.length - 1]} ms (of ${runs.length} loads: ${runs.map((r) => r.ms).join(', ')} ms)` +
      (runs.some((r) => r.errors.length)
        ? `; panels in error: ${[...new Set(runs.flatMap((r) => r.errors))].join(', ')}`
        : ''),
  };
}

module.exports = { dashboardInChromium };
