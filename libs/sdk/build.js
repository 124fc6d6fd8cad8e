// Builds the package into dist/: CommonJS and its type declarations with tsc (tsconfig.build.json), and an
// ES module entry, with its own declarations, that re-exports the CommonJS build (one implementation, so no
// dual-package state: one delivery queue, one tokentally.run context). `npm pack` and `npm publish` run it
// (prepack), so a tarball is never made without dist/.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;
const dist = path.join(here, 'dist');
fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(here, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
const cjs = require(path.join(dist, 'cjs/index.js'));
const names = Object.keys(cjs).filter((name) => name !== 'default' && name !== '__esModule');
if (names.length === 0) throw new Error('the CommonJS entry exports nothing');
fs.mkdirSync(path.join(dist, 'esm'), { recursive: true });
fs.writeFileSync(
  path.join(dist, 'esm/index.mjs'),
  `import cjs from '../cjs/index.js';\nexport const { ${names.join(', ')} } = cjs;\nexport default cjs;\n`,
);
// The ES entry's types: the CommonJS declarations, re-exported as an ES module, so TypeScript sees what
// Node loads under the "import" condition (not CommonJS types for an ES module file).
fs.writeFileSync(
  path.join(dist, 'esm/index.d.mts'),
  `import * as cjs from '../cjs/index.js';\nexport * from '../cjs/index.js';\nexport default cjs;\n`,
);
console.log(`@tokentally/openai built: ${names.length} exports (${names.join(', ')})`);
