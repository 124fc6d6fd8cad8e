import { storage, Store } from 'nestjs-pino/storage';
import { AppLogger, createLogger, rootLoggerOf } from './app-logger';
import { LogLevelName } from './config';

function capture(logLevel: LogLevelName = 'verbose', name?: string) {
  const lines: string[] = [];
  const logger = createLogger(
    { logLevel, logFormat: 'json' },
    { destination: { write: (l) => void lines.push(l) }, name },
  );
  return { logger, lines, entries: () => lines.map((line) => JSON.parse(line) as Record<string, any>) };
}

describe('createLogger (pino through nestjs-pino)', () => {
  it('writes one JSON line per call: level name, ISO time, process, context and message', () => {
    const { logger, lines, entries } = capture('log', 'worker');
    logger.log('started', 'Worker');
    logger.warn({ message: 'slow', took_ms: 1200 }, 'Jobs');
    expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    expect(entries()).toEqual([
      expect.objectContaining({ level: 'info', process: 'worker', context: 'Worker', msg: 'started' }),
      expect.objectContaining({ level: 'warn', process: 'worker', context: 'Jobs', message: 'slow', took_ms: 1200 }),
    ]);
    expect(new Date(entries()[0].time).toISOString()).toBe(entries()[0].time);
  });

  it.each<[LogLevelName, string[]]>([
    ['error', ['error']],
    ['warn', ['error', 'warn']],
    ['log', ['error', 'warn', 'info']],
    ['debug', ['error', 'warn', 'info', 'debug']],
    ['verbose', ['error', 'warn', 'info', 'debug', 'trace']],
  ])('keeps the LOG_LEVEL=%s semantics', (level, written) => {
    const { logger, entries } = capture(level);
    logger.error('e');
    logger.warn('w');
    logger.log('l');
    logger.debug('d');
    logger.verbose('v');
    expect(entries().map((e) => e.level)).toEqual(written);
  });

  it('redacts credentials in messages, objects, errors, child bindings and requests', () => {
    const { logger, lines } = capture();
    const key = 'tt_AbCdEfGhIjKlMnOpQrStUvWxYz012345';
    const sig = 'c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw';
    logger.log(`called with Authorization: Bearer opaque-token-1 by ${key}`, 'Test');
    logger.warn({ message: 'hook', headers: { authorization: 'Bearer opaque-token-2', cookie: 'c=cookie-3' } });
    logger.error('failed', `Error: boom whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n    at x (/app/y.js:1:1)`, 'Test');
    logger.error(new Error(`no key ${key}`));
    logger.root.child({ authorization: 'Bearer opaque-token-4' }).info('child');
    logger.root.info(
      { req: { method: 'GET', url: `/v1/charts/shared/spend.png?sig=${sig}`, headers: { authorization: 'x' } } },
      'request',
    );
    const text = lines.join('');
    for (const secret of [key, sig, 'opaque-token', 'cookie-3', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'])
      expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED]');
    expect(text).toContain(`"url":"/v1/charts/shared/spend.png?sig=[REDACTED]"`);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it("writes through the request's child logger while one is in nestjs-pino's store", () => {
    const { logger, entries } = capture();
    storage.run(new Store(logger.root.child({ request_id: 'req-1' })), () => logger.log('inside', 'Handler'));
    logger.log('outside', 'Handler');
    expect(entries().map((e) => [e.msg, e.request_id])).toEqual([
      ['inside', 'req-1'],
      ['outside', undefined],
    ]);
  });

  it('prints readable lines with LOG_FORMAT=pretty', () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => {
      written.push(chunk);
      return true;
    }) as typeof process.stdout.write);
    try {
      createLogger({ logLevel: 'log', logFormat: 'pretty' }).log('hello', 'Ctx');
    } finally {
      spy.mockRestore();
    }
    expect(written).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[Ctx\] hello\n$/)]);
  });

  it('gives Fastify a silent logger when the app is made without one', () => {
    expect(rootLoggerOf(false).level).toBe('silent');
    const logger = createLogger({ logLevel: 'debug', logFormat: 'json' });
    expect(logger).toBeInstanceOf(AppLogger);
    expect(rootLoggerOf(logger)).toBe(logger.root);
  });
});
