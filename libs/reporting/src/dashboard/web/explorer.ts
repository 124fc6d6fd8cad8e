import { api, ApiError } from './api';
import type { EventDetail, EventsPage, EventTotals, UsageEvent } from './api-types';
import { Child, fill, h, table } from './dom';
import { count, dateTime, money, words } from './format';
import { usd, usdOf } from './overview';
import { Panel } from './panel';
import { filterParams, periodName, qs, State } from './state';

export interface ExplorerContext {
  state: State;
  isCurrent: () => boolean;
  onAuthError: (e: ApiError) => void;
  onControlErrors: (e: ApiError) => void;
  navigate: (patch: Partial<State>) => void;
  projectNames: () => Map<string, string>;
}

const SORTS: Record<string, string> = {
  '-time': 'Newest first',
  time: 'Oldest first',
  '-cost': 'Most expensive first',
  cost: 'Cheapest first',
};
const TOKEN_COLUMNS = [
  ['input_text_tokens', 'Text in'],
  ['cached_input_text_tokens', 'Cached text in'],
  ['input_image_tokens', 'Image in'],
  ['cached_input_image_tokens', 'Cached image in'],
  ['output_image_tokens', 'Image out'],
  ['output_text_tokens', 'Text out'],
] as const;

/** The query of the events behind the view: the filters, and the drilled bucket or the whole period. */
export function eventsQuery(s: State): Record<string, string> {
  const q: Record<string, string> = { from: s.from, to: s.to, tz: s.tz, ...filterParams(s.filters) };
  if (s.at?.granularity) q.granularity = s.at.granularity;
  if (s.at?.bucket) q.bucket = s.at.bucket;
  if (s.at?.edges) q.edges = s.at.edges;
  // An empty value selects the calls without one (the reports' "(none)").
  for (const d of s.at?.none ?? []) q[d] = '';
  if (s.pricing) q.pricing = s.pricing;
  if (s.imageSize !== null) q.image_size = s.imageSize;
  if (s.imageQuality !== null) q.image_quality = s.imageQuality;
  return q;
}

/** What the page lists, in words: the period or the drilled bar, and a "(none)" or image selection. */
function scopeName(s: State): string {
  const parts = [periodName(s)];
  if (s.at?.bucket) {
    const options: Intl.DateTimeFormatOptions =
      s.at.granularity === 'hour'
        ? { dateStyle: 'medium', timeStyle: 'short' }
        : s.at.granularity === 'month'
          ? { month: 'long', year: 'numeric' }
          : { dateStyle: 'medium' };
    const start = new Date(Math.max(Date.parse(s.at.bucket), 0));
    parts.unshift(
      `${s.at.granularity === 'week' ? 'week of ' : ''}${new Intl.DateTimeFormat('en-US', { ...options, timeZone: s.tz }).format(start)}`,
    );
  }
  for (const d of s.at?.none ?? []) parts.push(`no ${d}`);
  if (s.imageSize !== null || s.imageQuality !== null)
    parts.push(
      `images ${s.imageSize || 'of no size'} ${s.imageQuality || 'of no quality'}`.replace(
        / of no size of no quality$/,
        ' of no size or quality',
      ),
    );
  return parts.join(' · ');
}

/** The events explorer: totals of the selection, a sortable paginated table, and each event's detail. */
export async function renderExplorer(root: HTMLElement, ctx: ExplorerContext): Promise<void> {
  const s = ctx.state;
  const query = eventsQuery(s);
  const totals = new Panel('events-totals', `Events: ${scopeName(s)}`, 'wide');
  const list = new Panel('events-list', 'Calls', 'wide');
  const dialog = h('dialog', { id: 'event-detail', 'aria-labelledby': 'event-detail-title' });
  const sort = h(
    'select',
    {
      id: 'events-sort',
      'aria-label': 'Sort',
      onchange: (e: Event) => ctx.navigate({ sort: (e.target as HTMLSelectElement).value }),
    },
    Object.entries(SORTS).map(([v, label]) => h('option', { value: v, selected: v === s.sort }, label)),
  );
  const pricing = h(
    'select',
    {
      id: 'events-pricing',
      'aria-label': 'Pricing state',
      onchange: (e: Event) => ctx.navigate({ pricing: (e.target as HTMLSelectElement).value }),
    },
    [
      ['', 'Any pricing'],
      ['priced', 'Priced'],
      ['partial', 'Partly priced'],
      ['unpriced', 'Unpriced'],
    ].map(([v, label]) => h('option', { value: v, selected: v === s.pricing }, label)),
  );
  // The CSV holds exactly the calls listed (the drilled bar, a "(none)" group, an image size...),
  // read page by page from the events API; the raw export takes the report filters only.
  const csv = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      id: 'events-csv',
      onclick: () => {
        csv.disabled = true;
        void eventsCsv(query, s.sort)
          .then((text) => saveText(text, 'tokentally-events.csv'))
          .catch((error) => list.error(error))
          .finally(() => (csv.disabled = false));
      },
    },
    'Download CSV',
  );
  list.setTools(sort, pricing, csv);
  const back = h(
    'p',
    { class: 'crumbs' },
    h(
      'a',
      {
        href: '#',
        onclick: (e: Event) => {
          e.preventDefault();
          ctx.navigate({ view: 'overview', at: null, pricing: '', imageSize: null, imageQuality: null });
        },
      },
      '← Overview',
    ),
    s.at || s.imageSize !== null || s.imageQuality !== null
      ? [
          ' · ',
          h(
            'a',
            {
              href: '#',
              onclick: (e: Event) => {
                e.preventDefault();
                ctx.navigate({ at: null, imageSize: null, imageQuality: null });
              },
            },
            'Every call of the period',
          ),
        ]
      : null,
  );
  root.replaceChildren(back, h('div', { class: 'grid' }, totals.root, list.root), dialog);

  const guard = <T>(p: Promise<T>) =>
    p.catch((e) => {
      if (e instanceof ApiError && e.status === 400) ctx.onControlErrors(e);
      throw e;
    });
  await Promise.all([
    totals.run(
      ctx.isCurrent,
      () => guard(api.get<EventTotals>(`/v1/events/totals?${qs(query)}`)),
      (t) => drawTotals(totals, t),
      ctx.onAuthError,
    ),
    loadPage(list, ctx, query, null, dialog, guard),
  ]);
}

function drawTotals(panel: Panel, t: EventTotals) {
  const tokens = t.tokens ?? {};
  panel.show(
    h(
      'div',
      { class: 'totals', id: 'events-sum' },
      h('div', null, h('span', { class: 'label' }, 'Calls'), h('strong', { id: 'events-count' }, count(t.events))),
      h(
        'div',
        null,
        h('span', { class: 'label' }, 'Cost'),
        h(
          'strong',
          { id: 'events-cost', 'data-exact': t.cost_usd },
          t.events > 0 && t.unpriced_events === t.events
            ? usdOf(t.cost_usd, t.unpriced_events, t.events)
            : usd(t.cost_usd),
        ),
      ),
      h('div', null, h('span', { class: 'label' }, 'Images'), h('strong', null, count(t.images))),
      h(
        'div',
        null,
        h('span', { class: 'label' }, 'Unpriced / partly priced'),
        h('strong', null, `${count(t.unpriced_events)} / ${count(t.partial_events)}`),
      ),
      h(
        'div',
        null,
        h('span', { class: 'label' }, 'Tokens'),
        h(
          'span',
          null,
          Object.entries(tokens)
            .filter(([, n]) => Number(n) > 0)
            .map(([k, n]) => `${words(k.replace(/_tokens$/, ''))} ${count(n)}`)
            .join(' · ') || '—',
        ),
      ),
    ),
  );
}

async function loadPage(
  panel: Panel,
  ctx: ExplorerContext,
  query: Record<string, string>,
  cursor: string | null,
  dialog: HTMLDialogElement,
  guard: <T>(p: Promise<T>) => Promise<T>,
  rows: UsageEvent[] = [],
): Promise<void> {
  const s = ctx.state;
  const names = ctx.projectNames();
  await panel.run(
    ctx.isCurrent,
    () =>
      guard(api.get<EventsPage>(`/v1/events?${qs(query, { sort: s.sort, limit: '50', cursor: cursor ?? undefined })}`)),
    (page) => {
      const all = [...rows, ...page.data];
      const more = page.next_cursor
        ? h(
            'button',
            {
              type: 'button',
              id: 'events-more',
              onclick: () => void loadPage(panel, ctx, query, page.next_cursor, dialog, guard, all),
            },
            'Load 50 more',
          )
        : h(
            'p',
            { class: 'muted', id: 'events-end' },
            all.length === 1 ? 'The one call is shown.' : all.length ? `All ${count(all.length)} calls shown.` : '',
          );
      if (!all.length) return panel.empty('No calls match these filters in this period.');
      panel.show(
        h(
          'div',
          { class: 'scroll' },
          table(
            [
              { label: 'Time', cell: (e) => dateTime(e.timestamp, s.tz), title: (e) => e.timestamp },
              { label: 'Project', cell: (e) => names.get(e.project_id) ?? e.project_id.slice(0, 8) },
              { label: 'Provider', cell: (e) => e.provider },
              { label: 'Model', cell: (e) => e.model },
              { label: 'Operation', cell: (e) => e.operation ?? '—' },
              { label: 'Team', cell: (e) => e.dimensions?.team ?? '—' },
              { label: 'User', cell: (e) => e.dimensions?.user ?? '—' },
              { label: 'Feature', cell: (e) => e.dimensions?.feature ?? '—' },
              { label: 'Tokens', cell: (e) => tokenSummary(e.usage) },
              { label: 'Images', numeric: true, cell: (e) => count(e.images ?? 0) },
              { label: 'Size', cell: (e) => e.image_size ?? '—' },
              { label: 'Quality', cell: (e) => e.image_quality ?? '—' },
              { label: 'Status', cell: (e) => h('span', { class: e.status === 'error' ? 'bad' : '' }, e.status) },
              {
                label: 'Latency',
                numeric: true,
                cell: (e) => (e.latency_ms === null || e.latency_ms === undefined ? '—' : `${count(e.latency_ms)} ms`),
              },
              {
                label: 'Cost',
                numeric: true,
                cell: (e) =>
                  e.cost_usd === null
                    ? h('span', { class: 'unpriced', title: e.pricing_note ?? 'no price' }, 'unpriced')
                    : usd(e.cost_usd),
              },
              {
                label: 'Pricing',
                cell: (e) => h('span', { class: `pricing-${e.pricing}`, title: e.pricing_note ?? null }, e.pricing),
              },
            ],
            all,
            { empty: '', onRow: (e) => void openDetail(dialog, e, s.tz, names), caption: 'Calls' },
          ),
        ),
        more,
      );
    },
    ctx.onAuthError,
  );
}

function tokenSummary(usage: Record<string, number> | undefined): string {
  if (!usage) return '—';
  return (
    TOKEN_COLUMNS.filter(([k]) => usage[k] > 0)
      .map(([k, label]) => `${label} ${count(usage[k])}`)
      .join(' · ') || '—'
  );
}

/** An event's detail: its price version, the cost of each token kind, and restatements that moved it. */
async function openDetail(
  dialog: HTMLDialogElement,
  event: UsageEvent,
  tz: string,
  names: Map<string, string>,
): Promise<void> {
  const close = h('button', { type: 'button', class: 'link close', onclick: () => dialog.close() }, 'Close');
  const body = h('div', { class: 'detail-body' }, h('p', { role: 'status' }, 'Loading…'));
  fill(
    dialog,
    h('div', { class: 'detail-head' }, h('h2', { id: 'event-detail-title' }, `Call ${event.event_id}`), close),
    body,
  );
  if (!dialog.open) dialog.showModal();
  try {
    const d = await api.get<EventDetail>(
      `/v1/events/${encodeURIComponent(event.project_id)}/${encodeURIComponent(event.event_id)}`,
    );
    const facts: Array<[string, Child]> = [
      ['Time', `${dateTime(d.timestamp, tz)} (${d.timestamp})`],
      ['Project', names.get(d.project_id) ?? d.project_id],
      ['Provider / model', `${d.provider} / ${d.model}`],
      ['Operation', d.operation ?? '—'],
      ['Status', d.status],
      ['Latency', d.latency_ms === null || d.latency_ms === undefined ? '—' : `${count(d.latency_ms)} ms`],
      [
        'Dimensions',
        Object.entries(d.dimensions ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(', ') || '—',
      ],
      [
        'Tags',
        Object.entries(d.tags ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(', ') || '—',
      ],
      [
        'Cost',
        d.cost_usd === null
          ? h(
              'span',
              { class: 'unpriced' },
              `unpriced: ${d.pricing_note ?? 'no price for this model at the time of the call'}`,
            )
          : [usd(d.cost_usd), ` (exact ${d.cost_usd} USD)`],
      ],
      ['Pricing', [d.pricing, d.pricing_note ? ` — ${d.pricing_note}` : '']],
      [
        'Cost when received',
        d.cost_ingested_usd === undefined
          ? '—'
          : [usd(d.cost_ingested_usd), d.restated ? ' (restated since)' : ' (unchanged)'],
      ],
    ];
    const version = d.price_version;
    // Every unit the call used, with the rate that priced it and its exact share of the cost.
    const units: Array<{ unit: string; quantity: number; rate: string | null; cost: string | null }> = [
      ...(d.cost_by_kind ?? [])
        .filter((k) => k.tokens > 0)
        .map((k) => ({
          unit: words(k.kind),
          quantity: k.tokens,
          rate: k.rate_per_million_usd === null ? null : `$${k.rate_per_million_usd} per 1M`,
          cost: k.cost_usd,
        })),
      ...(d.cost_per_image
        ? [
            {
              unit: `images ${d.cost_per_image.price_key ?? ''}`.trim(),
              quantity: d.cost_per_image.images,
              rate: d.cost_per_image.rate_usd === null ? null : `$${d.cost_per_image.rate_usd} each`,
              cost: d.cost_per_image.cost_usd,
            },
          ]
        : []),
      ...(d.cost_per_request
        ? [
            {
              unit: 'request',
              quantity: d.cost_per_request.requests,
              rate: `$${d.cost_per_request.rate_usd} each`,
              cost: d.cost_per_request.cost_usd,
            },
          ]
        : []),
    ];
    fill(
      body,
      h(
        'dl',
        { class: 'facts' },
        facts.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
      ),
      h('h3', null, 'Cost of each unit'),
      table(
        [
          { label: 'Unit', cell: (r) => r.unit },
          { label: 'Quantity', numeric: true, cell: (r) => count(r.quantity) },
          { label: 'Rate', numeric: true, cell: (r) => r.rate ?? 'no rate' },
          {
            label: 'Cost',
            numeric: true,
            cell: (r) => (r.cost === null ? '—' : money(r.cost)),
            title: (r) => (r.cost === null ? undefined : `${r.cost} USD`),
          },
        ],
        units,
        { empty: 'No billable units.' },
      ),
      d.cost_breakdown?.note ? h('p', { class: 'muted' }, d.cost_breakdown.note) : null,
      h('h3', null, 'Price version used'),
      version
        ? h(
            'p',
            null,
            `${version.provider}/${version.model}, ${version.kind ?? 'list'} price from ${version.source}, in effect from ${String(version.effective_from).slice(0, 10)}`,
            version.id ? h('span', { class: 'muted' }, ` (version ${version.id})`) : null,
          )
        : h('p', { class: 'muted' }, 'None: no price was in effect for this model at the time of the call.'),
      h('h3', null, 'Restatements'),
      d.restatements?.length
        ? table(
            [
              { label: 'When', cell: (r) => dateTime(r.created_at, tz) },
              { label: 'Why', cell: (r) => words(r.reason) },
              {
                label: 'Range',
                cell: (r) => `${r.from ? r.from.slice(0, 10) : '…'} – ${r.to ? r.to.slice(0, 10) : '…'}`,
              },
              { label: 'Calls changed', numeric: true, cell: (r) => count(r.events_changed) },
            ],
            d.restatements,
            { empty: '' },
          )
        : h('p', { class: 'muted' }, 'This call was never re-priced.'),
    );
  } catch (error) {
    fill(body, h('p', { class: 'bad', role: 'alert' }, error instanceof Error ? error.message : String(error)));
  }
}

const CSV_COLUMNS = [
  'timestamp',
  'project_id',
  'event_id',
  'provider',
  'model',
  'operation',
  'team',
  'user',
  'feature',
  'environment',
  ...TOKEN_COLUMNS.map(([k]) => k),
  'images',
  'image_size',
  'image_quality',
  'status',
  'latency_ms',
  'cost_usd',
  'pricing',
];

/** Every call of the selection as CSV (money as exact decimals; a cell a spreadsheet would run as a formula gets a
 * leading '). */
async function eventsCsv(query: Record<string, string>, sort: string): Promise<string> {
  const lines = [CSV_COLUMNS.join(',')];
  let cursor: string | undefined;
  do {
    const page = await api.get<EventsPage>(`/v1/events?${qs(query, { sort, limit: '1000', cursor })}`);
    for (const e of page.data) {
      const row: Record<string, unknown> = { ...e, ...e.dimensions, ...e.usage };
      lines.push(CSV_COLUMNS.map((c) => csvCell(row[c])).join(','));
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return '\ufeff' + lines.join('\r\n') + '\r\n';
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function saveText(text: string, filename: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = h('a', { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
