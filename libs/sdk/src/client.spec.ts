import { TokenTallyClient } from './client';

const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

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
    const tally = client(accepted);
    const before = timers();
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
    expect(timers()).toBe(before); // was one more: the 5 s shutdown timeout, held until it fired
  });
});
