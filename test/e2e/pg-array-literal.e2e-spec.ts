import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { textProblem } from '@tokentally/common';
import { pgArrayLiteral } from '@tokentally/db';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { hostileString } from '../support/arbitraries';

/**
 * Ingest hands PostgreSQL its columns as array literals it writes itself
 * (pgArrayLiteral, libs/db/src/pg-array.ts) instead of letting `pg` build
 * them. Whatever text, number or null goes in, the real array_in of the
 * database under test must read back exactly the values given: a wrong
 * escape would store another user's text or split an event in two.
 */

/** Text PostgreSQL can hold: no NUL, no lone surrogate (ingest refuses both before they get here). */
const storable = (text: string) => textProblem(text) === null;

describe('PostgreSQL array literals (pgArrayLiteral)', () => {
  let database: TestDatabase;
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await startTestApp({}, database);
    db = t.app.get(DataSource);
  });

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  async function readBack<T>(literal: string, type: string): Promise<T[]> {
    const [row] = await db.query(`SELECT $1::${type}[] AS value`, [literal]);
    return row.value;
  }

  it('any text array, quotes, backslashes, braces, commas, "NULL" and empty strings included, reads back as sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(hostileString(80).filter(storable), { nil: null }), { minLength: 1, maxLength: 20 }),
        async (values) => {
          expect(await readBack<string | null>(pgArrayLiteral(values), 'text')).toEqual(values);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the words PostgreSQL reads specially stay text: NULL, null, quoted braces, leading and trailing spaces', async () => {
    const values = ['NULL', 'null', '{}', '{"a",b}', ' x ', '', '\\', '"', '\\"', 'a,b', '\t\n'];
    expect(await readBack<string>(pgArrayLiteral([...values, null]), 'text')).toEqual([...values, null]);
  });

  it('whole numbers and nulls of bigint and int columns read back as sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: null }), { maxLength: 30 }),
        async (values) => {
          const back = await readBack<string | null>(pgArrayLiteral(values), 'bigint');
          expect(back).toEqual(values.map((v) => (v === null ? null : String(v))));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('JSON objects with quotes and backslashes in keys and values read back as the same jsonb', async () => {
    const tags = [{ 'say "hi"': 'back\\slash', '{x}': 'a,b' }, {}, { NULL: 'null' }];
    const back = await readBack<Record<string, string>>(
      pgArrayLiteral(tags.map((tag) => JSON.stringify(tag))),
      'jsonb',
    );
    expect(back).toEqual(tags);
  });

  it('an empty column is an empty array', async () => {
    expect(await readBack<string>(pgArrayLiteral([]), 'text')).toEqual([]);
  });
});
