import { EventMonthsService } from './event-months.service';
import { eventKey, StoredKey, UsageEventsRepository } from './ingest.sql';
import { EventToStore, EVENTS_PER_STATEMENT, IngestWriter } from './ingest-writer';

/**
 * How the writer groups requests, with a stand-in for the database whose
 * statements finish when the test says: which requests share a statement,
 * and what each request is told it stored. (What PostgreSQL does with the
 * statement is tested end to end in test/e2e/ingest-coalescing.e2e-spec.ts.)
 */
class HeldStatements {
  readonly statements: Array<{ rows: Array<[string, string]>; finish: (error?: Error) => void }> = [];
  readonly stored = new Set<string>();

  insertEvents(columns: string[]): Promise<StoredKey[]> {
    const ids = elementsOf(columns[1]);
    const rows = elementsOf(columns[0]).map((project, i) => [project, ids[i]] as [string, string]);
    return new Promise((resolve, reject) => {
      this.statements.push({
        rows,
        finish: (error) => {
          if (error) return reject(error);
          const storedBefore: StoredKey[] = [];
          for (const [project, id] of rows) {
            const key = eventKey(project, id);
            if (this.stored.has(key)) storedBefore.push({ project_id: project, event_id: id });
            this.stored.add(key);
          }
          resolve(storedBefore);
        },
      });
    });
  }
}

/** The elements of a one-dimensional array literal of quoted strings (the writer's columns, pgArrayLiteral). */
function elementsOf(literal: string): string[] {
  return [...literal.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, '$1'));
}

const event = (eventId: string): EventToStore => ({
  eventId,
  timestamp: '2026-11-29T10:00:00Z',
  values: Array.from({ length: 25 }, (_, i) => (i === 0 ? eventId : null)),
});
const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => event(`e${from + i}`));
const tick = () => new Promise((resolve) => setImmediate(resolve));

function writerWith(db: HeldStatements): IngestWriter {
  return new IngestWriter(db as unknown as UsageEventsRepository, {} as EventMonthsService);
}

describe('IngestWriter', () => {
  it('a lone request goes at once, in a statement of its own', async () => {
    const db = new HeldStatements();
    const written = writerWith(db).write('p1', batch(0, 3));
    await tick();
    expect(db.statements).toHaveLength(1);
    db.statements[0].finish();
    expect(await written).toEqual(new Set());
  });

  it('a request whose events were stored before is told their ids, and only theirs', async () => {
    const db = new HeldStatements();
    const writer = writerWith(db);
    const first = writer.write('p1', batch(0, 3));
    await tick();
    db.statements[0].finish();
    await first;
    const again = writer.write('p1', [...batch(1, 2), event('new')]);
    await tick();
    db.statements[1].finish();
    expect(await again).toEqual(new Set(['e1', 'e2']));
  });

  it('requests that arrive while two statements run wait, and go together in the next one', async () => {
    const db = new HeldStatements();
    const writer = writerWith(db);
    const answers = Array.from({ length: 12 }, (_, r) => writer.write(`p${r % 3}`, batch(r * 10, 10)));
    await tick();
    expect(db.statements.map((s) => s.rows.length)).toEqual([10, 10]);
    db.statements[0].finish();
    await tick();
    // The ten that waited, in one statement, sorted by project and event id (the order locks are taken in).
    expect(db.statements.map((s) => s.rows.length)).toEqual([10, 10, 100]);
    const third = db.statements[2].rows.map(([p, e]) => `${p}/${e}`);
    expect(third).toEqual([...third].sort());
    db.statements[1].finish();
    db.statements[2].finish();
    const results = await Promise.all(answers);
    expect(results.map((r) => r.size)).toEqual(Array(12).fill(0));
    expect(writer.stats).toEqual({ statements: 3, requests: 12 });
  });

  it('a statement holds at most EVENTS_PER_STATEMENT events; the rest wait for the next', async () => {
    const db = new HeldStatements();
    const writer = writerWith(db);
    const held = [writer.write('p', batch(0, 1)), writer.write('p', batch(1, 1))];
    const waiting = Array.from({ length: 5 }, (_, r) => writer.write('p', batch(100 + r * 1000, 1000)));
    await tick();
    db.statements[0].finish();
    await tick();
    expect(db.statements[2].rows.length).toBeLessThanOrEqual(EVENTS_PER_STATEMENT);
    expect(db.statements[2].rows.length).toBe(2000);
    db.statements[1].finish();
    await tick();
    expect(db.statements[3].rows.length).toBe(2000);
    db.statements[2].finish();
    await tick();
    expect(db.statements[4].rows.length).toBe(1000);
    db.statements[3].finish();
    db.statements[4].finish();
    await Promise.all([...held, ...waiting]);
  });

  it('an event sent by two requests of one statement counts for the first; the second is told it is a duplicate', async () => {
    const db = new HeldStatements();
    const writer = writerWith(db);
    const first = [writer.write('p', [event('a')]), writer.write('p', [event('b')])];
    const x = writer.write('p', [event('shared'), event('x')]);
    const y = writer.write('p', [event('shared'), event('y')]);
    await tick();
    db.statements[0].finish();
    await tick();
    expect(db.statements[2].rows).toEqual([
      ['p', 'shared'],
      ['p', 'x'],
      ['p', 'y'],
    ]);
    db.statements[1].finish();
    db.statements[2].finish();
    expect(await x).toEqual(new Set());
    expect(await y).toEqual(new Set(['shared']));
    await Promise.all(first);
  });

  it('when a shared statement fails, each of its requests is written alone, and only the failing one fails', async () => {
    const db = new HeldStatements();
    const writer = writerWith(db);
    const held = [writer.write('p', [event('a')]), writer.write('p', [event('b')])];
    const fine = writer.write('p', [event('fine')]);
    const poison = writer.write('p', [event('poison')]);
    await tick();
    db.statements[0].finish();
    await tick();
    db.statements[2].finish(new Error('refused'));
    await tick();
    // Written again one by one.
    expect(db.statements.slice(3).map((s) => s.rows.map(([, e]) => e))).toEqual([['fine']]);
    db.statements[3].finish();
    await tick();
    expect(db.statements.slice(4).map((s) => s.rows.map(([, e]) => e))).toEqual([['poison']]);
    db.statements[4].finish(new Error('refused again'));
    expect(await fine).toEqual(new Set());
    await expect(poison).rejects.toThrow('refused again');
    db.statements[1].finish();
    await Promise.all(held);
  });
});
