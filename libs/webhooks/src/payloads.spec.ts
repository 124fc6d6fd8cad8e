import { describeEvent, slackBody, standardBody } from './payloads';

const threshold = {
  budget_id: 'b1',
  budget_name: 'Marketing images',
  threshold_pct: 80,
  amount_usd: '900.000000',
  spent_usd: '718.631655',
  percent: '79.8',
  forecast_usd: '1130.504999',
  forecast_method: 'weekly_rhythm',
  period: 'month',
  period_start: '2026-10-31T23:00:00.000Z',
  period_end: '2026-11-30T23:00:00.000Z',
  timezone: 'Europe/Berlin',
};

describe('alert texts', () => {
  it('show amounts by the one money rule: cents from $1, 4 significant digits below', () => {
    expect(describeEvent('budget.threshold_reached', threshold)).toBe(
      'Budget "Marketing images" reached 80% of $900.00 for the month: $718.63 spent (79.8%) since 1 Nov 2026.',
    );
    expect(describeEvent('budget.forecast_exceeded', threshold)).toBe(
      'Budget "Marketing images" is forecast to reach $1,130.50 by the end of the month, above its $900.00; $718.63 spent so far.',
    );
    expect(
      describeEvent('spend.anomaly', {
        dimension: 'project',
        key: 'p1',
        label: 'Image studio',
        day: '2026-11-27',
        spent_usd: '369.000000',
        median_usd: '0.268000',
        threshold_usd: '15.831',
        mad_usd: '0.01',
      }),
    ).toBe(
      'Spend of project Image studio on 2026-11-27 is $369.00, far above its usual $0.2680 a day (28-day median; threshold $15.83).',
    );
  });

  it('tell a reconciliation drift in one sentence: day, project, both figures, the difference and the causes', () => {
    const drift = {
      day: '2026-11-25',
      openai_project_id: 'proj_studio',
      project_name: 'Studio',
      billed_usd: '1.200000',
      tracked_usd: '1.050000',
      difference_usd: '0.150000',
      percent: '12.50',
      threshold_pct: '2',
      causes: ['untracked_calls', 'unpriced_events'],
    };
    expect(describeEvent('reconciliation.drift', drift)).toBe(
      'On 2026-11-25, project Studio (OpenAI proj_studio): OpenAI billed $1.20, TokenTally tracked $1.05, a difference of $0.1500 (12.50%), above the 2% threshold; likely: untracked calls, unpriced events.',
    );
    expect(
      describeEvent('reconciliation.drift', {
        ...drift,
        openai_project_id: null,
        project_name: null,
        billed_usd: '0.000000',
        difference_usd: '-1.050000',
        percent: null,
        causes: [],
      }),
    ).toBe(
      'On 2026-11-25, the whole organization: OpenAI billed $0.00, TokenTally tracked $1.05, a difference of -$1.05, above the 2% threshold.',
    );
  });

  it('say "?" for an amount an older event does not carry, rather than fail', () => {
    expect(describeEvent('budget.threshold_reached', { ...threshold, spent_usd: undefined })).toContain(': ? spent');
  });

  it('keep the exact figures in the JSON payloads; Slack text follows the display rule', () => {
    const event = {
      id: 'e1',
      type: 'budget.threshold_reached',
      payload: threshold,
      created_at: new Date('2026-11-27T10:15:02.120Z'),
    };
    expect(JSON.parse(standardBody(event)).data).toEqual(threshold);
    const slack = JSON.parse(slackBody(event));
    expect(slack.text).toBe(`Budget threshold reached: ${describeEvent(event.type, threshold)}`);
    expect(slack.blocks[1].text.text).toContain('$718.63 spent');
    expect(slackBody(event)).not.toContain('718.631655');
  });
});
