import { DomainError } from '@tokentally/common';
import { ChartRenderer, MAX_WAITING_CHARTS } from './chart-renderer.service';

describe('ChartRenderer', () => {
  const renderer = new ChartRenderer();
  const config = renderer.configs.spendChart({
    buckets: ['2026-11-01T00:00:00.000Z'],
    series: [{ key: 'openai', label: 'openai', values: ['1.000000'], total: '1.000000' }],
    granularity: 'day',
    tz: 'UTC',
    group_by: 'provider',
  });

  it(`draws at most one chart at a time and lets at most ${MAX_WAITING_CHARTS} wait; more are turned away as unavailable`, async () => {
    let drawing = 0;
    let mostAtOnce = 0;
    const draw = (renderer as unknown as { draw: (...args: unknown[]) => Promise<Buffer> }).draw.bind(renderer);
    (renderer as unknown as { draw: (...args: unknown[]) => Promise<Buffer> }).draw = async (...args: unknown[]) => {
      mostAtOnce = Math.max(mostAtOnce, ++drawing);
      try {
        return await draw(...args);
      } finally {
        drawing--;
      }
    };
    const results = await Promise.allSettled(
      Array.from({ length: MAX_WAITING_CHARTS + 4 }, () => renderer.png(config, 400, 200)),
    );
    const drawn = results.filter((r) => r.status === 'fulfilled') as Array<PromiseFulfilledResult<Buffer>>;
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(drawn).toHaveLength(MAX_WAITING_CHARTS);
    expect(refused).toHaveLength(4);
    for (const r of refused) expect(r.reason).toEqual(expect.objectContaining({ kind: 'unavailable' }));
    expect(refused[0].reason).toBeInstanceOf(DomainError);
    expect(mostAtOnce).toBe(1);
    for (const r of drawn) expect(r.value.subarray(1, 4).toString()).toBe('PNG');
    // The queue empties: the next chart is drawn.
    await expect(renderer.png(config, 400, 200)).resolves.toBeInstanceOf(Buffer);
  });
});
