import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The published shape of @tokentally/openai: built output usable from CommonJS and ES modules. */
describe('@tokentally/openai package', () => {
  const sdk = path.resolve(__dirname, '../../libs/sdk');

  beforeAll(() => {
    execFileSync(process.execPath, [path.join(sdk, 'build.js')], { stdio: 'pipe' });
  }, 60_000);

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
      .filter((f) => /\.(js|mjs|d\.ts)$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['cjs/index.js', 'cjs/index.d.ts', 'esm/index.mjs']));
    const serverImports = files.filter((f) =>
      /@tokentally\/(core|common|db|auth|ingest|pricing)|\.\.\/\.\.\/libs\//.test(
        fs.readFileSync(path.join(sdk, 'dist', f), 'utf8'),
      ),
    );
    expect(serverImports).toEqual([]);
  });
});
