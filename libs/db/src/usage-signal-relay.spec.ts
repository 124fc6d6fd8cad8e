import { AppConfig } from '@tokentally/common';
import { Database } from './database';
import { EventBus, TouchedScope } from './event-bus';
import { SIGNALS_SQL } from './signals.sql';
import { decodeTouched, EVERYTHING_PAYLOAD } from './touched-codec';
import { NOTIFY_WINDOW_MS, UsageSignalRelay } from './usage-signal-relay';

const scope = (user: string): TouchedScope => ({
  provider: 'openai',
  model: 'gpt-image-2',
  project: 'p1',
  team: 'growth',
  user,
  feature: 'avatars',
  environment: 'prod',
  tags: {},
});

/** A publisher (an api process with RUN_JOBS=false on PostgreSQL) over a pool that records what it is asked. */
function publisher(query: (sql: string, values: unknown[]) => Promise<unknown>) {
  const events = new EventBus();
  const database = { kind: 'postgres', dataSource: { query } } as unknown as Database;
  const relay = new UsageSignalRelay({ runJobs: false } as AppConfig, database, events);
  relay.onApplicationBootstrap();
  return { events, relay };
}

describe('UsageSignalRelay', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('has a role only on PostgreSQL: listener where the jobs run, publisher elsewhere', () => {
    expect(UsageSignalRelay.roleOf(true, 'postgres')).toBe('listener');
    expect(UsageSignalRelay.roleOf(false, 'postgres')).toBe('publisher');
    expect(UsageSignalRelay.roleOf(true, 'embedded')).toBe('none');
    expect(UsageSignalRelay.roleOf(false, 'embedded')).toBe('none');
  });

  it('sends one NOTIFY per window for every ingest of that window, after them, off the request path', async () => {
    const sent: unknown[][] = [];
    const { events } = publisher(async (sql, values) => {
      expect(sql).toBe(SIGNALS_SQL.notify);
      sent.push(values);
      return [];
    });
    await events.signal('usage.ingested', { touched: [scope('a'), scope('b')] });
    await events.signal('usage.ingested', { touched: [scope('b'), scope('c')] });
    expect(sent).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(NOTIFY_WINDOW_MS);
    expect(sent).toHaveLength(1);
    expect(decodeTouched(sent[0][0] as string)).toEqual([scope('a'), scope('b'), scope('c')]);
    await jest.advanceTimersByTimeAsync(NOTIFY_WINDOW_MS * 5);
    expect(sent).toHaveLength(1); // nothing new, nothing sent
  });

  it('sends "everything" when a window touched more scopes than a payload holds', async () => {
    const sent: unknown[][] = [];
    const { events } = publisher(async (_sql, values) => sent.push(values));
    await events.signal('usage.ingested', { touched: Array.from({ length: 2_000 }, (_, i) => scope(`u${i}`)) });
    await jest.advanceTimersByTimeAsync(NOTIFY_WINDOW_MS);
    expect(sent).toEqual([[EVERYTHING_PAYLOAD]]);
  });

  it('keeps what a failed NOTIFY carried and sends it with the next one', async () => {
    const sent: unknown[][] = [];
    let away = true;
    const { events } = publisher(async (_sql, values) => {
      if (away) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      sent.push(values);
    });
    await events.signal('usage.ingested', { touched: [scope('a')] });
    await jest.advanceTimersByTimeAsync(NOTIFY_WINDOW_MS);
    away = false;
    await events.signal('usage.ingested', { touched: [scope('b')] });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sent).toHaveLength(1);
    expect(decodeTouched(sent[0][0] as string)).toEqual([scope('a'), scope('b')]);
  });

  it('sends what it gathered when it closes, before the database does', async () => {
    const sent: unknown[][] = [];
    const { events, relay } = publisher(async (_sql, values) => sent.push(values));
    await events.signal('usage.ingested', { touched: [scope('a')] });
    await relay.close();
    expect(sent).toHaveLength(1);
    await events.signal('usage.ingested', { touched: [scope('b')] });
    await jest.advanceTimersByTimeAsync(NOTIFY_WINDOW_MS * 2);
    expect(sent).toHaveLength(1);
  });
});
