#!/usr/bin/env node
// Bundles the dashboard's TypeScript (web/main.ts), the shared chart
// configurations and Chart.js into assets/build/app.js with esbuild: one
// same-origin script, no CDN (the service works offline), no inline script
// (the page's CSP allows none). `npm run build` and the e2e tests' global
// setup run it; it takes well under a second.
'use strict';
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '../../../..');
function buildDashboard() {
  const result = esbuild.buildSync({
    entryPoints: [path.join(__dirname, 'web/main.ts')],
    outfile: path.join(__dirname, 'assets/build/app.js'),
    bundle: true,
    minify: true,
    sourcemap: false,
    format: 'iife',
    target: ['es2022'],
    platform: 'browser',
    tsconfig: path.join(root, 'tsconfig.json'),
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  return Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
}

module.exports = { buildDashboard };
if (require.main === module) {
  const bytes = buildDashboard();
  console.log(`dashboard bundle: ${(bytes / 1024).toFixed(0)} KiB`);
}
