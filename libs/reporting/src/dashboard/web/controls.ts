import { api, FieldError } from './api';
import type { DimensionValue, DimensionValues, List, TagKeys, TagValues, ValueSuggestion } from './api-types';
import { fill, h } from './dom';
import {
  DIMENSIONS,
  Dimension,
  GRANULARITIES,
  MAX_HOURLY_DAYS,
  PRESETS,
  Preset,
  State,
  daysBetween,
  isDate,
  presetRange,
  qs,
  todayIn,
} from './state';

const DIMENSION_LABEL: Record<Dimension | 'tag', string> = {
  project: 'Project',
  provider: 'Provider',
  model: 'Model',
  team: 'Team',
  user: 'User',
  feature: 'Feature',
  environment: 'Environment',
  tag: 'Tag',
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ZONES = [
  'UTC',
  'Europe/London',
  'Europe/Berlin',
  'America/New_York',
  'America/Chicago',
  'America/Los_Angeles',
  'Asia/Kolkata',
  'Asia/Tokyo',
  'Australia/Sydney',
];

export interface Controls {
  /** Draws the controls for `state`; `names` maps project ids to names for the chips. */
  render(state: State): void;
  /** Marks the controls the API refused, with its message beside each. */
  markErrors(errors: FieldError[]): void;
}

/**
 * The period, grouping, zone and filter controls. Each change produces a new
 * State (handed to `onChange`, which puts it in the URL and reloads the view).
 */
export function createControls(
  form: HTMLFormElement,
  onChange: (next: State) => void,
  projectNames: () => Map<string, string>,
  scoped: () => boolean = () => false,
): Controls {
  const scopedNote = () =>
    scoped()
      ? `No filters: every project this key reads (${[...projectNames().values()].join(', ')}), every provider and model.`
      : 'No filters: every project, provider and model.';
  let current: State;
  const errorSlots = new Map<string, HTMLElement>();

  const field = (name: string, label: string, control: HTMLElement, hidden = false) => {
    const slot = h('span', { class: 'field-error', id: `${name}-error`, role: 'alert' });
    errorSlots.set(name, slot);
    control.setAttribute('aria-describedby', `${name}-error`);
    return h('div', { class: 'field', hidden }, h('label', { for: `ctl-${name}` }, label), control, slot);
  };
  const change = (patch: Partial<State>) => onChange({ ...current, ...patch });

  function periodControls(s: State) {
    const preset = h(
      'select',
      {
        id: 'ctl-preset',
        name: 'preset',
        onchange: (e: Event) => {
          const value = (e.target as HTMLSelectElement).value as Preset;
          const range = value === 'custom' ? { from: s.from, to: s.to } : presetRange(value, todayIn(s.tz));
          const granularity =
            s.granularity === 'hour' && daysBetween(range.from, range.to) > MAX_HOURLY_DAYS ? 'day' : s.granularity;
          change({ preset: value, ...range, granularity });
        },
      },
      Object.entries(PRESETS).map(([value, label]) => h('option', { value, selected: value === s.preset }, label)),
    );
    const date = (name: 'from' | 'to', label: string) =>
      field(
        name,
        label,
        h('input', {
          id: `ctl-${name}`,
          name,
          type: 'date',
          value: s[name],
          onchange: (e: Event) => {
            const value = (e.target as HTMLInputElement).value;
            if (!isDate(value)) return markErrors([{ path: name, message: 'must be a date' }]);
            const next = { ...s, [name]: value };
            if (next.from > next.to) return markErrors([{ path: 'to', message: 'must be on or after from' }]);
            change({ preset: 'custom', from: next.from, to: next.to });
          },
        }),
        s.preset !== 'custom',
      );
    return [field('preset', 'Period', preset), date('from', 'From'), date('to', 'To')];
  }

  function viewControls(s: State) {
    const days = daysBetween(s.from, s.to);
    const granularity = h(
      'select',
      {
        id: 'ctl-granularity',
        name: 'granularity',
        onchange: (e: Event) => change({ granularity: (e.target as HTMLSelectElement).value as State['granularity'] }),
      },
      GRANULARITIES.map((g) => {
        // Hourly bars only where they can be read: a range of up to a week.
        const off = g === 'hour' && days > MAX_HOURLY_DAYS;
        return h(
          'option',
          {
            value: g,
            selected: g === s.granularity,
            disabled: off,
            title: off ? `Hourly for ranges of up to ${MAX_HOURLY_DAYS} days` : null,
          },
          g[0].toUpperCase() + g.slice(1),
        );
      }),
    );
    const groups: string[] = [
      ...DIMENSIONS,
      ...(s.filters.tag ? [`tag:${s.filters.tag.key}`] : []),
      ...(s.groupBy.startsWith('tag:') && s.groupBy !== `tag:${s.filters.tag?.key}` ? [s.groupBy] : []),
    ];
    const groupBy = h(
      'select',
      {
        id: 'ctl-group_by',
        name: 'group_by',
        onchange: (e: Event) => change({ groupBy: (e.target as HTMLSelectElement).value }),
      },
      groups.map((g) =>
        h(
          'option',
          { value: g, selected: g === s.groupBy },
          g.startsWith('tag:') ? `Tag ${g.slice(4)}` : DIMENSION_LABEL[g as Dimension],
        ),
      ),
    );
    const tz = h('input', {
      id: 'ctl-tz',
      name: 'tz',
      list: 'zones',
      value: s.tz,
      size: 16,
      autocomplete: 'off',
      onchange: (e: Event) => {
        const value = (e.target as HTMLInputElement).value.trim();
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: value });
        } catch {
          return markErrors([{ path: 'tz', message: 'must be an IANA time zone such as Europe/Berlin' }]);
        }
        change({ tz: value });
      },
    });
    const zones = h(
      'datalist',
      { id: 'zones' },
      ZONES.map((z) => h('option', { value: z })),
    );
    return [
      field('granularity', 'Granularity', granularity),
      field('group_by', 'Group by', groupBy),
      field('tz', 'Time zone', tz),
      zones,
    ];
  }

  function filterAdder(s: State) {
    const dimension = h(
      'select',
      { id: 'ctl-filter-dimension', 'aria-label': 'Filter by' },
      [...DIMENSIONS, 'tag' as const].map((d) => h('option', { value: d }, DIMENSION_LABEL[d])),
    );
    const tagKey = h('input', {
      id: 'ctl-filter-tag-key',
      placeholder: 'tag name',
      'aria-label': 'Tag name',
      list: 'filter-tag-keys',
      size: 10,
      hidden: true,
      autocomplete: 'off',
    });
    const value = h('input', {
      id: 'ctl-filter-value',
      placeholder: 'value',
      'aria-label': 'Filter value',
      list: 'filter-values',
      size: 14,
      autocomplete: 'off',
    });
    const keys = h('datalist', { id: 'filter-tag-keys' });
    const values = h('datalist', { id: 'filter-values' });
    // Suggestions from the data (most spent first), for the dimension or tag being added.
    const suggestions = new Map<string, string>();
    let asked = 0;
    const suggest = async () => {
      const mine = ++asked;
      const d = dimension.value;
      const range = { from: s.from, to: s.to, tz: s.tz, q: value.value, limit: '20' };
      try {
        // A tag's values have no label; a dimension's have one (and a project's its name).
        const answer: List<ValueSuggestion & Partial<DimensionValue>> =
          d === 'tag'
            ? tagKey.value
              ? await api.get<TagValues>(`/v1/reports/tags/${encodeURIComponent(tagKey.value)}/values?${qs(range)}`)
              : { data: [] }
            : await api.get<DimensionValues>(`/v1/reports/dimensions/${d}/values?${qs(range)}`);
        if (mine !== asked) return;
        suggestions.clear();
        fill(
          values,
          (answer.data ?? []).map((row) => {
            const label = row.name ?? row.label ?? row.value;
            suggestions.set(label, row.value);
            return h('option', { value: label });
          }),
        );
      } catch {
        // Suggestions are a help; typing a value works without them.
      }
    };
    const suggestKeys = async () => {
      try {
        const answer = await api.get<TagKeys>(`/v1/reports/tags?${qs({ from: s.from, to: s.to, tz: s.tz })}`);
        fill(
          keys,
          (answer.data ?? []).map((row) => h('option', { value: row.key })),
        );
      } catch {
        // as above
      }
    };
    dimension.addEventListener('change', () => {
      tagKey.hidden = dimension.value !== 'tag';
      value.value = '';
      if (dimension.value === 'tag') void suggestKeys();
      void suggest();
    });
    tagKey.addEventListener('change', () => void suggest());
    // Suggestions read rollups over the period: asked once typing pauses, not at every key.
    let pause: ReturnType<typeof setTimeout> | undefined;
    value.addEventListener('input', () => {
      clearTimeout(pause);
      pause = setTimeout(() => void suggest(), 250);
    });
    value.addEventListener('focus', () => void suggest(), { once: true });
    const add = h('button', { type: 'submit', id: 'ctl-filter-add' }, 'Add filter');
    form.onsubmit = (event) => {
      event.preventDefault();
      // Enter in another field (the zone, a date) applies that field; only the filter's own fields add a filter.
      const active = document.activeElement;
      if (active instanceof HTMLInputElement && !active.closest('.filter-adder')) {
        active.dispatchEvent(new Event('change', { bubbles: true }));
        return;
      }
      const d = dimension.value as Dimension | 'tag';
      const text = value.value.trim();
      if (d === 'tag') {
        if (!tagKey.value.trim()) return markErrors([{ path: 'filter', message: 'name the tag' }]);
        // The reports take one tag filter: a second one is refused here, not swapped in silently.
        if (s.filters.tag && s.filters.tag.key !== tagKey.value.trim()) {
          return markErrors([
            { path: 'filter', message: `one tag filter at a time: remove "Tag ${s.filters.tag.key}" first` },
          ]);
        }
        return change({ filters: { ...s.filters, tag: { key: tagKey.value.trim(), value: text } } });
      }
      if (!text) return markErrors([{ path: 'filter', message: 'type or pick a value' }]);
      let chosen = suggestions.get(text) ?? text;
      if (d === 'project' && !UUID.test(chosen)) {
        // A project is filtered by its id: a typed name is looked up among the projects this key reads.
        const matches = [...projectNames()].filter(([, name]) => name.toLowerCase() === text.toLowerCase());
        if (matches.length !== 1)
          return markErrors([
            {
              path: 'filter',
              message: matches.length
                ? `${matches.length} projects are named "${text}": pick one from the list`
                : `no project named "${text}"`,
            },
          ]);
        chosen = matches[0][0];
      }
      const list = s.filters.dims[d] ?? [];
      if (list.includes(chosen)) return;
      change({ filters: { ...s.filters, dims: { ...s.filters.dims, [d]: [...list, chosen] } } });
    };
    const slot = h('span', { class: 'field-error', id: 'filter-error', role: 'alert' });
    errorSlots.set('filter', slot);
    return h(
      'div',
      { class: 'field filter-adder' },
      h('span', { class: 'label' }, 'Filter'),
      h('div', { class: 'inline' }, dimension, tagKey, value, add),
      keys,
      values,
      slot,
    );
  }

  function chips(s: State) {
    const names = projectNames();
    const items: HTMLElement[] = [];
    for (const d of DIMENSIONS) {
      for (const value of s.filters.dims[d] ?? []) {
        const shown = d === 'project' ? (names.get(value) ?? value) : value;
        const remove = () => {
          const rest = (s.filters.dims[d] ?? []).filter((v) => v !== value);
          change({ filters: { ...s.filters, dims: { ...s.filters.dims, [d]: rest.length ? rest : undefined } } });
        };
        items.push(chip(`${DIMENSION_LABEL[d]}: ${shown}`, remove, d));
      }
    }
    if (s.filters.tag) {
      const { key, value } = s.filters.tag;
      items.push(
        chip(
          `Tag ${key}: ${value}`,
          () =>
            change({
              filters: { ...s.filters, tag: null },
              groupBy: s.groupBy === `tag:${key}` ? 'provider' : s.groupBy,
            }),
          `tag:${key}`,
        ),
      );
    }
    return h(
      'div',
      { class: 'chips', id: 'chips', 'aria-label': 'Active filters' },
      items.length ? items : h('span', { class: 'muted' }, scopedNote()),
      items.length > 1
        ? h(
            'button',
            { type: 'button', class: 'link', onclick: () => change({ filters: { dims: {}, tag: null } }) },
            'Clear all',
          )
        : null,
    );
  }

  function chip(text: string, remove: () => void, name: string) {
    const slot = h('span', { class: 'field-error', role: 'alert' });
    errorSlots.set(name, slot);
    return h(
      'span',
      { class: 'chip', 'data-filter': name },
      text,
      h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove filter ${text}`, onclick: remove }, '×'),
      slot,
    );
  }

  function markErrors(errors: FieldError[]) {
    for (const slot of errorSlots.values()) slot.textContent = '';
    form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
    for (const error of errors) {
      const slot = errorSlots.get(error.path) ?? errorSlots.get(error.path.split('.')[0]) ?? errorSlots.get('filter');
      if (slot) slot.textContent = error.message;
      form.querySelector(`#ctl-${CSS.escape(error.path)}`)?.setAttribute('aria-invalid', 'true');
      form.querySelector(`[data-filter="${CSS.escape(error.path)}"]`)?.setAttribute('aria-invalid', 'true');
    }
  }

  return {
    render(state: State) {
      current = state;
      errorSlots.clear();
      // Granularity and grouping shape the overview's charts; the events list and month close take the zone only.
      const period = state.view === 'month' ? [] : periodControls(state);
      const view = viewControls(state);
      const shaping = state.view === 'overview' ? view : state.view === 'admin' ? [] : view.slice(2);
      fill(
        form,
        h('div', { class: 'row' }, period, shaping, state.view === 'admin' ? [] : filterAdder(state)),
        state.view === 'admin' ? null : chips(state),
      );
      form.hidden = state.view === 'admin';
    },
    markErrors,
  };
}
