'use strict';
// What the benchmarks share: their command-line flags and a TokenTally api started on a database.
const { spawn } = require('node:child_process');
const path = require('node:path');

/** `--name value` pairs, and `--flag` alone as true. */
function parseArgs(argv = process.argv.slice(2)) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    args[a.slice(2)] = next === undefined || next.startsWith('--') ? true : (i++, next);
  }
  return args;
}

/** The node flags of `npm start` (package.json), so that a benchmark runs the service as a user does. */
function npmStartFlags() {
  return require(path.join(__dirname, '../package.json'))
    .scripts.start.split(' ')
    .filter((arg) => arg.startsWith('--'));
}

/**
 * Starts the api `api` (a built main.js) on `url` without jobs or a pricing pull, waits until it is ready
 * (migrations on a large database may take minutes) and resolves with a function that stops it.
 */
async function startService(url, { api, port, adminKey, nodeArgs = [] }) {
  const child = spawn(process.execPath, [...nodeArgs, api], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: String(port),
      ADMIN_API_KEY: adminKey,
      LOG_LEVEL: 'warn',
      RUN_JOBS: 'false',
      PRICING_REFRESH_ON_START: 'false',
      RATE_LIMIT_ENABLED: 'false',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  for (let i = 0; i < 1200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode})`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return async () => {
    child.kill('SIGTERM');
    await exited;
  };
}

module.exports = { parseArgs, npmStartFlags, startService };
