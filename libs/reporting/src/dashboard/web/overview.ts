import { ALERT_EVENT_LABELS } from '@tokentally/core';
import { api, ApiError, download } from './api';
import { drawChart } from './charts';
import { Child, h, table } from './dom';
import { ago, count, counted, money, percent, words } from './format';
import { Panel } from './panel';
import { reconciliationPanel } from './reconciliation';
import type { ChartOptions } from 'chart.js';
import type {
  Alert,
  Budget,
  BudgetStatus,
  Coverage,
  List,
  OlderPages,
  PerformanceReport,
  ProviderCostReport,
  PriceSource,
  PriceVersion,
  Pricing,
  ProvidersReport,
  SpendReport,
  Summary,
  TokensReport,
} from './api-types';
import type { MoneyDataset } from '../../charts/chart-configs';
import { DIMENSIONS, Dimension, Drill, filterParams, periodName, qs, State } from './state';
import { spendChart, tokensChart, providersChart } from '../../charts/chart-configs';

export interface OverviewContext {
  state: State;
  isCurrent: () => boolean;
  onAuthError: (e: ApiError) => void;
  /** Opens the events explorer on the current filters plus `extra` (a group, a bucket). */
  drill: (extra: Partial<State>) => void;
  /** The report refused the controls: mark them. */
  onControlErrors: (e: ApiError) => void;
}

const TOP = [
  ['project', 'Top projects'],
  ['team', 'Top teams'],
  ['user', 'Top users'],
  ['feature', 'Top features'],
] as const;

/** Each panel is its own request and state; the headline figures and the spend chart come first. */
export async function renderOverview(root: HTMLElement, ctx: OverviewContext): Promise<void> {
  const s = ctx.state;
  const period = periodName(s);
  const range = { from: s.from, to: s.to, tz: s.tz };
  const filters = filterParams(s.filters);
  const report = <T>(path: string, extra: Record<string, string> = {}) =>
    api.get<T>(`/v1/reports/${path}?${qs(range, filters, extra)}`);

  const kpis = h('section', { class: 'kpis', id: 'kpis', 'aria-label': 'Headline figures' });
  const warnings = h('div', { id: 'warnings' });
  const spend = new Panel('spend', `Spend by ${groupName(s.groupBy)}: ${period}`, 'wide');
  const tops = TOP.map(([dimension, title]) => ({
    dimension,
    panel: new Panel(`top-${dimension}`, `${title}: ${period}`),
  }));
  const tokens = new Panel('tokens', `Tokens by kind and cost per image: ${period}`, 'wide');
  const providers = new Panel('providers', `Providers compared: ${period}`, 'wide');
  const performance = new Panel('performance', `Latency and errors by model: ${period}`, 'wide');
  const providerCost = new Panel('provider-cost', `Cost reported by providers: ${period}`, 'wide');
  const reconciliation = reconciliationPanel(s);
  const budgets = new Panel('budgets', 'Budgets (current periods)', 'half');
  const alerts = new Panel('alerts', 'Latest alerts', 'half');
  const pricing = new Panel('pricing', 'Pricing', 'wide');
  // The exports carry exactly the panel's filters and period.
  const spendQuery = qs(range, filters, { granularity: s.granularity, group_by: s.groupBy });
  const failedDownload = (error: unknown) => spend.error(error, () => location.reload());
  spend.setTools(
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        id: 'spend-csv',
        onclick: () =>
          void download(`/v1/reports/export.csv?${spendQuery}`, 'tokentally-spend.csv').catch(failedDownload),
      },
      'CSV',
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        id: 'spend-png',
        onclick: () =>
          void download(`/v1/charts/spend.png?${spendQuery}&width=1200&height=500`, 'tokentally-spend.png').catch(
            failedDownload,
          ),
      },
      'PNG',
    ),
  );
  root.replaceChildren(
    h('p', { class: 'currency-note muted' }, 'All amounts in USD. Hover a figure for its exact value.'),
    warnings,
    kpis,
    h(
      'div',
      { class: 'grid' },
      spend.root,
      tops.map((t) => t.panel.root),
      tokens.root,
      providers.root,
      providerCost.root,
      reconciliation.panel.root,
      performance.root,
      budgets.root,
      alerts.root,
      pricing.root,
    ),
  );

  const run = <T>(panel: Panel, load: () => Promise<T>, render: (data: T) => void) =>
    panel.run(ctx.isCurrent, load, render, ctx.onAuthError);

  // A refused control (a bad date, zone, filter) is marked where it is, from the headline requests
  // (every panel shares their parameters); each panel also shows its own message.
  const guard = <T>(p: Promise<T>) =>
    p.catch((e) => {
      if (e instanceof ApiError && e.status === 400) ctx.onControlErrors(e);
      throw e;
    });
  const summaryP = guard(api.get<Summary>(`/v1/reports/summary?${qs({ tz: s.tz, period: 'month' }, filters)}`));
  const spendP = guard(report<SpendReport>('spend', { granularity: s.granularity, group_by: s.groupBy }));

  const kpiDone = Promise.allSettled([summaryP, spendP]).then(([summary, range]) => {
    if (!ctx.isCurrent()) return;
    drawKpis(kpis, summary, range, period);
  });
  const panels = [
    kpiDone,
    run(
      spend,
      () => spendP,
      (r) => drawSpend(spend, r, ctx),
    ),
    ...tops.map(({ dimension, panel }) => {
      const unanswerable = userSplitConflict(dimension, s);
      if (unanswerable) return Promise.resolve(panel.empty(unanswerable));
      return run(
        panel,
        () => report<SpendReport>('spend', { granularity: 'month', group_by: dimension, limit: '5' }),
        (r) => drawTop(panel, dimension, r, ctx),
      );
    }),
    run(
      tokens,
      () => report<TokensReport>('tokens', { granularity: s.granularity }),
      (r) => drawTokens(tokens, r, ctx),
    ),
    run(
      providers,
      () => report<ProvidersReport>('compare-providers'),
      (r) => drawProviders(providers, r),
    ),
    run(
      providerCost,
      () => report<ProviderCostReport>('provider-cost'),
      (r) => drawProviderCost(providerCost, r),
    ),
    run(reconciliation.panel, reconciliation.load, reconciliation.draw),
    run(
      performance,
      () => report<PerformanceReport>('performance'),
      (r) => drawPerformance(performance, r, ctx),
    ),
    run(
      budgets,
      () => api.get<List<Budget>>('/v1/budgets?with_status=1'),
      (r) => drawBudgets(budgets, r),
    ),
    run(
      alerts,
      () => api.get<OlderPages<Alert>>('/v1/alerts?limit=8'),
      (r) => drawAlerts(alerts, r),
    ),
    run(
      pricing,
      // Coverage takes instants: the period's, as the spend report resolved them in the zone.
      () =>
        Promise.all([
          api.get<Pricing>('/v1/pricing'),
          spendP
            .then((r) => api.get<Coverage>(`/v1/pricing/coverage?${qs({ from: r.from, to: r.to })}`))
            .catch(() => null),
        ]),
      ([prices, coverage]) => drawPricing(pricing, warnings, prices, coverage),
    ),
  ];
  await Promise.all(panels);
}

/**
 * Spend per user is kept with provider, model and project only (docs/reports.md):
 * a ranking that would need both is explained, not sent to fail.
 */
function userSplitConflict(dimension: string, s: State): string | null {
  const others = (['team', 'feature', 'environment'] as const).filter((d) => s.filters.dims[d]?.length);
  if (dimension === 'user' && (others.length || s.filters.tag)) {
    return `Users are ranked by provider, model and project only; this view also filters by ${[...others, ...(s.filters.tag ? [`tag ${s.filters.tag.key}`] : [])].join(' and ')}.`;
  }
  if (dimension !== 'user' && dimension !== 'project' && s.filters.dims.user?.length) {
    return `A user's spend is kept by provider, model and project only: no ${dimension} ranking with a user filter.`;
  }
  return null;
}

export function groupName(groupBy: string): string {
  return groupBy.startsWith('tag:') ? `tag ${groupBy.slice(4)}` : groupBy;
}

/** A money figure: the one display rule, the exact value in its title. */
export function usd(exact: string | null | undefined): Child {
  if (exact === null || exact === undefined) return '—';
  return h('span', { class: 'money', title: `${exact} USD` }, money(exact));
}

const isZero = (exact: string | null | undefined) =>
  exact === null || exact === undefined || /^-?0(\.0*)?$/.test(exact);

/**
 * A figure that may stand for calls without a price: when every call behind
 * it is unpriced it reads "unpriced", never $0.00 (their cost is unknown, not
 * nothing); when some are, their count follows the amount.
 */
export function usdOf(exact: string | null | undefined, unpricedEvents = 0, events?: number): Child {
  if (unpricedEvents > 0 && isZero(exact) && (events === undefined || unpricedEvents >= events)) {
    return h(
      'span',
      { class: 'unpriced', title: `${counted(unpricedEvents, 'call')} with no price: their cost is unknown, not $0` },
      'unpriced',
    );
  }
  if (unpricedEvents > 0)
    return [
      usd(exact),
      h(
        'span',
        { class: 'muted unpriced-note', title: 'calls with no price are not in this amount' },
        ` +${unpricedEvents} unpriced`,
      ),
    ];
  return usd(exact);
}

function kpi(id: string, label: string, value: Child, sub: Child, state = 'ready'): HTMLElement {
  return h(
    'div',
    { class: 'kpi', id, 'data-state': state },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    h('div', { class: 'sub' }, sub),
  );
}

function drawKpis(
  root: HTMLElement,
  summary: PromiseSettledResult<Summary>,
  range: PromiseSettledResult<SpendReport>,
  period: string,
) {
  const failed = (r: PromiseRejectedResult) =>
    h('span', { class: 'bad' }, r.reason instanceof Error ? r.reason.message : String(r.reason));
  const cards: HTMLElement[] = [];
  if (summary.status === 'fulfilled') {
    const m = summary.value;
    const change =
      m.change_pct === null
        ? 'no spend at this point last month'
        : `${Number(m.change_pct) >= 0 ? '▲' : '▼'} ${Math.abs(Number(m.change_pct))}% vs the same point last month`;
    const monthName = (iso: string) =>
      new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric', timeZone: m.tz ?? 'UTC' }).format(
        new Date(Date.parse(iso) + 43_200_000),
      );
    cards.push(
      kpi(
        'kpi-mtd',
        'Month to date',
        usd(m.spent),
        h(
          'span',
          { class: m.change_pct === null ? '' : Number(m.change_pct) > 0 ? 'up' : 'down' },
          `${counted(m.events, 'call')} · ${change}`,
        ),
      ),
      kpi(
        'kpi-forecast',
        'Forecast, month end',
        usd(m.forecast),
        m.forecast_explanation ??
          (m.forecast_method === 'weekly_rhythm'
            ? 'by the weekly rhythm of the last 28 days'
            : 'linear, from the spend so far'),
      ),
      kpi(
        'kpi-previous',
        'Last month',
        usd(m.previous_period.spent),
        `${monthName(m.previous_period.start)}, the whole month`,
      ),
    );
  } else {
    cards.push(kpi('kpi-mtd', 'Month to date', '—', failed(summary), 'error'));
  }
  if (range.status === 'fulfilled') {
    const r = range.value;
    const parts: Child[] = [counted(r.events, 'call')];
    if (r.partial_events)
      parts.push(
        ', ',
        h(
          'span',
          { title: 'counted at the cost of the token kinds that have a rate' },
          `${count(r.partial_events)} partly priced (`,
          usd(r.partial_cost_usd),
          ')',
        ),
      );
    parts.push(`, ${count(r.unpriced_events)} unpriced`);
    cards.push(
      kpi(
        'kpi-range',
        period,
        r.events > 0 && r.unpriced_events === r.events ? usdOf(r.total, r.unpriced_events, r.events) : usd(r.total),
        parts,
      ),
    );
  } else {
    cards.push(kpi('kpi-range', period, '—', failed(range), 'error'));
  }
  root.replaceChildren(...cards);
}

function drawSpend(panel: Panel, r: SpendReport, ctx: OverviewContext) {
  if (r.events === 0) {
    return panel.show(
      h(
        'div',
        { class: 'empty-state', id: 'empty' },
        h('h3', null, 'No usage in this period yet'),
        h(
          'p',
          null,
          'Send your first event with an ingest key (an admin creates one under Admin → Keys), or wrap your openai client with @tokentally/openai:',
        ),
        h(
          'pre',
          { id: 'empty-snippet' },
          `curl -H 'Authorization: Bearer <ingest key>' -H 'content-type: application/json' ${location.origin}/v1/events -d '{"event_id":"first","timestamp":"${new Date().toISOString().slice(0, 19)}Z","provider":"openai","model":"gpt-image-2","usage":{"input_text_tokens":120,"output_image_tokens":4160}}'`,
        ),
      ),
    );
  }
  const canvas = h('canvas', {
    id: 'spend-chart',
    role: 'img',
    'aria-label': `Spend by ${groupName(r.group_by)}, ${r.buckets.length} bars; the table below holds the same figures`,
  });
  const config = spendChart(r, { title: '' });
  const open = (key: string | undefined, index: number) => {
    const group = groupFilter(ctx.state, r.group_by, key);
    ctx.drill({ ...group, at: { ...group.at, granularity: r.granularity, bucket: r.buckets[index] } });
  };
  panel.show(
    h('div', { class: 'chart tall' }, canvas),
    h('p', { class: 'hint muted' }, 'Click a bar to open the events behind it.'),
    spendTable(r, config.data.labels, open),
  );
  const options: ChartOptions<'bar'> = config.options;
  options.onClick = (_event, elements, chart) => {
    const hit = elements[0];
    if (hit) open((chart.data.datasets[hit.datasetIndex] as MoneyDataset).key, hit.index);
  };
  // A click on a bar picks that bar's group, not every group of the bucket.
  options.interaction = { mode: 'nearest', intersect: true };
  const tooltip: NonNullable<NonNullable<ChartOptions<'bar'>['plugins']>['tooltip']> = config.options.plugins.tooltip;
  tooltip.mode = 'index';
  tooltip.intersect = false;
  drawChart(canvas, config);
}

/**
 * The chart's figures as a table, for the keyboard and screen readers (a
 * canvas is one image to them): each amount is a button that opens its events,
 * as a click on its bar does.
 */
function spendTable(r: SpendReport, labels: string[], open: (key: string, index: number) => void): HTMLElement {
  const series = r.series;
  return h(
    'details',
    { class: 'as-table', id: 'spend-table' },
    h('summary', null, 'Show the figures as a table'),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'data' },
        h('caption', { class: 'sr-only' }, `Spend by ${groupName(r.group_by)} and ${r.granularity}`),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, r.granularity),
            series.map((x) => h('th', { scope: 'col', class: 'num' }, x.label)),
          ),
        ),
        h(
          'tbody',
          null,
          labels.map((label, i) =>
            h(
              'tr',
              null,
              h('th', { scope: 'row' }, label),
              series.map((x) =>
                h(
                  'td',
                  { class: 'num' },
                  x.key === '(other)'
                    ? usd(x.values[i])
                    : h(
                        'button',
                        {
                          type: 'button',
                          class: 'link cell',
                          title: `${x.values[i]} USD: open the events`,
                          onclick: () => open(x.key, i),
                        },
                        money(x.values[i]),
                      ),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * The filters that select one group of a report: its value, or for "(none)"
 * the calls without one. "(other)" (every group below the top) selects no
 * group: the drill then shows every group.
 */
export function groupFilter(s: State, groupBy: string, key: string | undefined): Partial<State> & { at?: Drill } {
  if (!key || key === '(other)' || groupBy === 'none') return {};
  if (key === '(none)' && (DIMENSIONS as readonly string[]).includes(groupBy))
    return { at: { none: [groupBy as Dimension] } };
  if (groupBy.startsWith('tag:')) return { filters: { ...s.filters, tag: { key: groupBy.slice(4), value: key } } };
  const dims = { ...s.filters.dims, [groupBy]: [key] };
  return { filters: { ...s.filters, dims } };
}

function drawTop(panel: Panel, dimension: string, r: SpendReport, ctx: OverviewContext) {
  // "(other)" sums everything below the top five: not a rank of its own.
  const rows = r.series.filter((s) => s.key !== '(other)' && (Number(s.total) > 0 || s.unpriced_events > 0));
  if (!rows.length) return panel.empty('No spend in this period.');
  const max = Math.max(...rows.map((s) => Number(s.total)));
  panel.show(
    table(
      [
        {
          label: dimension,
          cell: (s) => [h('span', { class: 'name' }, s.label), bar(max ? Number(s.total) / max : 0)],
        },
        { label: 'Cost', numeric: true, cell: (s) => usdOf(s.total, s.unpriced_events) },
      ],
      rows,
      {
        empty: '',
        onRow: (s) => {
          const group = groupFilter(ctx.state, dimension, s.key);
          ctx.drill({ ...group, at: { ...group.at, granularity: r.granularity } });
        },
        caption: panel.root.querySelector('h2')?.textContent ?? '',
        stack: false,
      },
    ),
  );
}

function bar(share: number): HTMLElement {
  const inner = h('span');
  inner.style.width = `${Math.max(2, share * 100)}%`;
  return h('div', { class: 'bar', 'aria-hidden': 'true' }, inner);
}

function drawTokens(panel: Panel, r: TokensReport, ctx: OverviewContext) {
  if (!r.breakdown.length) return panel.empty('No tokens in this period.');
  const canvas = h('canvas', { id: 'tokens-chart', role: 'img', 'aria-label': 'Tokens by kind over time' });
  const images = r.breakdown.filter((b) => b.images > 0);
  panel.show(
    h('div', { class: 'chart' }, canvas),
    h('h3', null, 'Cost per image'),
    h(
      'div',
      { class: 'scroll', id: 'per-image' },
      table(
        [
          { label: 'Model', cell: (b) => b.model },
          { label: 'Provider', cell: (b) => b.provider },
          { label: 'Size', cell: (b) => b.image_size ?? '—' },
          { label: 'Quality', cell: (b) => b.image_quality ?? '—' },
          { label: 'Images', numeric: true, cell: (b) => count(b.images) },
          { label: 'Out tokens / image', numeric: true, cell: (b) => count(b.output_image_tokens_per_image ?? 0) },
          {
            label: 'Cost / image',
            numeric: true,
            cell: (b) => usdOf(b.cost_per_image_usd, b.unpriced_events, b.events),
          },
        ],
        images,
        {
          empty: 'No images in this period.',
          onRow: (b) =>
            ctx.drill({
              filters: {
                ...ctx.state.filters,
                dims: { ...ctx.state.filters.dims, model: [b.model], provider: [b.provider] },
              },
              at: { edges: 'hour' },
              imageSize: b.image_size ?? '',
              imageQuality: b.image_quality ?? '',
            }),
        },
      ),
    ),
  );
  drawChart(canvas, tokensChart(r, { title: '' }));
}

function drawProviders(panel: Panel, r: ProvidersReport) {
  if (!r.models.length) return panel.empty('No usage to compare in this period.');
  const canvas = h('canvas', {
    id: 'providers-chart',
    role: 'img',
    'aria-label': 'Actual cost and the same usage at each provider',
  });
  panel.show(
    h('div', { class: 'chart short' }, canvas),
    h(
      'div',
      { class: 'scroll', id: 'providers-table' },
      table(
        [
          { label: 'Model', cell: (m) => m.model },
          { label: 'Actual', numeric: true, cell: (m) => usd(m.actual_total_usd) },
          {
            label: 'Same usage at',
            cell: (m) => [
              m.at_each_provider.map((p, i) => [i ? ' · ' : '', `${p.provider} `, usd(p.cost_usd)]),
              // The providers left out, and why (a total that leaves usage out would not compare).
              m.not_compared?.length
                ? h(
                    'div',
                    { class: 'muted not-compared' },
                    `Not compared: ${m.not_compared.map((p) => p.reason).join('; ')}.`,
                  )
                : null,
            ],
          },
          {
            label: 'Saving',
            cell: (m) =>
              m.actual_complete === false
                ? h('span', { title: m.note ?? '' }, 'not comparable: some calls are not priced')
                : m.cheapest && Number(m.cheapest.saving_usd) > 0
                  ? ['save ', usd(m.cheapest.saving_usd), ` on ${m.cheapest.provider}`]
                  : 'already the cheapest',
          },
        ],
        r.models,
        { empty: 'No usage to compare.' },
      ),
    ),
  );
  drawChart(canvas, providersChart(r, { title: '' }));
}

/** What providers that report a call's cost (OpenRouter) billed, beside our cost of the same calls. */
function drawProviderCost(panel: Panel, r: ProviderCostReport) {
  if (!r.rows.length)
    return panel.empty('No provider reported its own cost in this period (OpenRouter does, with usage accounting on).');
  const difference = (x: ProviderCostReport['total']) =>
    x.events === 0
      ? '—'
      : [
          usd(x.difference_usd),
          x.difference_pct === null ? '' : ` (${Number(x.difference_pct) > 0 ? '+' : ''}${x.difference_pct} %)`,
        ];
  panel.show(
    h(
      'div',
      { class: 'scroll', id: 'provider-cost-table' },
      table(
        [
          { label: 'Provider', cell: (x) => x.provider },
          { label: 'Model', cell: (x) => x.model },
          { label: 'Calls compared', numeric: true, cell: (x) => count(x.events) },
          { label: 'Our cost', numeric: true, cell: (x) => usd(x.tracked_cost_usd) },
          { label: 'Their cost', numeric: true, cell: (x) => usd(x.provider_cost_usd) },
          { label: 'Difference', numeric: true, cell: difference },
          {
            label: 'Not compared',
            cell: (x) =>
              x.not_compared.events === 0
                ? ''
                : h(
                    'span',
                    { title: 'Calls we priced only in part or not at all: their reported cost is not compared.' },
                    `${counted(x.not_compared.events, 'call')}, `,
                    usd(x.not_compared.provider_cost_usd),
                  ),
          },
        ],
        [...r.rows, { provider: 'All', model: '', ...r.total }],
        { empty: '' },
      ),
    ),
  );
}

function drawPerformance(panel: Panel, r: PerformanceReport, ctx: OverviewContext) {
  const rows = r.rows;
  if (!rows.length) return panel.empty('No calls in this period.');
  panel.show(
    h(
      'div',
      { class: 'scroll' },
      table(
        [
          { label: 'Provider', cell: (x) => x.provider },
          { label: 'Model', cell: (x) => x.model },
          { label: 'Calls', numeric: true, cell: (x) => count(x.events) },
          { label: 'Errors', numeric: true, cell: (x) => count(x.error_events) },
          { label: 'Error rate', numeric: true, cell: (x) => percent(Number(x.error_rate)) },
          {
            label: 'Mean latency',
            numeric: true,
            cell: (x) =>
              x.mean_latency_ms === null || x.mean_latency_ms === undefined ? '—' : `${count(x.mean_latency_ms)} ms`,
          },
        ],
        rows,
        {
          empty: '',
          onRow: (x) =>
            ctx.drill({
              filters: {
                ...ctx.state.filters,
                dims: { ...ctx.state.filters.dims, provider: [x.provider], model: [x.model] },
              },
              at: { edges: 'hour' },
            }),
        },
      ),
    ),
  );
}

function drawBudgets(panel: Panel, list: List<Budget>) {
  if (!list?.data?.length)
    return panel.empty(
      'No budgets yet. An admin creates one under Admin → Budgets; it appears here with its thresholds.',
    );
  panel.show(
    list.data.map((b) => {
      const st: Partial<BudgetStatus> = b.status ?? {};
      const pct = Number(st.percent ?? 0);
      const fill = h('span', { class: pct >= 100 ? 'over' : pct >= 80 ? 'near' : 'ok' });
      fill.style.width = `${Math.min(100, pct)}%`;
      const ticks = (b.thresholds_pct ?? []).map((t: number) => {
        const tick = h('i', { class: 'tick', title: `${t}% threshold` });
        tick.style.left = `${Math.min(100, t)}%`;
        return tick;
      });
      return h(
        'div',
        { class: 'budget' },
        h(
          'div',
          { class: 'meta' },
          h('strong', null, b.name),
          h('span', null, usd(st.spent_usd ?? '0'), ' of ', usd(b.amount_usd)),
        ),
        h(
          'div',
          {
            class: 'meter',
            role: 'meter',
            'aria-valuenow': pct,
            'aria-valuemin': 0,
            'aria-valuemax': 100,
            'aria-label': `${b.name}: ${pct.toFixed(0)}% spent`,
          },
          fill,
          ticks,
        ),
        h(
          'div',
          { class: 'meta' },
          h(
            'span',
            null,
            `${pct.toFixed(0)}% · ${b.period}`,
            (b.thresholds_pct ?? []).length ? ` · alerts at ${b.thresholds_pct.join(', ')}%` : '',
          ),
          h('span', null, 'forecast ', usd(st.forecast_usd ?? '0')),
        ),
      );
    }),
  );
}

const ALERT_KINDS = ALERT_EVENT_LABELS;

function drawAlerts(panel: Panel, list: OlderPages<Alert>) {
  if (!list?.data?.length)
    return panel.empty('No alerts. Budget thresholds, forecasts and anomalies are listed here when they fire.');
  panel.show(
    h(
      'ul',
      { class: 'alerts' },
      list.data.slice(0, 8).map((a) => {
        const d: Partial<Alert['deliveries']> = a.deliveries ?? {};
        // A delivery that failed and is being retried is not "sending": it is failing until it gets through.
        const sent = d.failed
          ? h('span', { class: 'bad' }, `${d.failed} failed`)
          : d.retrying
            ? h('span', { class: 'bad' }, `delivery failing, ${d.retrying} being retried`)
            : d.pending
              ? h('span', { class: 'warn' }, 'sending…')
              : d.delivered
                ? 'sent'
                : 'no webhook';
        return h(
          'li',
          null,
          h('strong', null, ALERT_KINDS[a.type] ?? a.type),
          h('span', { class: 'alert-text' }, a.summary ?? ''),
          h('span', { class: 'muted alert-when' }, sent, ' · ', ago(a.created_at)),
        );
      }),
    ),
  );
}

/** The output image rate first: it is most of an image call's cost. */
const UNIT_ORDER = [
  'output_image',
  'input_image',
  'cached_input_image',
  'input_text',
  'cached_input_text',
  'output_text',
];

function drawPricing(panel: Panel, warnings: HTMLElement, prices: Pricing, coverage: Coverage | null) {
  const sources: PriceSource[] = prices.sources ?? [];
  const configured = sources.filter((x) => x.url_configured);
  const freshness: Child =
    prices.catalog_only || (sources.length && !configured.length)
      ? 'Built-in catalog only: no price source is configured.'
      : prices.last_remote_refresh
        ? `Prices last pulled from ${configured.map((x) => x.name).join(', ') || 'the configured sources'} ${ago(prices.last_remote_refresh.finished_at)}.`
        : prices.last_refresh
          ? `Last refresh ${ago(prices.last_refresh.finished_at)} (${prices.last_refresh.status}).`
          : 'Not refreshed from a source yet.';
  const next = prices.next_refresh ? ` Next refresh ${new Date(prices.next_refresh).toLocaleString()}.` : '';
  const share = coverage?.events?.total
    ? ` Fully priced: ${percent(Number(coverage.events.priced_share))} of calls${coverage.events.partial ? `, partly priced: ${percent(coverage.events.partial / coverage.events.total)}` : ''}.`
    : '';
  const rates = (v: PriceVersion) => {
    const units = Object.keys(v.prices ?? {}).sort(
      (a, b) => ((UNIT_ORDER.indexOf(a) + 99) % 99) - ((UNIT_ORDER.indexOf(b) + 99) % 99),
    );
    const items: Child[] = units.map((u) => h('li', null, `${words(u)} `, h('strong', null, `$${v.prices[u]}`)));
    for (const [key, price] of Object.entries(v.image_prices ?? {}))
      items.push(h('li', null, `image ${key} `, h('strong', null, `$${price}`)));
    return h('ul', { class: 'rates' }, items);
  };
  panel.show(
    h('p', { id: 'pricing-freshness' }, freshness, next, share, ' Rates per 1M tokens unless marked.'),
    h(
      'div',
      { class: 'scroll' },
      table(
        [
          { label: 'Provider', cell: (v) => v.provider },
          { label: 'Model', cell: (v) => [v.model, v.kind !== 'list' ? h('em', null, ` (${v.kind})`) : null] },
          { label: 'Rates', cell: rates },
          { label: 'Source', cell: (v) => (v.source_ref ? h('span', { title: v.source_ref }, v.source) : v.source) },
          { label: 'Since', cell: (v) => String(v.effective_from).slice(0, 10) },
        ],
        prices.data,
        { empty: 'No prices.' },
      ),
    ),
  );
  const banners: Child[] = [];
  if (coverage?.unpriced_models?.length) {
    banners.push(
      h(
        'div',
        { class: 'banner warn', id: 'unpriced-warning', role: 'status' },
        h('strong', null, 'Unpriced models in this period (every project, before filters): '),
        coverage.unpriced_models.map((m) => `${m.provider}/${m.model} (${counted(m.events, 'call')})`).join(', '),
        '. They are stored and priced when a price arrives; an admin can add one under Admin → Pricing.',
      ),
    );
  }
  if (coverage?.partial_models?.length) {
    banners.push(
      h(
        'div',
        { class: 'banner warn', id: 'partial-warning', role: 'status' },
        h('strong', null, 'Partly priced in this period (every project, before filters): '),
        coverage.partial_models.map((m, i) => [
          i ? ', ' : '',
          `${m.provider}/${m.model} (${counted(m.events, 'call')}, `,
          usd(m.cost_usd),
          ` counted; no rate for ${words(m.unpriced_kinds.join(', '))})`,
        ]),
        '. Their priced kinds are in every total; they are re-priced when the missing rate arrives.',
      ),
    );
  }
  warnings.replaceChildren(...(banners as Node[]));
}
