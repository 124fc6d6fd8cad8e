import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ApiKeysService } from '@tokentally/auth';
import { createLogger, loadConfigOrExit } from '@tokentally/common';
import { IngestService, RollupCompactor, UsageEventInput } from '@tokentally/ingest';
import { AppModule } from './app.module';

/**
 * `npm run demo`: 90 days of realistic gpt-image-2 usage across both providers,
 * several projects, teams and features, with a weekly rhythm, growth and one
 * spike, written through the real ingest path (priced, rolled up).
 */
const DAYS = 90;
const PROJECTS = ['storefront', 'mobile-app', 'marketing-site'];
const TEAMS = ['growth', 'core', 'brand', 'search'];
const FEATURES = ['avatars', 'product-shots', 'banners', 'thumbnails', 'edits'];
const SIZES: Array<[string, number]> = [
  ['1024x1024', 1],
  ['1024x1536', 1.5],
  ['1536x1024', 1.49],
];
const QUALITY: Array<[string, number]> = [
  ['low', 272],
  ['medium', 1056],
  ['high', 4160],
];

function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main(): Promise<void> {
  const config = loadConfigOrExit({ ...process.env, RUN_JOBS: 'false', PRICING_REFRESH_ON_START: 'false' }, 'TokenTally demo');
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: createLogger({ ...config, logLevel: 'warn' }) });
  const keys = app.get(ApiKeysService);
  const ingest = app.get(IngestService);
  const existing = new Map((await keys.listProjects()).map((p) => [p.name, p.id]));
  const projectIds: string[] = [];
  for (const name of PROJECTS) projectIds.push(existing.get(name) ?? (await keys.createProject({ name })).id);

  const rand = random(20261127);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)];
  const now = Date.now();
  const spikeDay = 12;
  let total = 0;
  for (let day = DAYS - 1; day >= 0; day--) {
    const date = new Date(now - day * 86400000);
    const weekday = date.getUTCDay();
    const rhythm = weekday === 0 || weekday === 6 ? 0.45 : 1;
    const growth = 0.6 + 0.4 * ((DAYS - day) / DAYS);
    const calls = Math.round(260 * rhythm * growth * (0.85 + rand() * 0.3)) + (day === spikeDay ? 900 : 0);
    for (let p = 0; p < projectIds.length; p++) {
      const events: UsageEventInput[] = [];
      const share = [0.5, 0.3, 0.2][p];
      for (let i = 0; i < Math.round(calls * share); i++) {
        const at = date.getTime() - Math.floor(rand() * 86400000);
        if (at > now - 60_000) continue;
        const [size, sizeFactor] = pick(SIZES);
        const [quality, outTokens] = rand() < 0.55 ? QUALITY[2] : rand() < 0.7 ? QUALITY[1] : QUALITY[0];
        const edit = rand() < 0.3;
        const feature = day === spikeDay && i % 2 === 0 ? 'banners' : pick(FEATURES);
        const failed = rand() < 0.01;
        events.push({
          eventId: `demo-${p}-${day}-${i}`,
          occurredAt: at,
          timestamp: new Date(at).toISOString(),
          provider: rand() < 0.7 ? 'openai' : 'vercel',
          model: 'gpt-image-2',
          operation: edit ? 'images.edit' : 'images.generate',
          usage: {
            input_text: failed ? 0 : 40 + Math.floor(rand() * 160),
            cached_input_text: 0,
            input_image: failed || !edit ? 0 : 1290,
            cached_input_image: 0,
            output_image: failed ? 0 : Math.round(outTokens * sizeFactor),
            output_text: 0,
          },
          images: failed ? 0 : 1,
          imageSize: size,
          imageQuality: quality,
          status: failed ? 'error' : 'ok',
          latencyMs: 4000 + Math.floor(rand() * 9000),
          team: pick(TEAMS),
          user: `u_${Math.floor(rand() * 60)}`,
          feature,
          environment: rand() < 0.9 ? 'prod' : 'staging',
          tags: { campaign: day < 20 && day > 5 ? 'black-friday' : 'evergreen' },
        });
      }
      for (let i = 0; i < events.length; i += 1000) await ingest.ingest(projectIds[p], events.slice(i, i + 1000));
      total += events.length;
    }
  }
  await app.get(RollupCompactor).compactOnce();
  await app.close();
  console.log(`demo data: ${total} events over ${DAYS} days in projects ${PROJECTS.join(', ')} (replays are skipped as duplicates).`);
  console.log('Start the service with `npm start` and open the dashboard.');
}

main().catch((error) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
