import * as fs from 'node:fs';
import * as path from 'node:path';
import { ALERT_EVENT_TYPES, DIMENSIONS } from '@tokentally/core';

/**
 * Rules of the code base that ESLint does not know (issue 13 found each of
 * them broken): SQL lives in the `*.sql.ts` files of its feature, controllers
 * run none, and the domain event types and the dimensions are listed once.
 */
const root = path.resolve(__dirname, '..', '..');

function productionFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!['node_modules', 'dist', 'build'].includes(entry.name)) walk(relative);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts')) {
        out.push(relative);
      }
    }
  };
  walk('apps');
  walk('libs');
  return out.sort();
}

const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

/** A SQL statement's opening, as written in a string (comments are stripped before the search). */
const SQL_STATEMENT = /\b(SELECT\s[\s\S]{0,400}?\sFROM\s|INSERT\s+INTO\s|DELETE\s+FROM\s|UPDATE\s+[a-z_]+\s+SET\s)/;
/** Infrastructure below the features, which owns its few statements: connection checks, the key ring. */
const SQL_INFRASTRUCTURE = ['libs/db/src/database.ts', 'libs/common/src/secrets.ts'];

const withoutComments = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

/** The elements of each array literal in a source file that are plain string literals (one level, no nesting). */
function arrayLiterals(source: string): string[][] {
  return [...withoutComments(source).matchAll(/\[([^[\]]*)\]/g)].map((m) =>
    [...m[1].matchAll(/(?:^|,)\s*'([^'\\]*)'\s*(?=,|$)/g)].map((s) => s[1]),
  );
}

describe('code base rules', () => {
  const files = productionFiles();

  it('finds the code it checks', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files).toEqual(
      expect.arrayContaining(['libs/budgets/src/alerts.controller.ts', 'libs/core/src/dimensions.ts']),
    );
  });

  it('runs no SQL in controllers: they reach the database only through services', () => {
    const offenders = files
      .filter((file) => file.endsWith('.controller.ts'))
      .filter((file) => /\.query\(|\bDataSource\b|\bEntityManager\b/.test(withoutComments(read(file))));
    expect(offenders).toEqual([]);
  });

  it('keeps SQL text in the *.sql.ts files of each feature', () => {
    const offenders = files
      .filter((file) => !file.endsWith('.sql.ts') && !SQL_INFRASTRUCTURE.includes(file))
      .filter((file) => SQL_STATEMENT.test(withoutComments(read(file))));
    expect(offenders).toEqual([]);
  });

  // A copy of a list: an array literal naming all of its items (a subset picked for a purpose, or an example, is not).
  const copiesOf = (list: readonly string[], home: string) =>
    files
      .filter((file) => file !== home)
      .filter((file) => arrayLiterals(read(file)).some((items) => list.every((item) => items.includes(item))));

  it('lists the domain event types in one module only (libs/core/src/domain-events.ts)', () => {
    expect(copiesOf(ALERT_EVENT_TYPES, 'libs/core/src/domain-events.ts')).toEqual([]);
  });

  it('lists the dimensions in one module only (libs/core/src/dimensions.ts)', () => {
    // The raw CSV export's header names its columns, which include one per dimension: not a list of dimensions.
    const csvHeader = 'libs/reporting/src/reports-export.service.ts';
    expect(copiesOf(DIMENSIONS, 'libs/core/src/dimensions.ts').filter((file) => file !== csvHeader)).toEqual([]);
  });
});

describe('documents', () => {
  const documents = [
    'README.md',
    'libs/sdk/README.md',
    'bench/RESULTS.md',
    ...fs.readdirSync(path.join(root, 'docs')).map((name) => `docs/${name}`),
  ].filter((file) => file.endsWith('.md'));
  /** Markdown links `[text](target)` that are not web addresses or anchors in the same page. */
  const localLinks = (file: string) =>
    [...read(file).matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1])
      .filter((target) => !/^(https?:|mailto:|#)/.test(target))
      .map((target) => target.split('#')[0]);

  it('link only to files inside the repository, and every such file exists', () => {
    const broken: string[] = [];
    for (const file of documents) {
      for (const target of localLinks(file)) {
        const resolved = path.resolve(root, path.dirname(file), target);
        if (!resolved.startsWith(root + path.sep) || !fs.existsSync(resolved)) broken.push(`${file} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('are all linked from the README', () => {
    const linked = new Set(localLinks('README.md').map((target) => path.normalize(target)));
    const docs = documents.filter((file) => file.startsWith('docs/') || file === 'libs/sdk/README.md');
    expect(docs.filter((file) => !linked.has(path.normalize(file)))).toEqual([]);
  });
});
