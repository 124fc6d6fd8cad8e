/**
 * The "Reconciliation with OpenAI" panel: TokenTally's `openai` spend beside
 * OpenAI's own bill, per UTC day and OpenAI project, from
 * `GET /v1/reconciliation` (libs/reconciliation, docs/reconciliation.md).
 * Mounted by overview.ts; the panel's own types live here.
 */
import { api } from './api';
import { Child, h, table } from './dom';
import { ago, count, money, words } from './format';
import { Panel } from './panel';
import { displayUsdAligned } from '@tokentally/core';
import { addDays, State } from './state';

interface Cause {
  cause: string;
  detail: string;
}

interface ReconciliationRow {
  day: string;
  scope: 'project' | 'organization' | 'unmapped_openai_project' | 'unmapped_tracked_project';
  openai_project_id: string | null;
  project_id: string | null;
  project_name: string | null;
  status: 'match' | 'within_threshold' | 'drift' | 'not_comparable' | 'unmapped';
  billed_usd: string | null;
  tracked_usd: string | null;
  difference_usd: string | null;
  percent: string | null;
  other_currencies: Array<{ currency: string; amount: string }>;
  causes: Cause[];
  settled: boolean;
}

interface Run {
  status: 'running' | 'succeeded' | 'failed';
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

/** GET /v1/reconciliation. */
export interface ReconciliationReport {
  configured: boolean;
  from: string;
  to: string;
  threshold_pct: string;
  limited_to_projects: boolean;
  comparison: 'projects' | 'organization' | null;
  last_run: Run | null;
  days_reconciled: string[];
  rows: ReconciliationRow[];
  totals: { billed_usd: string; tracked_usd: string; difference_usd: string; percent: string | null };
}

/** The most days one report covers (the API's limit). */
const MAX_DAYS = 92;

/** The panel's UTC days: the view's period, ending today at the latest and at most 92 days long. */
export function reconciliationRange(s: State, now = new Date()): { from: string; to: string } {
  const today = now.toISOString().slice(0, 10);
  const to = s.to > today ? today : s.to;
  const earliest = addDays(to, -(MAX_DAYS - 1));
  return { from: s.from < earliest ? earliest : s.from > to ? to : s.from, to };
}

/** The panel, what it loads and how it draws it; overview.ts runs it like every other panel. */
export function reconciliationPanel(s: State): {
  panel: Panel;
  load: () => Promise<ReconciliationReport>;
  draw: (r: ReconciliationReport) => void;
} {
  const range = reconciliationRange(s);
  const panel = new Panel(
    'reconciliation',
    `Reconciliation with OpenAI: ${range.from} – ${range.to} (UTC days)`,
    'wide',
  );
  const projects = s.filters.dims.project;
  return {
    panel,
    load: () =>
      api.get<ReconciliationReport>(`/v1/reconciliation?${new URLSearchParams({ from: range.from, to: range.to })}`),
    draw: (r) => drawReconciliation(panel, r, projects?.length ? projects : null),
  };
}

const usd = (exact: string | null, shown: string | null = exact === null ? null : money(exact)): Child =>
  exact === null ? '—' : h('span', { class: 'money', title: `${exact} USD` }, shown);

/** Billed, tracked and their difference with the same decimals, so that they subtract as read. */
const aligned = (figures: { billed_usd: string | null; tracked_usd: string | null; difference_usd: string | null }) => {
  const [billed, tracked, difference] = displayUsdAligned([
    figures.billed_usd,
    figures.tracked_usd,
    figures.difference_usd,
  ]);
  return {
    billed: usd(figures.billed_usd, billed),
    tracked: usd(figures.tracked_usd, tracked),
    difference: usd(figures.difference_usd, difference),
  };
};

const STATUS: Record<ReconciliationRow['status'], [string, string]> = {
  match: ['matches', 'good'],
  within_threshold: ['within threshold', ''],
  drift: ['drift', 'bad'],
  not_comparable: ['not comparable (currency)', 'warn'],
  unmapped: ['not mapped', 'muted'],
};

function projectCell(r: ReconciliationRow): Child {
  if (r.scope === 'organization') return 'Whole organization';
  if (r.scope === 'unmapped_tracked_project')
    return [r.project_name ?? r.project_id, h('span', { class: 'muted' }, ' (no OpenAI project)')];
  const openai = r.openai_project_id ?? '(no project)';
  return r.project_name ? [r.project_name, h('span', { class: 'muted' }, ` · ${openai}`)] : openai;
}

function drawReconciliation(panel: Panel, r: ReconciliationReport, projects: string[] | null): void {
  if (!r.configured && r.rows.length === 0)
    return panel.empty(
      "Not set up. To compare TokenTally's OpenAI spend with OpenAI's own bill every day, set OPENAI_ADMIN_KEY on the server to an OpenAI organization admin key (sk-admin-…) and restart; see docs/reconciliation.md.",
    );
  const off = r.configured
    ? null
    : h('p', { class: 'warn' }, 'OPENAI_ADMIN_KEY is no longer set: these are the figures of earlier runs.');
  const failed =
    r.last_run?.status === 'failed'
      ? h(
          'p',
          { class: 'bad', role: 'status' },
          `The last run failed ${ago(r.last_run.finished_at)}: ${r.last_run.error}`,
        )
      : null;
  const rows = projects ? r.rows.filter((x) => x.project_id !== null && projects.includes(x.project_id)) : r.rows;
  if (rows.length === 0) {
    const why = !r.last_run
      ? 'No reconciliation has run yet: it runs once a day (RECONCILE_CRON), or an admin runs it with POST /v1/reconciliation/run.'
      : r.days_reconciled.length === 0
        ? 'These days have not been reconciled yet.'
        : projects
          ? 'No OpenAI project mapped to the filtered projects was billed or used on these days.'
          : 'Nothing was billed by OpenAI or tracked on OpenAI on these days.';
    if (!failed) return panel.empty(why);
    return panel.show(failed, h('p', { class: 'muted empty-state' }, why));
  }
  const t = r.totals;
  const totals = aligned(t);
  const summary = h(
    'p',
    { class: 'muted' },
    r.comparison === 'organization'
      ? 'No OpenAI project is mapped: the whole organization is compared with every project. '
      : '',
    'Billed ',
    totals.billed,
    ', tracked ',
    totals.tracked,
    ', difference ',
    totals.difference,
    t.percent === null ? '' : ` (${t.percent}%)`,
    ` over the days and projects compared${projects ? ' (every project: the table shows the filtered ones)' : ''}. Drift is a difference above ${r.threshold_pct}% of the bill.`,
    // After a failed run the figures are those of the earlier successful runs of each day (the banner says so).
    r.last_run && r.last_run.status !== 'failed'
      ? ` Last run ${ago(r.last_run.finished_at ?? r.last_run.started_at)}.`
      : r.last_run
        ? ' The figures are those of the last successful run of each day.'
        : '',
  );
  panel.show(
    off,
    failed,
    summary,
    h(
      'div',
      { class: 'scroll', id: 'reconciliation-table' },
      table<ReconciliationRow>(
        [
          {
            label: 'Day',
            cell: (x) => [
              x.day,
              x.settled
                ? ''
                : h(
                    'span',
                    { class: 'muted', title: "OpenAI's figures for this day may still change" },
                    ' (not settled)',
                  ),
            ],
          },
          { label: 'Project', cell: projectCell },
          {
            label: 'Billed',
            numeric: true,
            cell: (x) => [
              aligned(x).billed,
              x.other_currencies.map((c) => h('span', { class: 'warn' }, ` + ${c.amount} ${c.currency.toUpperCase()}`)),
            ],
          },
          { label: 'Tracked', numeric: true, cell: (x) => aligned(x).tracked },
          {
            label: 'Difference',
            numeric: true,
            cell: (x) =>
              x.difference_usd === null ? '—' : [aligned(x).difference, x.percent === null ? '' : ` (${x.percent}%)`],
          },
          { label: 'Status', cell: (x) => h('span', { class: STATUS[x.status][1] }, STATUS[x.status][0]) },
          {
            label: 'Likely causes',
            cell: (x) =>
              x.causes.length === 0
                ? ''
                : x.causes.map((c, i) => [i > 0 ? ', ' : '', h('span', { title: c.detail }, words(c.cause))]),
          },
        ],
        rows,
        { empty: '', caption: `Reconciliation with OpenAI, ${count(rows.length)} rows` },
      ),
    ),
  );
}
