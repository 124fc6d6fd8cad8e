/**
 * The view the page shows, kept in the URL so a view can be shared: the page,
 * the period (a preset or a custom range), granularity, grouping, time zone
 * and every filter. Everything the panels ask the API is derived from it.
 */
import { Dimension, DIMENSIONS_FOR_DISPLAY } from '@tokentally/core';

/** libs/core's dimensions, in the order the dashboard offers them (project first). */
export const DIMENSIONS = DIMENSIONS_FOR_DISPLAY;
export type { Dimension };
export const PRESETS = {
  today: 'Today',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  mtd: 'Month to date',
  last_month: 'Last month',
  qtd: 'Quarter to date',
  custom: 'Custom',
} as const;
export type Preset = keyof typeof PRESETS;
export type View = 'overview' | 'events' | 'month' | 'admin';
export const GRANULARITIES = ['hour', 'day', 'week', 'month'] as const;
/** Hourly bars are offered for ranges of up to this many days (a week of hours is 168 bars). */
export const MAX_HOURLY_DAYS = 7;

export interface Filters {
  dims: Partial<Record<Dimension, string[]>>;
  tag: { key: string; value: string } | null;
}

export interface State {
  view: View;
  preset: Preset;
  from: string;
  to: string;
  granularity: (typeof GRANULARITIES)[number];
  groupBy: string;
  tz: string;
  filters: Filters;
  /** The events explorer: what a drill-down selected beyond the filters (see Drill), the sort, the pricing state. */
  at: Drill | null;
  sort: string;
  pricing: string;
  /** A cell of cost per image: its size and quality (null: any; '': calls without one). */
  imageSize: string | null;
  imageQuality: string | null;
  /** The month-close view's month (YYYY-MM). */
  month: string;
  /** The admin page's tab. */
  tab: string;
}

/**
 * The events behind a figure, as the events API selects them so they add up
 * to it: a bar is the report's own query plus its granularity and bucket (the
 * server works out the bar's hours, half-hour zones included); a top-list row
 * is the report's query and granularity; "(none)" rows select the calls with
 * no value for that dimension; a cost-per-image cell takes the hours holding
 * the period's edges, as the tokens report does.
 */
export interface Drill {
  granularity?: string;
  bucket?: string;
  none?: Dimension[];
  edges?: 'hour';
}

export const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** Today's date in `tz`, as YYYY-MM-DD. */
export function todayIn(tz: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    now,
  );
}

const iso = (d: Date) => d.toISOString().slice(0, 10);
const parts = (date: string) => date.split('-').map(Number) as [number, number, number];
export const addDays = (date: string, days: number) => {
  const [y, m, d] = parts(date);
  return iso(new Date(Date.UTC(y, m - 1, d + days)));
};
const monthStart = (date: string, back = 0) => {
  const [y, m] = parts(date);
  return iso(new Date(Date.UTC(y, m - 1 - back, 1)));
};
export const daysBetween = (from: string, to: string) => {
  const [a, b] = [parts(from), parts(to)];
  return Math.round((Date.UTC(b[0], b[1] - 1, b[2]) - Date.UTC(a[0], a[1] - 1, a[2])) / 86_400_000) + 1;
};

/** The local dates (both inclusive) a preset stands for, today being `today`. */
export function presetRange(preset: Exclude<Preset, 'custom'>, today: string): { from: string; to: string } {
  switch (preset) {
    case 'today':
      return { from: today, to: today };
    case '7d':
      return { from: addDays(today, -6), to: today };
    case '30d':
      return { from: addDays(today, -29), to: today };
    case 'mtd':
      return { from: monthStart(today), to: today };
    case 'last_month':
      return { from: monthStart(today, 1), to: addDays(monthStart(today), -1) };
    case 'qtd': {
      const [y, m] = parts(today);
      return { from: iso(new Date(Date.UTC(y, Math.floor((m - 1) / 3) * 3, 1))), to: today };
    }
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `tz` is a time zone this browser knows (a hand-edited URL may hold anything). */
export function isZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz.length > 0 && tz.length <= 100;
  } catch {
    return false;
  }
}

/** Values of the URL that were not usable and were replaced (shown beside their control). */
export const urlProblems: Array<{ path: string; message: string }> = [];

export function readState(search = location.search): State {
  const p = new URLSearchParams(search);
  urlProblems.length = 0;
  const asked = p.get('tz');
  const tz = asked && isZone(asked) ? asked : browserZone();
  if (asked && tz !== asked)
    urlProblems.push({ path: 'tz', message: `"${asked.slice(0, 40)}" is not a time zone; showing ${tz}` });
  const from = p.get('from');
  const to = p.get('to');
  // A URL with from/to and no preset (an older link, or typed by hand) is a custom range.
  const preset = ((p.get('preset') as Preset) in PRESETS ? p.get('preset') : from || to ? 'custom' : 'mtd') as Preset;
  let range =
    preset === 'custom'
      ? { from: from ?? addDays(todayIn(tz), -29), to: to ?? todayIn(tz) }
      : presetRange(preset, todayIn(tz));
  if (!isDate(range.from) || !isDate(range.to) || !realDate(range.from) || !realDate(range.to)) {
    urlProblems.push({
      path: !isDate(range.from) || !realDate(range.from) ? 'from' : 'to',
      message: 'is not a date (YYYY-MM-DD); showing the month to date',
    });
    range = presetRange('mtd', todayIn(tz));
  }
  const dims: Filters['dims'] = {};
  for (const d of DIMENSIONS) {
    const value = p.get(d);
    if (value) dims[d] = value.split(',').filter(Boolean);
  }
  let tag: Filters['tag'] = null;
  for (const [key, value] of p) if (key.startsWith('tag:') && key.length > 4) tag = { key: key.slice(4), value };
  let granularity = (GRANULARITIES as readonly string[]).includes(p.get('granularity') ?? '')
    ? (p.get('granularity') as State['granularity'])
    : 'day';
  // Hourly bars only where they can be read (the control offers them up to a week).
  if (granularity === 'hour' && daysBetween(range.from, range.to) > MAX_HOURLY_DAYS) granularity = 'day';
  const drill: Drill = {};
  if (p.get('d_granularity')) drill.granularity = p.get('d_granularity')!;
  const bucket = p.get('bucket');
  if (bucket && !Number.isNaN(Date.parse(bucket)) && bucket.length <= 40) drill.bucket = bucket;
  const none = (p.get('none') ?? '')
    .split(',')
    .filter((d): d is Dimension => (DIMENSIONS as readonly string[]).includes(d));
  if (none.length) drill.none = none;
  if (p.get('edges') === 'hour') drill.edges = 'hour';
  return {
    view: (['overview', 'events', 'month', 'admin'].includes(p.get('view') ?? '') ? p.get('view') : 'overview') as View,
    preset,
    from: range.from,
    to: range.to,
    granularity,
    groupBy: p.get('group_by') || 'provider',
    tz,
    filters: { dims, tag },
    at: Object.keys(drill).length ? drill : null,
    sort: p.get('sort') || '-time',
    pricing: p.get('pricing') || '',
    imageSize: p.get('image_size'),
    imageQuality: p.get('image_quality'),
    month: monthOf(p.get('month'), tz),
    tab: p.get('tab') || 'budgets',
  };
}

/** The URL of a state: only what differs from the defaults, so shared links stay short. */
export function stateUrl(s: State): string {
  const p = new URLSearchParams();
  if (s.view !== 'overview') p.set('view', s.view);
  if (s.preset !== 'mtd') p.set('preset', s.preset);
  if (s.preset === 'custom') {
    p.set('from', s.from);
    p.set('to', s.to);
  }
  if (s.granularity !== 'day') p.set('granularity', s.granularity);
  if (s.groupBy !== 'provider') p.set('group_by', s.groupBy);
  p.set('tz', s.tz);
  for (const d of DIMENSIONS) if (s.filters.dims[d]?.length) p.set(d, s.filters.dims[d]!.join(','));
  if (s.filters.tag) p.set(`tag:${s.filters.tag.key}`, s.filters.tag.value);
  if (s.view === 'events') {
    if (s.at?.granularity) p.set('d_granularity', s.at.granularity);
    if (s.at?.bucket) p.set('bucket', s.at.bucket);
    if (s.at?.none?.length) p.set('none', s.at.none.join(','));
    if (s.at?.edges) p.set('edges', s.at.edges);
    if (s.sort !== '-time') p.set('sort', s.sort);
    if (s.pricing) p.set('pricing', s.pricing);
    if (s.imageSize !== null) p.set('image_size', s.imageSize);
    if (s.imageQuality !== null) p.set('image_quality', s.imageQuality);
  }
  if (s.view === 'month') p.set('month', s.month);
  if (s.view === 'admin') p.set('tab', s.tab);
  return `?${p.toString()}`;
}

/** The filter parameters every report, export, chart and events list takes. */
export function filterParams(f: Filters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of DIMENSIONS) if (f.dims[d]?.length) out[d] = f.dims[d]!.join(',');
  if (f.tag) out[`tag:${f.tag.key}`] = f.tag.value;
  return out;
}

export function rangeParams(s: State): Record<string, string> {
  return { from: s.from, to: s.to, tz: s.tz };
}

export const qs = (...parts: Array<Record<string, string | undefined>>): string => {
  const p = new URLSearchParams();
  for (const part of parts) for (const [k, v] of Object.entries(part)) if (v !== undefined && v !== '') p.set(k, v);
  return p.toString();
};

/** "Month to date (Nov 1 – 29, 2026)": the period each panel title names. */
export function periodName(s: State): string {
  const fmt = (date: string, withYear: boolean) => {
    const [y, m, d] = parts(date);
    return new Intl.DateTimeFormat('en-US', {
      month: 'short',
      day: 'numeric',
      year: withYear ? 'numeric' : undefined,
      timeZone: 'UTC',
    }).format(new Date(Date.UTC(y, m - 1, d)));
  };
  const span =
    s.from === s.to
      ? fmt(s.from, true)
      : `${fmt(s.from, s.from.slice(0, 4) !== s.to.slice(0, 4))} – ${fmt(s.to, true)}`;
  return s.preset === 'custom' ? span : `${PRESETS[s.preset]} (${span})`;
}

export function isDate(text: string): boolean {
  return DATE.test(text);
}

/** A calendar date that exists (2026-02-30 does not). */
function realDate(text: string): boolean {
  const [y, m, d] = parts(text);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** The month-close month of the URL, or last month when it names none that exists. */
function monthOf(text: string | null, tz: string): string {
  const fallback = monthStart(todayIn(tz), 1).slice(0, 7);
  if (text === null) return fallback;
  const ok = /^\d{4}-(0[1-9]|1[0-2])$/.test(text);
  if (!ok)
    urlProblems.push({
      path: 'month',
      message: `"${text.slice(0, 20)}" is not a month (YYYY-MM); showing ${fallback}`,
    });
  return ok ? text : fallback;
}

/** Whether a month (YYYY-MM) is the current one in `tz`, so not over yet. */
export function isCurrentMonth(month: string, tz: string): boolean {
  return todayIn(tz).slice(0, 7) === month;
}
