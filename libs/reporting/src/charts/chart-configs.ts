/**
 * The Chart.js configurations of every TokenTally chart, built from report
 * answers. One module draws the dashboard in the browser (bundled into its
 * script by esbuild) and the PNG charts on the server (so a chart in an alert
 * looks like the one on the page). Numbers here are for drawing only; the
 * figures people read (tooltips) are the report's exact strings, shown with
 * libs/core's one money rule.
 */
import type { ChartConfiguration, ChartDataset, TooltipItem } from 'chart.js';
import { displayUsd, displayUsdCompact } from '@tokentally/core';
import { counted } from '../words';

/** The bucketed reports (spend, tokens) as the charts read them: their buckets, range and zone. */
export interface BucketedReport {
  buckets: string[];
  granularity: string;
  tz: string;
  /** The range; a report without it labels each bucket by its own start and marks nothing partial. */
  from?: string;
  to?: string;
}

/** What the spend chart reads of the spend report (GET /v1/reports/spend). */
export interface SpendChartReport extends BucketedReport {
  group_by: string;
  series: Array<{ key: string; label: string; values: string[]; total: string; unpriced_events?: number }>;
}

/** What the tokens chart reads of the tokens report (GET /v1/reports/tokens). */
export interface TokensChartReport extends BucketedReport {
  series: Array<{ kind: string; values: number[] }>;
}

/** What the providers chart reads of the comparison (GET /v1/reports/compare-providers). */
export interface ProvidersChartReport {
  models: ProvidersChartModel[];
}

/** One model of the comparison, as the providers chart reads it. */
export interface ProvidersChartModel {
  model: string;
  actual_total_usd: string;
  /** False when some calls are unpriced or partly priced: the actual leaves their unpriced part out. */
  actual_complete?: boolean;
  actual?: Array<{ unpriced_events: number; partial_events: number }>;
  at_each_provider: Array<{ provider: string; cost_usd: string }>;
  /** Providers left out of at_each_provider (they cannot price all of the usage), and why. */
  not_compared?: Array<{ provider: string; reason: string }>;
}

/** One bar of the budgets chart: a budget's name and its status's percentages (decimal strings). */
export interface BudgetBar {
  name: string;
  percent: string;
  forecast_percent?: string | null;
}

/**
 * A bar dataset that keeps what the numbers drawn cannot: the report's exact
 * figure of each bar (for tooltips) and, for spend, the series' key (a click
 * opens its events).
 */
export type MoneyDataset = ChartDataset<'bar', number[]> & { exact?: Array<string | null>; key?: string };

const PALETTE = [
  '#2563eb',
  '#f59e0b',
  '#10b981',
  '#ef4444',
  '#8b5cf6',
  '#06b6d4',
  '#f97316',
  '#84cc16',
  '#ec4899',
  '#64748b',
  '#0ea5e9',
  '#a855f7',
  '#94a3b8',
];
const OTHER_COLOR = '#cbd5e1';
const TOKEN_COLORS: Record<string, string> = {
  input_text: '#93c5fd',
  cached_input_text: '#dbeafe',
  input_image: '#2563eb',
  cached_input_image: '#bfdbfe',
  output_image: '#f59e0b',
  output_text: '#fcd34d',
};
const TOKEN_LABELS: Record<string, string> = {
  input_text: 'Text in',
  cached_input_text: 'Cached text in',
  input_image: 'Image in',
  cached_input_image: 'Cached image in',
  output_image: 'Image out',
  output_text: 'Text out',
};

/** Axis ticks: drawing only, from numbers (never a figure someone copies). */
const axisMoney = (value: number): string => displayUsdCompact(value);

function compact(value: number): string {
  return value.toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 1 });
}

const DAY_MS = 86_400_000;

function format(instant: Date, tz: string, options: Intl.DateTimeFormatOptions): string {
  return new Intl.DateTimeFormat('en-US', { ...options, timeZone: tz }).format(instant);
}

/** The local date (y, m, d) of an instant in `tz`. */
function localDate(instant: Date, tz: string): [number, number, number] {
  const [y, m, d] = new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  })
    .format(instant)
    .split('-')
    .map(Number);
  return [y, m, d];
}

/**
 * The label of each bucket: a week reads as the days of the range it holds
 * ("Sep 1 – 6"), so a range starting Sep 1 never shows "Aug 31"; a week or
 * month the range cuts is marked "(partial)". Buckets start at `buckets[i]`
 * and end at the next one; the last ends at the range's `to`.
 */
export function bucketLabels(report: BucketedReport): string[] {
  // A report without its range (tokens) labels each bucket by its own start and marks nothing partial.
  const from = new Date(report.from ?? report.buckets[0] ?? 0);
  const to = report.to ? new Date(report.to) : null;
  const tz = report.tz;
  return report.buckets.map((iso, i) => {
    const start = new Date(Math.max(Date.parse(iso), from.getTime()));
    if (report.granularity === 'hour')
      return format(start, tz, { month: 'short', day: 'numeric', hour: '2-digit', hourCycle: 'h23' }) + ':00';
    if (report.granularity === 'day') return format(start, tz, { month: 'short', day: 'numeric' });
    if (report.granularity === 'month') {
      const whole =
        Date.parse(iso) >= from.getTime() && (i < report.buckets.length - 1 || to === null || isMonthEnd(to, tz));
      return format(start, tz, { month: 'short', year: 'numeric' }) + (whole ? '' : ' (partial)');
    }
    // week: from its first day in the range to its last (the day before the next bucket, or before `to`)
    const next =
      i < report.buckets.length - 1 ? new Date(report.buckets[i + 1]) : (to ?? new Date(start.getTime() + 7 * DAY_MS));
    const lastDay = new Date(next.getTime() - 1);
    const [, sm, sd] = localDate(start, tz);
    const [, em, ed] = localDate(lastDay, tz);
    const span =
      sm === em
        ? sd === ed
          ? format(start, tz, { month: 'short', day: 'numeric' })
          : `${format(start, tz, { month: 'short' })} ${sd} – ${ed}`
        : `${format(start, tz, { month: 'short', day: 'numeric' })} – ${format(lastDay, tz, { month: 'short', day: 'numeric' })}`;
    // A whole week spans 7 local days (6 days and 23 to 25 hours across a clock change).
    const whole = next.getTime() - start.getTime() >= 7 * DAY_MS - 2 * 3_600_000;
    return whole ? span : `${span} (partial)`;
  });
}

/** Whether `to` (the end of a range) is a local month's end, i.e. the first instant of a month. */
function isMonthEnd(to: Date, tz: string): boolean {
  const [, , d] = localDate(to, tz);
  return d === 1 && localDate(new Date(to.getTime() - 1), tz)[2] !== 1;
}

/** An axis as base() makes it: the value axis (money, tokens, percent) or the category axis (buckets, names). */
interface Axis {
  stacked: boolean;
  beginAtZero?: boolean;
  suggestedMax?: number;
  grid: { color?: string; display?: boolean };
  ticks: {
    callback?: (value: number | string) => string;
    maxRotation?: number;
    autoSkip?: boolean;
    precision?: number;
  };
}

function base(
  title: string | undefined,
  stacked: boolean,
  yFormat: (v: number) => string,
  horizontal = false,
  tooltipLabel?: (ctx: TooltipItem<'bar'>) => string,
) {
  const valueAxis: Axis = {
    stacked,
    beginAtZero: true,
    ticks: { callback: (v: number | string) => yFormat(Number(v)) },
    grid: { color: '#eef2f7' },
  };
  const categoryAxis: Axis = { stacked, grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true } };
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false as const,
    indexAxis: horizontal ? ('y' as const) : ('x' as const),
    interaction: { mode: 'index' as const, intersect: false },
    layout: { padding: 12 },
    plugins: {
      title: {
        display: !!title,
        text: title ?? '',
        align: 'start' as const,
        font: { size: 15, weight: 'bold' as const },
        color: '#0f172a',
      },
      legend: { position: 'bottom' as const, labels: { boxWidth: 12, color: '#334155' } },
      tooltip: {
        callbacks: {
          label: tooltipLabel ?? ((ctx: TooltipItem<'bar'>) => `${ctx.dataset.label}: ${yFormat(Number(ctx.raw))}`),
        },
      },
    },
    scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
  };
}

/** The exact figure behind a drawn money value (the report's string), shown by the one money rule. */
const exactMoneyLabel = (ctx: TooltipItem<'bar'>) => {
  const exact = (ctx.dataset as MoneyDataset).exact?.[ctx.dataIndex];
  return `${ctx.dataset.label}: ${exact !== undefined && exact !== null ? displayUsd(exact) : axisMoney(Number(ctx.raw))}`;
};

export interface SpendChartOptions {
  title?: string;
  budgetPerBucket?: number;
  /**
   * Whether "(other)" (everything below the top series) starts hidden. It is
   * when it would dwarf the named series (grouping by user among thousands):
   * the named bars stay readable, and the legend shows it with one click.
   */
  hideOther?: boolean;
}

/** Spend over time, stacked by the chosen group; an optional budget line (a daily or period amount). */
export function spendChart(report: SpendChartReport, opts: SpendChartOptions = {}) {
  const labels = bucketLabels(report);
  const named = report.series.filter((s) => s.key !== '(other)');
  const other = report.series.find((s) => s.key === '(other)');
  const namedTotal = named.reduce((sum, s) => sum + Number(s.total), 0);
  const hideOther = opts.hideOther ?? (other ? Number(other.total) > namedTotal : false);
  const datasets: Array<MoneyDataset | ChartDataset<'line', number[]>> = report.series.map((s, i): MoneyDataset => ({
    type: 'bar',
    // A series with calls that have no price says so: its bars leave them out (they are not $0).
    label:
      (s.key === '(other)' ? `(other)${hideOther ? ': hidden, click to show' : ''}` : s.label) +
      ((s.unpriced_events ?? 0) > 0 ? ` (${s.unpriced_events} unpriced)` : ''),
    key: s.key,
    data: s.values.map(Number),
    exact: s.values,
    hidden: s.key === '(other)' && hideOther,
    backgroundColor: s.key === '(other)' ? OTHER_COLOR : PALETTE[i % PALETTE.length],
    borderRadius: 3,
    stack: 'spend',
  }));
  const budget = opts.budgetPerBucket;
  if (budget) {
    datasets.push({
      type: 'line',
      label: 'Budget',
      data: labels.map(() => budget),
      borderColor: '#ef4444',
      borderDash: [6, 4],
      pointRadius: 0,
      fill: false,
    });
  }
  return {
    type: 'bar' as const,
    data: { labels, datasets },
    options: base(
      opts.title ?? `Spend by ${String(report.group_by).replace('tag:', 'tag ')} (${report.tz})`,
      true,
      axisMoney,
      false,
      exactMoneyLabel,
    ),
  } satisfies ChartConfiguration<'bar' | 'line', number[], string>;
}

/** Token mix over time, stacked by token kind. */
export function tokensChart(report: TokensChartReport, opts: { title?: string } = {}) {
  const labels = bucketLabels(report);
  const datasets = report.series
    .filter((s) => s.values.some((v) => v > 0))
    .map((s): ChartDataset<'bar', number[]> => ({
      label: TOKEN_LABELS[s.kind] ?? s.kind,
      data: s.values,
      backgroundColor: TOKEN_COLORS[s.kind] ?? '#94a3b8',
      borderRadius: 2,
    }));
  return {
    type: 'bar' as const,
    data: { labels, datasets },
    options: base(opts.title ?? 'Tokens by kind', true, compact),
  } satisfies ChartConfiguration<'bar', number[], string>;
}

/**
 * A model's label in the providers chart: its name, and what its bars do not
 * show. An actual that leaves calls out says so ("actual incomplete: 1 call
 * not priced"), as does a provider whose bar is missing because it cannot
 * price all of the usage ("not compared at azure").
 */
export function providersChartLabel(m: ProvidersChartModel): string {
  const notes: string[] = [];
  if (m.actual_complete === false) {
    const unpriced = (m.actual ?? []).reduce((n, a) => n + a.unpriced_events, 0);
    const partial = (m.actual ?? []).reduce((n, a) => n + a.partial_events, 0);
    const left = [
      unpriced > 0 ? `${counted(unpriced, 'call')} not priced` : '',
      partial > 0 ? `${counted(partial, 'call')} partly priced` : '',
    ].filter(Boolean);
    notes.push(`actual incomplete: ${left.length ? left.join(', ') : 'some calls not priced'}`);
  }
  if (m.not_compared?.length) notes.push(`not compared at ${m.not_compared.map((p) => p.provider).join(', ')}`);
  return notes.length ? `${m.model} (${notes.join('; ')})` : m.model;
}

/** What each model's usage cost, and would have cost at every provider. */
export function providersChart(report: ProvidersChartReport, opts: { title?: string } = {}) {
  const models = report.models.map(providersChartLabel);
  const providers: string[] = Array.from(
    new Set(report.models.flatMap((m) => m.at_each_provider.map((p) => p.provider))),
  );
  const datasets: MoneyDataset[] = [
    {
      label: 'Actual',
      data: report.models.map((m) => Number(m.actual_total_usd)),
      exact: report.models.map((m) => m.actual_total_usd),
      backgroundColor: '#0f172a',
      borderRadius: 3,
    },
    ...providers.map((provider, i) => {
      const exact = report.models.map((m) => m.at_each_provider.find((p) => p.provider === provider)?.cost_usd ?? null);
      return {
        label: `All on ${provider}`,
        data: exact.map((v) => (v === null ? NaN : Number(v))),
        exact,
        backgroundColor: PALETTE[(i + 1) % PALETTE.length],
        borderRadius: 3,
      };
    }),
  ];
  return {
    type: 'bar' as const,
    data: { labels: models, datasets },
    options: base(
      opts.title ?? 'Actual cost and the same usage at each provider',
      false,
      axisMoney,
      true,
      exactMoneyLabel,
    ),
  } satisfies ChartConfiguration<'bar', number[], string>;
}

/** Budget consumption, one bar per budget (percent of amount; forecast beside it). */
export function budgetsChart(budgets: BudgetBar[], opts: { title?: string } = {}) {
  const labels = budgets.map((b) => b.name);
  const datasets: Array<ChartDataset<'bar', number[]>> = [
    {
      label: 'Spent',
      data: budgets.map((b) => Number(b.percent)),
      backgroundColor: budgets.map((b) =>
        Number(b.percent) >= 100 ? '#ef4444' : Number(b.percent) >= 80 ? '#f59e0b' : '#10b981',
      ),
      borderRadius: 3,
    },
    {
      label: 'Forecast',
      data: budgets.map((b) => Number(b.forecast_percent ?? 0)),
      backgroundColor: '#cbd5e1',
      borderRadius: 3,
    },
  ];
  const options = base(opts.title ?? 'Budgets (% of amount)', false, (v: number) => `${v.toFixed(0)}%`, true);
  // At least 0-100 %, whole-percent ticks: budgets at 0 % once made an axis "0% 0% 0% 1%".
  options.scales.x.suggestedMax = 100;
  options.scales.x.ticks.precision = 0;
  return {
    type: 'bar' as const,
    data: { labels, datasets },
    options,
  } satisfies ChartConfiguration<'bar', number[], string>;
}

export const chartConfigs = {
  spendChart,
  tokensChart,
  providersChart,
  providersChartLabel,
  budgetsChart,
  bucketLabels,
  PALETTE,
};
export type ChartConfigs = typeof chartConfigs;

/** The configurations as one object (the server's renderer holds it). */
export function createChartConfigs(): ChartConfigs {
  return chartConfigs;
}
