import { TokenTallyClient } from './client';

/**
 * Timers the code under test starts and has not yet fired or cleared: counted
 * through setTimeout/clearTimeout themselves, not through the process's active
 * resources (other suites in the same jest process start and end timers too).
 */
function trackTimers() {
  const pending = new Set<NodeJS.Timeout>();
  const realSet = global.setTimeout;
  const realClear = global.clearTimeout;
  const setSpy = jest.spyOn(global, 'setTimeout').mockImplementation(((
    callback: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) => {
    const handle: NodeJS.Timeout = realSet(
      (...given: unknown[]) => {
        pending.delete(handle);
        callback(...given);
      },
      ms,
      ...args,
    );
    pending.add(handle);
    return handle;
  }) as unknown as typeof setTimeout);
  const clearSpy = jest.spyOn(global, 'clearTimeout').mockImplementation(((handle?: NodeJS.Timeout) => {
    if (handle) pending.delete(handle);
    realClear(handle);
  }) as typeof clearTimeout);
  return {
    pending: () => pending.size,
    restore: () => {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    },
  };
}

describe('TokenTallyClient', () => {
  function client(deliveryFetch: typeof fetch) {
    return new TokenTallyClient({
      endpoint: 'http://tokentally.test',
      apiKey: 'tt_key',
      flushOnExit: false,
      deliveryFetch,
    });
  }
  const accepted = async () => new Response(JSON.stringify({ accepted: 1 }), { status: 202 });

  it('flush() waits for usage still being read, sends it, and leaves no timer keeping the process alive', async () => {
    const timers = trackTimers();
    try {
      const tally = client(accepted);
      // As the fetch middleware does: the event is tracked once the response has been read.
      tally.expect(
        new Promise<void>((resolve) =>
          setImmediate(() => {
            tally.track({ provider: 'openai', model: 'gpt-image-2', usage: { output_image_tokens: 4160 } });
            resolve();
          }),
        ),
      );
      await tally.shutdown();
      expect(tally.stats.delivered).toBe(1);
      // Was 2: the 5 s shutdown timeout, held until it fired, and the send planned by the late event.
      expect(timers.pending()).toBe(0);
    } finally {
      timers.restore();
    }
  });
});
