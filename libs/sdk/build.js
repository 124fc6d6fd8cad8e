// Builds the package: CommonJS + type declarations with tsc, and an ES module
// entry that re-exports the CommonJS build (one implementation, so no dual-package state).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;
fs.rmSync(path.join(here, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(here, 'tsconfig.json')], {
  stdio: 'inherit',
});
const cjs = require(path.join(here, 'dist/cjs/index.js'));
const names = Object.keys(cjs).filter((name) => name !== 'default' && name !== '__esModule');
fs.mkdirSync(path.join(here, 'dist/esm'), { recursive: true });
fs.writeFileSync(
  path.join(here, 'dist/esm/index.mjs'),
  `import cjs from '../cjs/index.js';\nexport const { ${names.join(', ')} } = cjs;\nexport default cjs;\n`,
);
console.log(`@tokentally/openai built: ${names.length} exports (${names.join(', ')})`);
