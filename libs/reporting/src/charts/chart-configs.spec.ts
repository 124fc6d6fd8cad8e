import { bucketLabels, budgetsChart, spendChart } from './chart-configs';

const report = (over: Record<string, unknown>) =>
  ({ granularity: 'day', tz: 'UTC', group_by: 'user', series: [], ...over }) as any;

describe('chart bucket labels', () => {
  it('labels a week by the days of the range it holds: a range from Tuesday Sep 1 never reads "Aug 31"', () => {
    // Weeks start on Monday: Aug 31 and Sep 7 (UTC); the range is Sep 1 to Sep 10 inclusive.
    const labels = bucketLabels(
      report({
        granularity: 'week',
        from: '2026-09-01T00:00:00.000Z',
        to: '2026-09-11T00:00:00.000Z',
        buckets: ['2026-08-31T00:00:00.000Z', '2026-09-07T00:00:00.000Z'],
      }),
    );
    expect(labels).toEqual(['Sep 1 – 6 (partial)', 'Sep 7 – 10 (partial)']);
  });

  it('marks nothing partial when the range holds whole weeks, across a month end and a clock change', () => {
    // Berlin leaves summer time on Oct 25: Monday Oct 26 starts at 23:00 UTC, a week of 7 days and 1 hour.
    const labels = bucketLabels(
      report({
        granularity: 'week',
        tz: 'Europe/Berlin',
        from: '2026-10-18T22:00:00.000Z',
        to: '2026-11-01T23:00:00.000Z',
        buckets: ['2026-10-18T22:00:00.000Z', '2026-10-25T23:00:00.000Z'],
      }),
    );
    expect(labels).toEqual(['Oct 19 – 25', 'Oct 26 – Nov 1']);
  });

  it('marks a month the range cuts, and not a whole one', () => {
    const labels = bucketLabels(
      report({
        granularity: 'month',
        from: '2026-09-15T00:00:00.000Z',
        to: '2026-12-01T00:00:00.000Z',
        buckets: ['2026-09-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z'],
      }),
    );
    expect(labels).toEqual(['Sep 2026 (partial)', 'Oct 2026', 'Nov 2026']);
    const cutEnd = bucketLabels(
      report({
        granularity: 'month',
        from: '2026-10-01T00:00:00.000Z',
        to: '2026-11-20T00:00:00.000Z',
        buckets: ['2026-10-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z'],
      }),
    );
    expect(cutEnd).toEqual(['Oct 2026', 'Nov 2026 (partial)']);
  });

  it("labels days and hours in the report's zone", () => {
    expect(
      bucketLabels(
        report({
          tz: 'Asia/Kolkata',
          from: '2026-11-18T18:30:00.000Z',
          to: '2026-11-20T18:30:00.000Z',
          buckets: ['2026-11-18T18:30:00.000Z', '2026-11-19T18:30:00.000Z'],
        }),
      ),
    ).toEqual(['Nov 19', 'Nov 20']);
    expect(
      bucketLabels(
        report({
          granularity: 'hour',
          tz: 'America/New_York',
          from: '2026-11-19T05:00:00.000Z',
          to: '2026-11-19T07:00:00.000Z',
          buckets: ['2026-11-19T05:00:00.000Z', '2026-11-19T06:00:00.000Z'],
        }),
      ),
    ).toEqual(['Nov 19, 00:00', 'Nov 19, 01:00']);
  });
});

describe('spend chart', () => {
  const base = {
    from: '2026-11-01T00:00:00.000Z',
    to: '2026-11-03T00:00:00.000Z',
    buckets: ['2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z'],
  };
  const series = (key: string, values: string[]) => ({
    key,
    label: key,
    values,
    total: values.reduce((a, b) => (Number(a) + Number(b)).toFixed(6)),
  });

  it('starts "(other)" hidden when it outweighs the named series (grouping by user among thousands)', () => {
    const config = spendChart(
      report({
        ...base,
        series: [
          series('u_1', ['1.000000', '1.000000']),
          series('u_2', ['0.500000', '0.500000']),
          series('(other)', ['8.000000', '9.000000']),
        ],
      }),
    );
    const other = config.data.datasets.find((d: any) => d.key === '(other)');
    expect(other).toMatchObject({ hidden: true, label: '(other): hidden, click to show' });
    expect(config.data.datasets.filter((d: any) => d.hidden)).toHaveLength(1);
  });

  it('shows "(other)" when it is smaller than the named series', () => {
    const config = spendChart(
      report({
        ...base,
        series: [series('openai', ['5.000000', '5.000000']), series('(other)', ['1.000000', '0.000000'])],
      }),
    );
    expect(config.data.datasets.find((d: any) => d.key === '(other)')).toMatchObject({
      hidden: false,
      label: '(other)',
    });
  });

  it('shows the exact figure in the tooltip by the one money rule, not the drawn number', () => {
    const config = spendChart(report({ ...base, series: [series('openai', ['718.631655', '0.001357'])] }));
    const label = config.options.plugins.tooltip.callbacks.label as (ctx: any) => string;
    const dataset = config.data.datasets[0];
    expect(label({ dataset, dataIndex: 0, raw: dataset.data[0] })).toBe('openai: $718.63');
    expect(label({ dataset, dataIndex: 1, raw: dataset.data[1] })).toBe('openai: $0.001357');
  });
});

describe('budgets chart', () => {
  it('keeps a 0-100 % axis with whole-percent ticks when every budget is at 0 %', () => {
    const config: any = budgetsChart([{ name: 'a', percent: '0.0', forecast_percent: '0.0' }]);
    expect(config.options.scales.x.suggestedMax).toBe(100);
    expect(config.options.scales.x.ticks.precision).toBe(0);
  });
});
