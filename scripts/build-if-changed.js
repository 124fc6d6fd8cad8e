#!/usr/bin/env node
// `npm start` runs this first ("prestart"): it builds only when the build's inputs changed since the last build, or
// when dist/ lacks an entry point. The inputs are the files under apps/, libs/ and migrations/ (without node_modules
// and the build's own outputs libs/sdk/dist and the dashboard's assets/build), tsconfig*.json, nest-cli.json,
// package.json and package-lock.json, compared by content (SHA-256), never by modification time, so a checkout, a
// `touch` or a copy does not force a build and an edit that keeps the time does not escape one. After a successful
// build the inputs' digests are written to dist/.build-inputs.json. Pure Node, no git. `npm run build` still always
// builds (and, as it empties dist/, the next `npm start` builds once more to record its inputs).
//
//   node scripts/build-if-changed.js [root]    root = the repository (default: this script's parent folder)
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
/** Where the digests of the last successful build's inputs are kept (inside dist/: `npm run build` empties it). */
const STAMP_FILE = 'dist/.build-inputs.json';
const STAMP_VERSION = 1;
/** Folders whose files are inputs of the build. */
const INPUT_DIRS = ['apps', 'libs', 'migrations'];
/** Files at the root that are inputs of the build, besides every tsconfig*.json. */
const INPUT_FILES = ['nest-cli.json', 'package.json', 'package-lock.json'];
/** Folders under INPUT_DIRS that are not inputs: what the build itself writes there. */
const OUTPUT_DIRS = ['libs/sdk/dist', 'libs/reporting/src/dashboard/assets/build'];
/** Files the build makes and the start or the worker needs: one missing means build, whatever the stamp says. */
const ENTRY_POINTS = [
  'dist/apps/api/src/main.js',
  'dist/apps/worker/src/main.js',
  'dist/libs/db/src/cli/migrate.js',
  'dist/libs/reporting/src/dashboard/assets/build/app.js',
];

/** The build's inputs under root: a Map of path (relative, with /) to the SHA-256 of its content, sorted by path. */
function hashInputs(root) {
  const files = new Map();
  const addFile = (relative) => {
    const content = fs.readFileSync(path.join(root, relative));
    files.set(relative, crypto.createHash('sha256').update(content).digest('hex'));
  };
  const walk = (relative) => {
    let entries;
    try {
      entries = fs.readdirSync(path.join(root, relative), { withFileTypes: true });
    } catch (error) {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return;
      throw error;
    }
    for (const entry of entries) {
      const child = `${relative}/${entry.name}`;
      if (entry.name === 'node_modules' || OUTPUT_DIRS.includes(child)) continue;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) addFile(child);
      else if (entry.isSymbolicLink()) {
        // A linked file counts by its content; a linked folder by where it points (not followed: no cycles).
        const target = fs.statSync(path.join(root, child), { throwIfNoEntry: false });
        if (target?.isFile()) addFile(child);
        else files.set(child, `link:${fs.readlinkSync(path.join(root, child))}`);
      }
    }
  };
  for (const dir of INPUT_DIRS) walk(dir);
  const rootFiles = fs
    .readdirSync(root)
    .filter((name) => /^tsconfig.*\.json$/.test(name) || INPUT_FILES.includes(name));
  for (const name of rootFiles) addFile(name);
  const sorted = [...files.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(sorted.map((key) => [key, files.get(key)]));
}

/** One digest of every input: paths and contents. */
function digestOf(inputs) {
  const hash = crypto.createHash('sha256');
  for (const [file, digest] of inputs) hash.update(`${file}\0${digest}\n`);
  return hash.digest('hex');
}

function readStamp(root) {
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(root, STAMP_FILE), 'utf8'));
    return stamp && stamp.version === STAMP_VERSION && typeof stamp.hash === 'string' ? stamp : null;
  } catch {
    return null;
  }
}

/** Names of the inputs added, removed or edited between a stamp's files and now, in path order. */
function changedFiles(before, inputs) {
  const changed = [];
  for (const [file, digest] of inputs) if (before[file] !== digest) changed.push(file);
  for (const file of Object.keys(before)) if (!inputs.has(file)) changed.push(file);
  return changed.sort();
}

/**
 * Whether root needs a build: { build, reason, hash }. `inputs` defaults to hashInputs(root).
 * Build when an entry point is missing, when there is no stamp of a successful build, or when the inputs differ.
 */
function decide(root, inputs = hashInputs(root)) {
  const hash = digestOf(inputs);
  const missing = ENTRY_POINTS.find((file) => !fs.existsSync(path.join(root, file)));
  if (missing) return { build: true, reason: `${missing} is missing`, hash };
  const stamp = readStamp(root);
  if (!stamp) return { build: true, reason: `no record of a previous build (${STAMP_FILE})`, hash };
  if (stamp.hash === hash) return { build: false, reason: `${inputs.size} input files unchanged`, hash };
  const changed = changedFiles(stamp.files ?? {}, inputs);
  const shown = changed.slice(0, 3).join(', ') + (changed.length > 3 ? ` and ${changed.length - 3} more` : '');
  return { build: true, reason: `${changed.length} input file(s) changed: ${shown}`, hash };
}

/** Records that the build of these inputs succeeded. */
function writeStamp(root, inputs) {
  const file = path.join(root, STAMP_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const stamp = {
    version: STAMP_VERSION,
    hash: digestOf(inputs),
    built_at: new Date().toISOString(),
    files: Object.fromEntries(inputs),
  };
  fs.writeFileSync(file, JSON.stringify(stamp) + '\n');
}

/** `npm run build` in root; its exit status. Uses the npm that runs this script when there is one. */
function runNpmBuild(root) {
  // npm_execpath is npm-cli.js under `npm start` (npx-cli.js under npx: not that one).
  const npmCli = process.env.npm_execpath;
  const result =
    npmCli && path.basename(npmCli) === 'npm-cli.js'
      ? spawnSync(process.execPath, [npmCli, 'run', 'build'], { cwd: root, stdio: 'inherit' })
      : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

/**
 * Builds root if needed; answers the exit status. The inputs are read before the build, so a file edited while it
 * runs makes the next start build again. options: { runBuild(root) -> status, log(line) }.
 */
function buildIfChanged(root = ROOT, options = {}) {
  const log = options.log ?? ((line) => console.log(line));
  const runBuild = options.runBuild ?? runNpmBuild;
  const started = process.hrtime.bigint();
  const inputs = hashInputs(root);
  const decision = decide(root, inputs);
  const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
  if (!decision.build) {
    log(`build-if-changed: dist/ is up to date (${decision.reason}, checked in ${ms} ms): build skipped`);
    return 0;
  }
  log(`build-if-changed: ${decision.reason}: running npm run build`);
  const status = runBuild(root);
  if (status === 0) writeStamp(root, inputs);
  return status;
}

module.exports = {
  ENTRY_POINTS,
  STAMP_FILE,
  hashInputs,
  digestOf,
  decide,
  writeStamp,
  buildIfChanged,
};

if (require.main === module) {
  process.exitCode = buildIfChanged(process.argv[2] ? path.resolve(process.argv[2]) : ROOT);
}
