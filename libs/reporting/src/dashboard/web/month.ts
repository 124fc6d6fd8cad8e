import { api, ApiError, download } from './api';
import type { MonthClose, MonthGroup, MonthRestatement } from './api-types';
import { h, table } from './dom';
import { count, counted, dateTime, percent } from './format';
import { usd, usdOf } from './overview';
import { Panel } from './panel';
import { filterParams, isCurrentMonth, qs, State } from './state';

export interface MonthContext {
  state: State;
  isCurrent: () => boolean;
  onAuthError: (e: ApiError) => void;
  onControlErrors: (e: ApiError) => void;
  navigate: (patch: Partial<State>) => void;
}

const monthName = (month: string) => {
  const [y, m] = month.split('-').map(Number);
  return new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(Date.UTC(y, m - 1, 1)),
  );
};

/** Month close for finance: a month's totals by project, team, provider and model, what moved, and the CSVs. */
export async function renderMonth(root: HTMLElement, ctx: MonthContext): Promise<void> {
  const s = ctx.state;
  const params = { month: s.month, tz: s.tz, ...filterParams(s.filters) };
  const picker = h('input', {
    type: 'month',
    id: 'month-picker',
    value: s.month,
    'aria-label': 'Month',
    onchange: (e: Event) => {
      const value = (e.target as HTMLInputElement).value;
      if (/^\d{4}-\d{2}$/.test(value)) ctx.navigate({ month: value });
    },
  });
  const lastDay = (() => {
    const [y, m] = s.month.split('-').map(Number);
    return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
  })();
  const buttons = h(
    'div',
    { class: 'tools' },
    h(
      'button',
      {
        type: 'button',
        id: 'month-csv',
        onclick: () =>
          void download(`/v1/reports/month-close.csv?${qs(params)}`, `tokentally-month-close-${s.month}.csv`).catch(
            (e) => totals.error(e),
          ),
      },
      'Download CSV',
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        id: 'month-raw-csv',
        onclick: () =>
          void download(
            `/v1/reports/export.csv?${qs({ from: `${s.month}-01`, to: lastDay, tz: s.tz, raw: '1', ...filterParams(s.filters) })}`,
            `tokentally-events-${s.month}.csv`,
          ).catch((e) => totals.error(e)),
      },
      'Download raw events CSV',
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        id: 'month-chargeback-csv',
        title: 'The UTC month charged to cost centers (docs/finance.md)',
        onclick: () =>
          void download(
            `/v1/reports/chargeback.csv?${qs({ month: s.month, ...(s.filters.dims.project ? { project: s.filters.dims.project.join(',') } : {}) })}`,
            `tokentally-chargeback-${s.month}.csv`,
          ).catch((e) => totals.error(e)),
      },
      'Download chargeback CSV',
    ),
  );
  // The current month is not over: its figures still move, and it is named so.
  const open = isCurrentMonth(s.month, s.tz);
  const totals = new Panel(
    'month-totals',
    `Month close: ${monthName(s.month)}${open ? ' to date (not over yet)' : ''} (${s.tz})`,
    'wide',
  );
  totals.setTools(h('label', { for: 'month-picker', class: 'sr-only' }, 'Month'), picker, buttons);
  const groups = (['project', 'team', 'provider', 'model'] as const).map((g) => ({
    g,
    panel: new Panel(`month-by-${g}`, `By ${g}: ${monthName(s.month)}`, 'half'),
  }));
  const moved = new Panel('month-restatements', `Restatements: ${monthName(s.month)}`, 'half');
  const gaps = new Panel('month-gaps', `Unpriced and partly priced: ${monthName(s.month)}`, 'half');
  root.replaceChildren(
    h(
      'div',
      { class: 'grid' },
      totals.root,
      groups.map((x) => x.panel.root),
      moved.root,
      gaps.root,
    ),
  );
  for (const p of [totals, moved, gaps, ...groups.map((x) => x.panel)]) p.loading();

  let report: MonthClose;
  try {
    report = await api.get<MonthClose>(`/v1/reports/month-close?${qs(params)}`);
  } catch (error) {
    if (!ctx.isCurrent()) return;
    if (error instanceof ApiError && error.unauthorised) return ctx.onAuthError(error);
    if (error instanceof ApiError && error.status === 400) ctx.onControlErrors(error);
    for (const p of [totals, moved, gaps, ...groups.map((x) => x.panel)]) p.error(error, () => ctx.navigate({}));
    return;
  }
  if (!ctx.isCurrent()) return;
  const t = report.totals;
  const prev = report.previous_month;
  const change = report.change;
  totals.show(
    h(
      'div',
      { class: 'totals', id: 'month-sum' },
      h(
        'div',
        null,
        h('span', { class: 'label' }, 'Total'),
        h('strong', { id: 'month-total', 'data-exact': t.cost_usd }, usd(t.cost_usd)),
      ),
      h('div', null, h('span', { class: 'label' }, 'Calls'), h('strong', null, count(t.events))),
      h('div', null, h('span', { class: 'label' }, 'Images'), h('strong', null, count(t.images))),
      h(
        'div',
        { id: 'month-previous' },
        h('span', { class: 'label' }, prev ? `Previous month (${monthName(prev.month)})` : 'Previous month'),
        h('strong', null, prev ? usd(prev.totals.cost_usd) : '—'),
        h(
          'span',
          { class: 'muted' },
          change.pct === null
            ? ' no spend to compare with'
            : [` ${Number(change.pct) >= 0 ? '+' : ''}${change.pct}% (`, usd(change.cost_usd), ')'],
        ),
      ),
      h(
        'div',
        null,
        h('span', { class: 'label' }, 'Unpriced / partly priced calls'),
        h('strong', null, `${count(t.unpriced_events)} / ${count(t.partial_events)}`),
      ),
      h(
        'div',
        { id: 'month-period' },
        h('span', { class: 'label' }, 'Finance period (UTC month)'),
        report.period.status === 'closed'
          ? [
              h('strong', null, 'Closed'),
              h(
                'span',
                { class: 'muted' },
                ` ${dateTime(report.period.closed_at, s.tz)}`,
                report.period.locked_cost_usd === null ? '' : [', locked at ', usd(report.period.locked_cost_usd)],
                report.period.reason ? `: ${report.period.reason}` : '',
              ),
            ]
          : h('strong', null, 'Open'),
      ),
      report.adjustments.events > 0
        ? h(
            'div',
            { id: 'month-adjustments' },
            h('span', { class: 'label' }, 'Late calls of closed months (included)'),
            h('strong', null, usd(report.adjustments.cost_usd)),
            h(
              'span',
              { class: 'muted' },
              ` ${counted(report.adjustments.events, 'call')} of ${report.adjustments.by_month.map((m) => monthName(m.month)).join(', ')}`,
            ),
          )
        : null,
    ),
  );
  for (const { g, panel } of groups) {
    const rows: MonthGroup[] | null = report[`by_${g}` as const];
    if (rows === null) {
      panel.empty(`No split by ${g} with a user filter (spend per user is kept by provider, model and project).`);
      continue;
    }
    if (!rows.length) {
      panel.empty('No spend this month.');
      continue;
    }
    panel.show(
      h(
        'div',
        { class: 'scroll' },
        table(
          [
            // A project by its name; every other group (and a project without one) by its key.
            { label: g, cell: (r) => r.name ?? r.key },
            { label: 'Calls', numeric: true, cell: (r) => count(r.events) },
            { label: 'Images', numeric: true, cell: (r) => count(r.images) },
            {
              label: 'Share',
              numeric: true,
              cell: (r) => (r.share === undefined || r.share === null ? '—' : percent(Number(r.share))),
            },
            { label: 'Cost', numeric: true, cell: (r) => usdOf(r.cost_usd, r.unpriced_events, r.events) },
          ],
          rows,
          { empty: '' },
        ),
      ),
    );
  }
  const restatements: MonthRestatement[] = report.restatements ?? [];
  if (!restatements.length) moved.empty('No call of this month was re-priced.');
  else
    moved.show(
      h(
        'div',
        { class: 'scroll' },
        table(
          [
            { label: 'When', cell: (r) => dateTime(r.created_at, s.tz) },
            { label: 'Why', cell: (r) => String(r.reason).replace(/_/g, ' ') },
            { label: 'Calls changed', numeric: true, cell: (r) => count(r.events_changed) },
            { label: 'Scope', cell: (r) => [r.provider, r.model].filter(Boolean).join('/') || 'every model' },
            { label: 'Before', numeric: true, cell: (r) => usd(r.before_usd) },
            { label: 'After', numeric: true, cell: (r) => usd(r.after_usd) },
            { label: 'Change', numeric: true, cell: (r) => usd(r.delta_usd) },
          ],
          restatements,
          { empty: '' },
        ),
      ),
    );
  const gapsOf = report.not_wholly_priced;
  if (gapsOf.complete) gaps.empty('Every call of this month is fully priced.');
  else
    gaps.show(
      h('p', null, gapsOf.note),
      h(
        'ul',
        { class: 'gaps' },
        gapsOf.models.map((m) =>
          h(
            'li',
            null,
            h('strong', null, `${m.provider}/${m.model}: `),
            m.unpriced_events ? `${counted(m.unpriced_events, 'unpriced call')} (not in the total)` : '',
            m.unpriced_events && m.partial_events ? '; ' : '',
            m.partial_events
              ? [`${counted(m.partial_events, 'partly priced call')}, `, usd(m.partial_cost_usd), ' counted']
              : '',
            m.unpriced_kinds?.length
              ? `; no rate for ${m.unpriced_kinds.join(', ').replace(/_/g, ' ')}`
              : m.note
                ? `; ${m.note}`
                : '',
          ),
        ),
      ),
    );
}
