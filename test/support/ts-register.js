// Lets a plain `node` child process run the service from the TypeScript
// sources (no `npm run build`): `node -r ./test/support/ts-register.js apps/api/src/main.ts`.
// Transpile only (types are checked by `npm run typecheck`), with the
// tsconfig path aliases (@tokentally/*) resolved to the source folders.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const ts = require('typescript');

const root = path.resolve(__dirname, '..', '..');
const { compilerOptions } = require(path.join(root, 'tsconfig.json'));
const aliases = Object.entries(compilerOptions.paths).map(([alias, [target]]) => ({
  exact: !alias.endsWith('/*'),
  prefix: alias.replace('/*', ''),
  target: path.join(root, target.replace('/*', '')),
}));

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request.startsWith('@tokentally/')) {
    for (const alias of aliases) {
      if (alias.exact ? request === alias.prefix : request.startsWith(alias.prefix + '/')) {
        request = alias.exact ? alias.target : path.join(alias.target, request.slice(alias.prefix.length + 1));
        break;
      }
    }
  }
  return resolve.call(this, request, parent, ...rest);
};

const options = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  allowSyntheticDefaultImports: true,
  resolveJsonModule: true,
  sourceMap: false,
  inlineSourceMap: true,
};
require.extensions['.ts'] = function (module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: options, fileName: filename });
  module._compile(outputText, filename);
};
