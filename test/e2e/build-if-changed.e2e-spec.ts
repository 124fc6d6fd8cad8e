// scripts/build-if-changed.js (the "prestart" of `npm start`): builds only when the build's inputs changed or an entry
// point is missing. Checked on a tiny tree in a temporary folder, with a fake build (and once through the command line
// with a package.json whose "build" writes the entry points), never the real 16 s build.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildIfChanged, decide, ENTRY_POINTS, hashInputs, STAMP_FILE } from '../../scripts/build-if-changed';

const SCRIPT = path.resolve(__dirname, '../../scripts/build-if-changed.js');

/** Writes files (path -> content) under root, making folders as needed. */
function write(root: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
}

/** A fake build: writes every entry point, counts its calls, answers `status`. */
function fakeBuild(status = 0) {
  const calls: string[] = [];
  const run = (root: string) => {
    calls.push(root);
    if (status === 0) write(root, Object.fromEntries(ENTRY_POINTS.map((file) => [file, '// built\n'])));
    return status;
  };
  return { calls, run };
}

describe('build-if-changed (npm start skips the build when nothing changed)', () => {
  let root: string;
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tt-build-if-changed-'));
    lines.length = 0;
    write(root, {
      'apps/api/src/main.ts': 'console.log("api");\n',
      'apps/worker/src/main.ts': 'console.log("worker");\n',
      'libs/core/src/index.ts': 'export const one = 1;\n',
      'libs/reporting/src/dashboard/assets/index.html': '<!doctype html>\n',
      'migrations/1700000000000-Init.ts': 'export class Init {}\n',
      'tsconfig.json': '{}\n',
      'tsconfig.build.json': '{"extends":"./tsconfig.json"}\n',
      'nest-cli.json': '{}\n',
      'package.json': '{"name":"tiny"}\n',
      'package-lock.json': '{"lockfileVersion":3}\n',
      'README.md': 'not an input\n',
    });
  });

  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /** Builds once (fake), so the tree has a stamp and every entry point. */
  function builtOnce() {
    const build = fakeBuild();
    expect(buildIfChanged(root, { runBuild: build.run, log })).toBe(0);
    expect(build.calls).toHaveLength(1);
    expect(fs.existsSync(path.join(root, STAMP_FILE))).toBe(true);
    lines.length = 0;
  }

  it('hashes contents of the inputs only, in path order', () => {
    const inputs = hashInputs(root);
    expect([...inputs.keys()]).toEqual([
      'apps/api/src/main.ts',
      'apps/worker/src/main.ts',
      'libs/core/src/index.ts',
      'libs/reporting/src/dashboard/assets/index.html',
      'migrations/1700000000000-Init.ts',
      'nest-cli.json',
      'package-lock.json',
      'package.json',
      'tsconfig.build.json',
      'tsconfig.json',
    ]);
    expect(hashInputs(root)).toEqual(inputs);
  });

  it('builds a tree that was never built, then skips while the inputs are the same', () => {
    expect(decide(root)).toMatchObject({ build: true, reason: 'dist/apps/api/src/main.js is missing' });
    builtOnce();
    const build = fakeBuild();
    expect(buildIfChanged(root, { runBuild: build.run, log })).toBe(0);
    expect(build.calls).toHaveLength(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^build-if-changed: dist\/ is up to date \(10 input files unchanged, checked in \d+ ms\)/);
  });

  it('skips when only modification times changed (contents, not mtimes)', () => {
    builtOnce();
    const later = new Date(Date.now() + 3_600_000);
    fs.utimesSync(path.join(root, 'apps/api/src/main.ts'), later, later);
    write(root, { 'libs/core/src/index.ts': 'export const one = 1;\n' }); // rewritten, same bytes
    expect(decide(root).build).toBe(false);
  });

  it('builds after a source file changed, and says which', () => {
    builtOnce();
    write(root, { 'libs/core/src/index.ts': 'export const one = 2;\n' });
    expect(decide(root)).toMatchObject({ build: true, reason: '1 input file(s) changed: libs/core/src/index.ts' });
    const build = fakeBuild();
    expect(buildIfChanged(root, { runBuild: build.run, log })).toBe(0);
    expect(build.calls).toEqual([root]);
    expect(lines).toEqual(['build-if-changed: 1 input file(s) changed: libs/core/src/index.ts: running npm run build']);
    expect(decide(root).build).toBe(false); // the new inputs were recorded
  });

  it.each([
    ['a new file', () => write(root, { 'libs/core/src/money.ts': 'export {};\n' }), 'libs/core/src/money.ts'],
    ['a removed file', () => fs.rmSync(path.join(root, 'apps/worker/src/main.ts')), 'apps/worker/src/main.ts'],
    [
      'a migration',
      () => write(root, { 'migrations/1700000000001-More.ts': '\n' }),
      'migrations/1700000000001-More.ts',
    ],
    ['tsconfig.build.json', () => write(root, { 'tsconfig.build.json': '{}\n' }), 'tsconfig.build.json'],
    ['package-lock.json', () => write(root, { 'package-lock.json': '{"lockfileVersion":4}\n' }), 'package-lock.json'],
    [
      'a dashboard asset',
      () => write(root, { 'libs/reporting/src/dashboard/assets/x.css': '' }),
      'dashboard/assets/x.css',
    ],
  ])('builds after %s', (_what, change, named) => {
    builtOnce();
    change();
    const decision = decide(root);
    expect(decision.build).toBe(true);
    expect(decision.reason).toContain(named);
  });

  it('ignores node_modules, the build outputs under libs/ and dist/ itself', () => {
    builtOnce();
    write(root, {
      'node_modules/x/index.js': '1',
      'libs/sdk/node_modules/y/index.js': '1',
      'libs/sdk/dist/cjs/index.js': '1',
      'libs/reporting/src/dashboard/assets/build/app.js': '1',
      'dist/apps/api/src/extra.js': '1',
      'README.md': 'edited\n',
      'data/pg/file': '1',
    });
    expect(decide(root).build).toBe(false);
  });

  it('builds when an entry point is missing, whatever the stamp says', () => {
    builtOnce();
    fs.rmSync(path.join(root, 'dist/apps/worker/src/main.js'));
    expect(decide(root)).toMatchObject({ build: true, reason: 'dist/apps/worker/src/main.js is missing' });
  });

  it('builds when the stamp is missing or unreadable', () => {
    builtOnce();
    fs.writeFileSync(path.join(root, STAMP_FILE), '{not json');
    expect(decide(root)).toMatchObject({
      build: true,
      reason: expect.stringMatching(/^no record of a previous build/),
    });
    fs.rmSync(path.join(root, STAMP_FILE));
    expect(decide(root).build).toBe(true);
  });

  it('records nothing when the build fails, so the next start builds again', () => {
    const failing = fakeBuild(2);
    expect(buildIfChanged(root, { runBuild: failing.run, log })).toBe(2);
    expect(fs.existsSync(path.join(root, STAMP_FILE))).toBe(false);
    builtOnce();
    write(root, { 'apps/api/src/main.ts': 'syntax error(\n' });
    expect(buildIfChanged(root, { runBuild: fakeBuild(1).run, log })).toBe(1);
    expect(decide(root).build).toBe(true);
  });

  it('from the command line: runs npm run build once, then skips', () => {
    const makeDist = ENTRY_POINTS.map((file) => `m(p.dirname('${file}'),{recursive:true});w('${file}','')`);
    write(root, {
      'package.json': JSON.stringify({
        name: 'tiny',
        scripts: {
          build: `node -e "const p=require('path'),{mkdirSync:m,writeFileSync:w}=require('fs');${makeDist.join(';')}"`,
        },
      }),
    });
    // Without npm_execpath the script runs the npm on PATH (the one `npm start` runs it with otherwise).
    const env = { ...process.env, npm_execpath: '' };
    const first = spawnSync(process.execPath, [SCRIPT, root], { cwd: root, env, encoding: 'utf8' });
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('build-if-changed: dist/apps/api/src/main.js is missing: running npm run build');
    for (const file of ENTRY_POINTS) expect(fs.existsSync(path.join(root, file))).toBe(true);
    const second = spawnSync(process.execPath, [SCRIPT, root], { cwd: root, env, encoding: 'utf8' });
    expect(second.status).toBe(0);
    expect(second.stdout.trim().split('\n')).toEqual([expect.stringMatching(/build skipped$/)]);
  });
});
