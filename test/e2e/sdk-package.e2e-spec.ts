import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestApp, TestApp } from '../support/app';
import { projectWithIngestKey, viewerClient } from '../support/factories';
import { eventually } from '../support/eventually';
import { HttpClient } from '../support/http';
import { FakeOpenAI, startFakeOpenAI } from '../fakes/openai-server';

const root = path.resolve(__dirname, '../..');
const sdk = path.join(root, 'libs/sdk');

/** The environment of a child npm or app: without the npm_* settings and Node options of the npm/jest running us. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(npm_|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$)/i.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command without blocking this process (the TokenTally app and the fake OpenAI live in it). */
function run(command: string, args: string[], cwd: string, env = childEnv()): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, timeout: 120_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} in ${cwd}: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** `npm pack` of libs/sdk into `destination`, from nothing built: its prepack builds dist/. Returns the tarball. */
async function packSdk(destination: string): Promise<string> {
  fs.rmSync(path.join(sdk, 'dist'), { recursive: true, force: true });
  await run('npm', ['pack', '--pack-destination', destination], sdk);
  const [tarball] = fs.readdirSync(destination).filter((f) => /^tokentally-openai-.*\.tgz$/.test(f));
  if (!tarball) throw new Error(`npm pack left no tarball in ${destination}`);
  return path.join(destination, tarball);
}

// One `npm pack` for the file, from nothing built: it builds libs/sdk/dist (prepack), which the first tests load.
let work: string;
let tarball: string;
beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tokentally-sdk-'));
  tarball = await packSdk(work);
}, 180_000);
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true }); // removes the app's openai link, not its target
});

/** The published shape of @tokentally/openai: built output usable from CommonJS and ES modules. */
describe('@tokentally/openai package', () => {
  it('loads with require()', () => {
    const out = execFileSync(process.execPath, [
      '-e',
      `const m = require(${JSON.stringify(sdk)}); console.log(typeof m.withTokenTally, typeof m.TokenTallyClient, typeof m.tokentally.run)`,
    ]);
    expect(out.toString().trim()).toBe('function function function');
  });

  it('loads with import', () => {
    const entry = path.join(sdk, 'dist/esm/index.mjs');
    const out = execFileSync(process.execPath, [
      '--input-type=module',
      '-e',
      `import { withTokenTally, tokenTallyFetch } from ${JSON.stringify(entry)}; console.log(typeof withTokenTally, typeof tokenTallyFetch)`,
    ]);
    expect(out.toString().trim()).toBe('function function');
  });

  it('ships type declarations and imports nothing from the server', () => {
    const files = fs
      .readdirSync(path.join(sdk, 'dist'), { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(js|mjs|d\.m?ts)$/.test(f));
    expect(files).toEqual(
      expect.arrayContaining(['cjs/index.js', 'cjs/index.d.ts', 'esm/index.mjs', 'esm/index.d.mts']),
    );
    const serverImports = files.filter((f) =>
      /@tokentally\/(core|common|db|auth|ingest|pricing)|\.\.\/\.\.\/libs\//.test(
        fs.readFileSync(path.join(sdk, 'dist', f), 'utf8'),
      ),
    );
    expect(serverImports).toEqual([]);
  });
});

/**
 * The openai package for the new app: the one this repository tests with, as `npm ci` installed it, linked from
 * node_modules (no registry, no npm cache needed, so a clean CI machine installs offline; copying its 2,700 files
 * through a tarball took a minute on a busy machine). TOKENTALLY_SDK_TEST_OPENAI=openai@7 (any npm spec) installs
 * that one from the registry instead, to try another version by hand.
 */
function openaiForApp(): { spec: string; offline: boolean } {
  const wanted = process.env.TOKENTALLY_SDK_TEST_OPENAI;
  if (wanted) return { spec: wanted, offline: false };
  return { spec: path.join(root, 'node_modules/openai'), offline: true };
}

/** Every file an `exports` map points at. */
function exportTargets(exportsField: unknown): string[] {
  if (typeof exportsField === 'string') return [exportsField];
  if (exportsField && typeof exportsField === 'object') return Object.values(exportsField).flatMap(exportTargets);
  return [];
}

/** The same app in each module system: one images.generate through the fake OpenAI, tagged with RUN. */
const APP_CALL = `
  const openai = withTokenTally(new OpenAI({ apiKey: 'sk-fake', baseURL: process.env.OPENAI_BASE_URL, maxRetries: 0 }), {
    endpoint: process.env.TOKENTALLY_URL,
    apiKey: process.env.TOKENTALLY_KEY,
    provider: 'openai',
    tags: { run: process.env.RUN },
    onError: (error) => {
      console.error('tokentally:', error.type, error.message);
      process.exitCode = 1;
    },
  });
  const image = await openai.images.generate({
    model: 'gpt-image-2',
    prompt: 'a watercolor fox in the snow',
    size: '1024x1024',
    quality: 'high',
  });
  console.log('images', image.data.length);
`;

const CJS_APP = `'use strict';
const { OpenAI } = require('openai');
const { withTokenTally, tokenTallyOf } = require('@tokentally/openai');

async function main() {${APP_CALL}
  await tokenTallyOf(openai).shutdown();
  console.log('delivered', tokenTallyOf(openai).stats.delivered);
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

// The README's three lines, nothing else: the event is sent when the process runs out of work (beforeExit).
const ESM_APP = `import OpenAI from 'openai';
import { withTokenTally } from '@tokentally/openai';
${APP_CALL}`;

const TS_CHECK = `import OpenAI from 'openai';
import { withTokenTally, tokenTallyOf, TokenTallyClient, type TokenTallyOptions } from '@tokentally/openai';

const options: TokenTallyOptions = { endpoint: process.env.TOKENTALLY_URL ?? '', apiKey: 'tt_key', tags: { a: 'b' } };
const openai: OpenAI = withTokenTally(new OpenAI({ apiKey: 'sk-fake' }), options);
const tally: TokenTallyClient | undefined = tokenTallyOf(openai);

export async function generate(): Promise<number> {
  const image = await openai.images.generate({ model: 'gpt-image-2', prompt: 'a fox' });
  await tally?.flush();
  return (image.data?.length ?? 0) + (tally?.stats.delivered ?? 0);
}

// @ts-expect-error the types are real, not any: endpoint is a string
withTokenTally(new OpenAI({ apiKey: 'sk-fake' }), { endpoint: 42, apiKey: 'tt_key' });
`;

/**
 * The tarball as a user gets it: `npm pack` in libs/sdk from nothing built, installed beside the real openai
 * package into a new app outside the repository (offline), then used from CommonJS, an ES module and TypeScript,
 * against the fake OpenAI, with the events arriving in a real TokenTally.
 */
describe('@tokentally/openai installed from its tarball into a new app', () => {
  let app: string;
  let t: TestApp;
  let fake: FakeOpenAI;
  let viewer: HttpClient;
  let ingestKey: string;
  let projectId: string;

  async function makeApp(): Promise<void> {
    const openai = openaiForApp();
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'sdk-user-app', version: '1.0.0' }));
    await run(
      'npm',
      [
        'install',
        ...(openai.offline ? ['--offline', '--cache', path.join(work, 'npm-cache')] : []),
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        tarball,
        openai.spec,
      ],
      app,
    );
  }

  beforeAll(async () => {
    app = path.join(work, 'app');
    fs.mkdirSync(app);
    // All three settle before anything is judged, so afterAll closes what did start and no npm is left running.
    const started = await Promise.allSettled([startTestApp(), startFakeOpenAI(), makeApp()]);
    if (started[0].status === 'fulfilled') t = started[0].value;
    if (started[1].status === 'fulfilled') fake = started[1].value;
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    ({ key: ingestKey, projectId } = await projectWithIngestKey(t.http));
    viewer = await viewerClient(t.http);
  }, 240_000);

  afterAll(async () => {
    await fake?.close();
    await t?.close();
  });

  function runApp(file: string, tag: string): Promise<string> {
    return run(
      process.execPath,
      [file],
      app,
      childEnv({ TOKENTALLY_URL: t.url, TOKENTALLY_KEY: ingestKey, OPENAI_BASE_URL: fake.url, RUN: tag }),
    );
  }

  async function storedEvent(tag: string): Promise<Record<string, any>> {
    return eventually(async () => {
      const res = await viewer.get(`/v1/events?project=${projectId}&limit=10&tag:run=${tag}`);
      if (res.status !== 200) throw new Error(`events: ${res.status} ${res.text}`);
      if (res.body.data.length !== 1) throw new Error(`${res.body.data.length} events tagged ${tag}`);
      return res.body.data[0];
    });
  }

  const expectedEvent = (tag: string) => ({
    provider: 'openai',
    model: 'gpt-image-2',
    operation: 'images.generate',
    status: 'ok',
    usage: { input_text_tokens: 7, output_image_tokens: 4160 },
    images: 1,
    image_size: '1024x1024',
    image_quality: 'high',
    tags: { run: tag },
    cost_usd: '0.124835', // 7 x $5 + 4,160 x $30 per 1M
    priced: true,
  });

  it('the tarball holds dist/, README.md and package.json only, in the published shape', async () => {
    const listing = (await run('tar', ['-tzf', tarball], work))
      .split('\n')
      .filter(Boolean)
      .map((file) => file.replace(/^package\//, ''));
    expect(listing.filter((file) => !/^(dist\/.+|README\.md|package\.json|LICENSE)$/.test(file))).toEqual([]);
    expect(listing.filter((file) => /\.spec\.|\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
    expect(listing).toEqual(
      expect.arrayContaining([
        'dist/cjs/index.js',
        'dist/cjs/index.d.ts',
        'dist/esm/index.mjs',
        'dist/esm/index.d.mts',
        'README.md',
        'package.json',
      ]),
    );

    const installed = path.join(app, 'node_modules/@tokentally/openai');
    const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
    expect(pkg.private).toBeUndefined();
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg).toMatchObject({
      name: '@tokentally/openai',
      license: expect.any(String),
      type: 'commonjs',
      main: './dist/cjs/index.js',
      module: './dist/esm/index.mjs',
      types: './dist/cjs/index.d.ts',
      sideEffects: false,
      engines: { node: expect.any(String) },
      peerDependencies: { openai: expect.any(String) },
      exports: {
        '.': {
          import: { types: './dist/esm/index.d.mts', default: './dist/esm/index.mjs' },
          require: { types: './dist/cjs/index.d.ts', default: './dist/cjs/index.js' },
        },
      },
    });
    // TypeScript reads conditions in order: `types` must come first in each.
    expect(Object.keys(pkg.exports['.'].import)[0]).toBe('types');
    expect(Object.keys(pkg.exports['.'].require)[0]).toBe('types');
    const missing = [pkg.main, pkg.module, pkg.types, ...exportTargets(pkg.exports)].filter(
      (target) => !fs.existsSync(path.join(installed, target)),
    );
    expect(missing).toEqual([]);
  });

  it("require('@tokentally/openai') in a CommonJS app records images.generate with its model and cost", async () => {
    fs.writeFileSync(path.join(app, 'app.cjs'), CJS_APP);
    const out = await runApp('app.cjs', 'cjs');
    expect(out).toContain('images 1');
    expect(out).toContain('delivered 1');
    expect(await storedEvent('cjs')).toMatchObject(expectedEvent('cjs'));
  });

  it("import { withTokenTally } from '@tokentally/openai' in an ES module app records it, sent at exit", async () => {
    fs.writeFileSync(path.join(app, 'app.mjs'), ESM_APP);
    const out = await runApp('app.mjs', 'esm');
    expect(out).toContain('images 1');
    expect(await storedEvent('esm')).toMatchObject(expectedEvent('esm'));
  });

  it('type-checks in TypeScript apps: CommonJS and ES modules (nodenext) and node10 resolution', async () => {
    const compilerOptions = {
      target: 'ES2022',
      lib: ['ES2022'],
      strict: true,
      noEmit: true,
      skipLibCheck: true, // openai's own declarations take half a minute; the @ts-expect-error shows ours are real
      typeRoots: [path.join(root, 'node_modules/@types')],
      types: ['node'],
    };
    for (const file of ['check.cts', 'check.mts', 'check.ts']) fs.writeFileSync(path.join(app, file), TS_CHECK);
    fs.writeFileSync(
      path.join(app, 'tsconfig.nodenext.json'),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, module: 'nodenext', moduleResolution: 'nodenext' },
        files: ['check.cts', 'check.mts'],
      }),
    );
    fs.writeFileSync(
      path.join(app, 'tsconfig.node10.json'),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, module: 'commonjs', moduleResolution: 'node', esModuleInterop: true },
        files: ['check.ts'],
      }),
    );
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    await Promise.all(
      ['tsconfig.nodenext.json', 'tsconfig.node10.json'].map((config) =>
        run(process.execPath, [tsc, '-p', config], app),
      ),
    );
  }, 120_000);
});
