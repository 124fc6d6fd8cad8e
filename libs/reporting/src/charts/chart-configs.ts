/**
 * The Chart.js configurations of every TokenTally chart, built from report
 * answers. The same code draws the dashboard in the browser and the PNG charts
 * on the server (so a chart in an alert looks like the one on the page): it is
 * one self-contained factory, shipped to the browser as its own source text.
 * Numbers here are for drawing only; the figures people read come as strings.
 */
export function createChartConfigs() {
  const PALETTE = ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4', '#f97316', '#84cc16', '#ec4899', '#64748b', '#0ea5e9', '#a855f7', '#94a3b8'];
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

  function money(value: number): string {
    if (value === 0) return '$0';
    const abs = Math.abs(value);
    const digits = abs >= 100 ? 0 : abs >= 1 ? 2 : abs >= 0.01 ? 3 : 4;
    return '$' + value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function compact(value: number): string {
    return value.toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  }

  function bucketLabel(iso: string, granularity: string, tz: string): string {
    const date = new Date(iso);
    const options: Intl.DateTimeFormatOptions =
      granularity === 'hour'
        ? { month: 'short', day: 'numeric', hour: '2-digit', timeZone: tz }
        : granularity === 'month'
          ? { month: 'short', year: 'numeric', timeZone: tz }
          : { month: 'short', day: 'numeric', timeZone: tz };
    return new Intl.DateTimeFormat('en-US', options).format(date);
  }

  function base(title: string | undefined, stacked: boolean, yFormat: (v: number) => string, horizontal = false) {
    const valueAxis = { stacked, beginAtZero: true, ticks: { callback: (v: number | string) => yFormat(Number(v)) }, grid: { color: '#eef2f7' } };
    const categoryAxis = { stacked, grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true } };
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false as const,
      indexAxis: horizontal ? ('y' as const) : ('x' as const),
      interaction: { mode: 'index' as const, intersect: false },
      layout: { padding: 12 },
      plugins: {
        title: { display: !!title, text: title ?? '', align: 'start' as const, font: { size: 15, weight: 'bold' as const }, color: '#0f172a' },
        legend: { position: 'bottom' as const, labels: { boxWidth: 12, color: '#334155' } },
        tooltip: { callbacks: { label: (ctx: any) => `${ctx.dataset.label}: ${yFormat(Number(ctx.raw))}` } },
      },
      scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
    };
  }

  /** Spend over time, stacked by the chosen group; an optional budget line (a daily or period amount). */
  function spendChart(report: any, opts: { title?: string; budgetPerBucket?: number } = {}) {
    const labels = report.buckets.map((b: string) => bucketLabel(b, report.granularity, report.tz));
    const datasets: any[] = report.series.map((s: any, i: number) => ({
      type: 'bar',
      label: s.label,
      data: s.values.map(Number),
      backgroundColor: s.key === '(other)' ? '#cbd5e1' : PALETTE[i % PALETTE.length],
      borderRadius: 3,
      stack: 'spend',
    }));
    if (opts.budgetPerBucket) {
      datasets.push({ type: 'line', label: 'Budget', data: labels.map(() => opts.budgetPerBucket), borderColor: '#ef4444', borderDash: [6, 4], pointRadius: 0, fill: false });
    }
    return { type: 'bar', data: { labels, datasets }, options: base(opts.title ?? `Spend by ${String(report.group_by).replace('tag:', 'tag ')} (${report.tz})`, true, money) };
  }

  /** Token mix over time, stacked by token kind. */
  function tokensChart(report: any, opts: { title?: string } = {}) {
    const labels = report.buckets.map((b: string) => bucketLabel(b, report.granularity, report.tz));
    const datasets = report.series
      .filter((s: any) => s.values.some((v: number) => v > 0))
      .map((s: any) => ({ label: TOKEN_LABELS[s.kind] ?? s.kind, data: s.values, backgroundColor: TOKEN_COLORS[s.kind] ?? '#94a3b8', borderRadius: 2 }));
    return { type: 'bar', data: { labels, datasets }, options: base(opts.title ?? 'Tokens by kind', true, compact) };
  }

  /** What each model's usage cost, and would have cost at every provider. */
  function providersChart(report: any, opts: { title?: string } = {}) {
    const models = report.models.map((m: any) => m.model);
    const providers: string[] = Array.from(new Set(report.models.flatMap((m: any) => m.at_each_provider.map((p: any) => p.provider)))) as string[];
    const datasets: any[] = [
      { label: 'Actual', data: report.models.map((m: any) => Number(m.actual_total_usd)), backgroundColor: '#0f172a', borderRadius: 3 },
      ...providers.map((provider, i) => ({
        label: `All on ${provider}`,
        data: report.models.map((m: any) => Number(m.at_each_provider.find((p: any) => p.provider === provider)?.cost_usd ?? NaN)),
        backgroundColor: PALETTE[(i + 1) % PALETTE.length],
        borderRadius: 3,
      })),
    ];
    return { type: 'bar', data: { labels: models, datasets }, options: base(opts.title ?? 'Actual cost and the same usage at each provider', false, money, true) };
  }

  /** Budget consumption, one bar per budget (percent of amount; forecast beside it). */
  function budgetsChart(budgets: any[], opts: { title?: string } = {}) {
    const labels = budgets.map((b) => b.name);
    const datasets = [
      { label: 'Spent', data: budgets.map((b) => Number(b.percent)), backgroundColor: budgets.map((b) => (Number(b.percent) >= 100 ? '#ef4444' : Number(b.percent) >= 80 ? '#f59e0b' : '#10b981')), borderRadius: 3 },
      { label: 'Forecast', data: budgets.map((b) => Number(b.forecast_percent ?? 0)), backgroundColor: '#cbd5e1', borderRadius: 3 },
    ];
    return { type: 'bar', data: { labels, datasets }, options: base(opts.title ?? 'Budgets (% of amount)', false, (v: number) => `${v.toFixed(0)}%`, true) };
  }

  return { spendChart, tokensChart, providersChart, budgetsChart, money, compact, bucketLabel, PALETTE };
}

export type ChartConfigs = ReturnType<typeof createChartConfigs>;

/** The factory as a browser script: defines window.TokenTallyCharts. */
export function chartConfigsBrowserScript(): string {
  return `window.TokenTallyCharts = (${createChartConfigs.toString()})();\n`;
}
