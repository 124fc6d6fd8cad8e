import { DOMAIN_EVENT_TYPES, TEXT_DIMENSIONS } from '@tokentally/core';
import { api, ApiError } from './api';
import { Child, fill, h, table } from './dom';
import { apiForm, checkboxes, input, secretOnce, select } from './forms';
import { ago, count, dateTime, words } from './format';
import { usd } from './overview';
import { Panel } from './panel';
import type {
  ApiKey,
  Budget,
  BudgetScope,
  CreatedKey,
  DimensionValues,
  List,
  OlderPages,
  PendingPrice,
  PriceVersion,
  PricingRun,
  Project,
  Webhook,
  WebhookDelivery,
  WebhookWithSecret,
} from './api-types';
import { State } from './state';

export interface AdminContext {
  state: State;
  isAdmin: boolean;
  isCurrent: () => boolean;
  onAuthError: (e: ApiError) => void;
  navigate: (patch: Partial<State>) => void;
  /** Projects were created: the names everywhere are refreshed. */
  projectsChanged: () => void;
}

const TABS: Array<[string, string]> = [
  ['budgets', 'Budgets'],
  ['webhooks', 'Webhooks'],
  ['keys', 'Keys and projects'],
  ['pricing', 'Pricing'],
];
// libs/core's lists, as the server has them: every event type, and the scope dimensions typed in (the project is
// chosen from a list).
const EVENT_TYPES: string[] = [...DOMAIN_EVENT_TYPES];
const SCOPE_DIMENSIONS = TEXT_DIMENSIONS;

/** Admin pages: budgets, webhooks, keys and projects, pricing. The server refuses all of it to other keys. */
export async function renderAdmin(root: HTMLElement, ctx: AdminContext): Promise<void> {
  if (!ctx.isAdmin) {
    root.replaceChildren(
      h(
        'section',
        { class: 'card' },
        h('h2', null, 'Admin'),
        h(
          'p',
          null,
          'These pages need an admin key. This key can read reports and events; sign in with an admin key to manage budgets, webhooks, keys and prices.',
        ),
      ),
    );
    return;
  }
  const tabs = h(
    'nav',
    { class: 'tabs', 'aria-label': 'Admin sections' },
    TABS.map(([tab, label]) =>
      h(
        'a',
        {
          href: `?view=admin&tab=${tab}`,
          'aria-current': ctx.state.tab === tab ? 'page' : null,
          onclick: (e: Event) => {
            e.preventDefault();
            ctx.navigate({ tab });
          },
        },
        label,
      ),
    ),
  );
  const body = h('div', { class: 'grid' });
  root.replaceChildren(tabs, body);
  const tab = ctx.state.tab;
  if (tab === 'webhooks') return webhooksTab(body, ctx);
  if (tab === 'keys') return keysTab(body, ctx);
  if (tab === 'pricing') return pricingTab(body, ctx);
  return budgetsTab(body, ctx);
}

const reload = (ctx: AdminContext) => ctx.navigate({});

/** The notes of every source a pricing pull read, each named by its source. */
const notesOf = (run: PricingRun) => run.sources.flatMap((s) => (s.notes ?? []).map((note) => `${s.source}: ${note}`));

async function budgetsTab(root: HTMLElement, ctx: AdminContext) {
  const list = new Panel('admin-budgets', 'Budgets', 'wide');
  const editor = new Panel('budget-form-panel', 'New budget', 'wide');
  root.replaceChildren(list.root, editor.root);
  const [budgets, webhooks, projects] = await Promise.all([
    api.get<List<Budget>>('/v1/budgets?with_status=1').catch((e: Error) => e),
    api.get<List<Webhook>>('/v1/webhooks').catch((): List<Webhook> => ({ data: [] })),
    api.get<List<Project>>('/v1/projects').catch((): List<Project> => ({ data: [] })),
  ]);
  if (!ctx.isCurrent()) return;
  if (budgets instanceof Error) return list.error(budgets, () => reload(ctx));
  const projectName = new Map<string, string>(projects.data.map((p) => [p.id, p.name]));
  const scopeText = (scope: BudgetScope | undefined) =>
    Object.entries(scope ?? {})
      .map(([k, v]) =>
        k === 'project'
          ? `project ${projectName.get(v as string) ?? v}`
          : k === 'tags'
            ? Object.entries(v as Record<string, string>)
                .map(([tk, tv]) => `tag ${tk}=${tv}`)
                .join(', ')
            : `${k} ${v}`,
      )
      .join(', ') || 'all spend';
  const showEditor = (budget: Budget | null) => {
    editor.title(budget ? `Edit budget "${budget.name}"` : 'New budget');
    editor.show(budgetForm(budget, webhooks.data, projects.data, ctx));
  };
  if (!budgets.data.length) list.empty('No budgets yet: create one below.');
  else
    list.show(
      h(
        'div',
        { class: 'scroll' },
        table(
          [
            { label: 'Name', cell: (b) => b.name },
            { label: 'Amount', numeric: true, cell: (b) => usd(b.amount_usd) },
            { label: 'Period', cell: (b) => `${b.period} (${b.timezone})` },
            { label: 'Scope', cell: (b) => scopeText(b.scope) },
            {
              label: 'Alerts at',
              cell: (b) => `${(b.thresholds_pct ?? []).join(', ')}%${b.forecast_alert ? ' + forecast' : ''}`,
            },
            {
              label: 'Spent',
              numeric: true,
              cell: (b) => [usd(b.status?.spent_usd), ` (${b.status?.percent ?? 0}%)`],
            },
            {
              label: 'Actions',
              cell: (b) => [
                h('button', { type: 'button', class: 'secondary', onclick: () => showEditor(b) }, 'Edit'),
                ' ',
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'danger',
                    onclick: async () => {
                      if (!confirm(`Delete the budget "${b.name}"?`)) return;
                      await api.delete(`/v1/budgets/${b.id}`).then(
                        () => reload(ctx),
                        (e) => list.error(e),
                      );
                    },
                  },
                  'Delete',
                ),
              ],
            },
          ],
          budgets.data,
          { empty: '' },
        ),
      ),
    );
  showEditor(null);
}

function budgetForm(
  budget: Budget | null,
  webhooks: Webhook[],
  projects: Project[],
  ctx: AdminContext,
): HTMLFormElement {
  const scope: BudgetScope = budget?.scope ?? {};
  const name = input('name', { value: budget?.name ?? '', required: true, maxlength: 100 });
  const amount = input('amount_usd', {
    value: budget?.amount_usd ?? '',
    inputmode: 'decimal',
    placeholder: '1000.00',
    required: true,
  });
  const period = select(
    'period',
    [
      ['month', 'Month'],
      ['quarter', 'Quarter'],
      ['week', 'Week'],
      ['day', 'Day'],
    ],
    budget?.period ?? 'month',
  );
  const tz = input('timezone', { value: budget?.timezone ?? ctx.state.tz, list: 'zones' });
  const project = select(
    'scope.project',
    [['', 'Every project'], ...projects.map((p) => [p.id, p.name] as [string, string])],
    scope.project ?? '',
  );
  const dims = Object.fromEntries(
    SCOPE_DIMENSIONS.map((d) => [
      d,
      input(`scope.${d}`, { value: scope[d] ?? '', list: `suggest-${d}`, autocomplete: 'off', placeholder: 'any' }),
    ]),
  );
  const suggestions = SCOPE_DIMENSIONS.map((d) => {
    const list = h('datalist', { id: `suggest-${d}` });
    void api.get<DimensionValues>(`/v1/reports/dimensions/${d}/values?limit=30`).then(
      (r) =>
        fill(
          list,
          (r.data ?? []).map((row) => h('option', { value: row.value })),
        ),
      () => undefined,
    );
    return list;
  });
  const [tagKey, tagValue] = Object.entries(scope.tags ?? {})[0] ?? ['', ''];
  const tagK = input('scope.tags', { value: tagKey, placeholder: 'tag name', 'aria-label': 'Tag name' });
  const tagV = input('scope.tag_value', {
    value: tagValue as string,
    placeholder: 'tag value',
    'aria-label': 'Tag value',
  });
  const thresholds = input('thresholds_pct', {
    value: (budget?.thresholds_pct ?? [50, 80, 100]).join(', '),
    placeholder: '50, 80, 100',
  });
  const forecast = input('forecast_alert', { type: 'checkbox', checked: budget ? budget.forecast_alert : true });
  const hooks = checkboxes(
    'webhook_ids',
    'Send alerts to (none checked: every webhook subscribed to budget alerts)',
    webhooks.map((w) => [w.id, w.description ? `${w.description} (${w.url})` : w.url]),
    budget?.webhook_ids ?? [],
  );
  const done = h('div', { class: 'form-done', role: 'status' });
  const form = apiForm(
    'budget-form',
    [
      { name: 'name', label: 'Name', control: name },
      { name: 'amount_usd', label: 'Amount (USD)', control: amount, hint: 'A decimal such as 1000.00' },
      { name: 'period', label: 'Period', control: period },
      { name: 'timezone', label: 'Time zone', control: tz, hint: 'Periods start at local midnight in this zone' },
      { name: 'scope.project', label: 'Project', control: project },
      ...SCOPE_DIMENSIONS.map((d) => ({
        name: `scope.${d}`,
        label: d[0].toUpperCase() + d.slice(1),
        control: dims[d],
      })),
      { name: 'scope.tags', label: 'Tag', control: h('div', { class: 'inline' }, tagK, tagV) },
      {
        name: 'thresholds_pct',
        label: 'Alert at (% of amount)',
        control: thresholds,
        hint: 'Comma-separated, e.g. 50, 80, 100',
      },
      { name: 'forecast_alert', label: 'Alert when the forecast passes the amount', control: forecast },
      { name: 'webhook_ids', label: 'Webhooks', control: hooks },
    ],
    budget ? 'Save budget' : 'Create budget',
    async () => {
      const scopeBody: Record<string, unknown> = {};
      if (project.value) scopeBody.project = project.value;
      for (const d of SCOPE_DIMENSIONS) if (dims[d].value.trim()) scopeBody[d] = dims[d].value.trim();
      if (tagK.value.trim()) {
        // A tag with no value would make a budget that never spends.
        if (!tagV.value.trim())
          throw new ApiError(400, 'The tag needs a value.', [
            { path: 'scope.tags', message: 'give the tag a value (a budget on an empty value never spends)' },
          ]);
        scopeBody.tags = { [tagK.value.trim()]: tagV.value.trim() };
      }
      const pcts = thresholds.value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)
        .map((v) => (/^\d+$/.test(v) ? Number(v) : v));
      const body = {
        name: name.value,
        amount_usd: amount.value.trim(),
        period: period.value,
        timezone: tz.value.trim(),
        scope: scopeBody,
        thresholds_pct: pcts,
        forecast_alert: forecast.checked,
        webhook_ids: hooks.values(),
      };
      const saved = budget
        ? await api.patch<Budget>(`/v1/budgets/${budget.id}`, body)
        : await api.post<Budget>('/v1/budgets', body);
      fill(done, `Saved "${saved.name}".`);
      setTimeout(() => reload(ctx), 600);
    },
    [
      suggestions,
      done,
      budget ? h('button', { type: 'button', class: 'secondary', onclick: () => reload(ctx) }, 'Cancel') : null,
    ],
  );
  return form;
}

async function webhooksTab(root: HTMLElement, ctx: AdminContext) {
  const list = new Panel('admin-webhooks', 'Webhooks', 'wide');
  const create = new Panel('webhook-form-panel', 'New webhook', 'wide');
  const log = new Panel('webhook-deliveries', 'Deliveries', 'wide');
  root.replaceChildren(list.root, log.root, create.root);
  log.empty('Pick a webhook\'s "Deliveries" to see what was sent and how it went.');
  const secretSlot = h('div', { id: 'webhook-secret' });
  const loadList = () =>
    list.run(
      ctx.isCurrent,
      () => api.get<List<Webhook>>('/v1/webhooks'),
      (r) => {
        if (!r.data.length)
          return list.empty('No webhooks yet: create one below. Budgets send their alerts to the webhooks you pick.');
        list.show(
          h(
            'div',
            { class: 'scroll' },
            table(
              [
                {
                  label: 'URL',
                  cell: (w) => [w.url, w.description ? h('div', { class: 'muted' }, w.description) : null],
                },
                { label: 'Events', cell: (w) => (w.events ?? []).join(', ') },
                { label: 'Format', cell: (w) => w.format },
                {
                  label: 'Enabled',
                  cell: (w) =>
                    h(
                      'label',
                      { class: 'check' },
                      h('input', {
                        type: 'checkbox',
                        checked: w.enabled,
                        'aria-label': `Enable ${w.url}`,
                        onchange: async (e: Event) => {
                          await api
                            .patch(`/v1/webhooks/${w.id}`, { enabled: (e.target as HTMLInputElement).checked })
                            .catch((err) => list.error(err, () => reload(ctx)));
                        },
                      }),
                      w.enabled ? ' on' : ' off',
                    ),
                },
                // How it is going: a webhook that keeps failing says so here, not only in its deliveries.
                {
                  label: 'State',
                  cell: (w) =>
                    w.consecutive_failures > 0
                      ? h('span', { class: 'bad' }, `failing: ${count(w.consecutive_failures)} in a row`)
                      : 'delivering',
                },
                {
                  label: 'Actions',
                  cell: (w) => [
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'secondary',
                        onclick: async () => {
                          const r = await api.post<WebhookDelivery>(`/v1/webhooks/${w.id}/test`).catch((e: Error) => e);
                          alertInPanel(
                            log,
                            r instanceof Error
                              ? r.message
                              : `Test event queued (${r?.id ?? 'sent'}). Its delivery appears below.`,
                          );
                          setTimeout(() => void deliveries(log, w, ctx), 1500);
                        },
                      },
                      'Test send',
                    ),
                    ' ',
                    h(
                      'button',
                      { type: 'button', class: 'secondary', onclick: () => void deliveries(log, w, ctx) },
                      'Deliveries',
                    ),
                    ' ',
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'secondary',
                        onclick: async () => {
                          const r = await api
                            .post<WebhookWithSecret>(`/v1/webhooks/${w.id}/rotate-secret`)
                            .catch((e: Error) => e);
                          fill(
                            secretSlot,
                            r instanceof Error
                              ? h('p', { class: 'bad' }, r.message)
                              : secretOnce('New signing secret', r.secret),
                          );
                          secretSlot.scrollIntoView();
                        },
                      },
                      'Rotate secret',
                    ),
                    ' ',
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        onclick: async () => {
                          if (!confirm(`Delete the webhook ${w.url}?`)) return;
                          await api.delete(`/v1/webhooks/${w.id}`).then(
                            () => reload(ctx),
                            (e) => list.error(e),
                          );
                        },
                      },
                      'Delete',
                    ),
                  ],
                },
              ],
              r.data,
              { empty: '' },
            ),
          ),
        );
      },
      ctx.onAuthError,
    );
  create.show(
    secretSlot,
    webhookForm(secretSlot, () => void loadList()),
  );
  await loadList();
}

function alertInPanel(panel: Panel, text: string) {
  panel.show(h('p', { role: 'status' }, text));
}

async function deliveries(panel: Panel, hook: Webhook, ctx: AdminContext) {
  panel.title(`Deliveries to ${hook.url}`);
  await panel.run(
    ctx.isCurrent,
    () => api.get<OlderPages<WebhookDelivery>>(`/v1/webhooks/${hook.id}/deliveries?limit=50`),
    (r) => {
      if (!r.data.length) return panel.empty('Nothing sent to this webhook yet.');
      panel.show(
        h(
          'div',
          { class: 'scroll' },
          table(
            [
              { label: 'Created', cell: (d) => dateTime(d.created_at, ctx.state.tz) },
              { label: 'Event', cell: (d) => d.event_type ?? '' },
              {
                label: 'Status',
                cell: (d) =>
                  h(
                    'span',
                    { class: d.status === 'failed' ? 'bad' : d.status === 'delivered' ? 'good' : 'warn' },
                    d.status,
                  ),
              },
              { label: 'Attempts', numeric: true, cell: (d) => count(d.attempts ?? 0) },
              {
                label: 'Next attempt',
                cell: (d) =>
                  d.next_attempt_at && (d.status === 'pending' || d.status === 'sending')
                    ? dateTime(d.next_attempt_at, ctx.state.tz)
                    : '—',
              },
              {
                label: 'Last answer',
                cell: (d) => d.last_error ?? (d.last_status_code ? `HTTP ${d.last_status_code}` : '—'),
              },
              {
                label: '',
                cell: (d) =>
                  d.status !== 'sending'
                    ? h(
                        'button',
                        {
                          type: 'button',
                          class: 'secondary',
                          onclick: async () => {
                            await api.post(`/v1/webhook-deliveries/${d.id}/resend`).catch((e) => panel.error(e));
                            setTimeout(() => void deliveries(panel, hook, ctx), 1000);
                          },
                        },
                        'Resend',
                      )
                    : '',
              },
            ],
            r.data,
            { empty: '' },
          ),
        ),
      );
    },
    ctx.onAuthError,
  );
}

function webhookForm(secretSlot: HTMLElement, created: () => void): HTMLFormElement {
  const url = input('url', { type: 'url', placeholder: 'https://hooks.example.com/tokentally', required: true });
  const description = input('description', { maxlength: 500 });
  const format = select('format', [
    ['standard', 'Standard Webhooks (signed JSON)'],
    ['slack', 'Slack incoming webhook'],
  ]);
  const events = checkboxes(
    'events',
    'Events',
    EVENT_TYPES.map((t) => [t, words(t)]),
    EVENT_TYPES,
  );
  const form = apiForm(
    'webhook-form',
    [
      { name: 'url', label: 'URL', control: url },
      { name: 'description', label: 'Description', control: description },
      { name: 'format', label: 'Format', control: format },
      { name: 'events', label: 'Events', control: events },
    ],
    'Create webhook',
    async () => {
      const body: Record<string, unknown> = { url: url.value.trim(), format: format.value, events: events.values() };
      if (description.value.trim()) body.description = description.value.trim();
      const hook = await api.post<WebhookWithSecret>('/v1/webhooks', body);
      fill(secretSlot, secretOnce('Signing secret', hook.secret));
      form.reset();
      // The list above gains the new webhook; the secret stays on screen until the page changes.
      created();
    },
  );
  return form;
}

async function keysTab(root: HTMLElement, ctx: AdminContext) {
  const keys = new Panel('admin-keys', 'API keys', 'wide');
  const projects = new Panel('admin-projects', 'Projects', 'half');
  const create = new Panel('key-form-panel', 'New key', 'half');
  root.replaceChildren(keys.root, projects.root, create.root);
  const [keyList, projectList] = await Promise.all([
    api.get<List<ApiKey>>('/v1/keys').catch((e: Error) => e),
    api.get<List<Project>>('/v1/projects').catch((e: Error) => e),
  ]);
  if (!ctx.isCurrent()) return;
  if (projectList instanceof Error) projects.error(projectList, () => reload(ctx));
  const names = new Map<string, string>(
    projectList instanceof Error ? [] : projectList.data.map((p) => [p.id, p.name]),
  );
  const drawKeys = (list: List<ApiKey>) =>
    keys.show(
      h(
        'div',
        { class: 'scroll' },
        table(
          [
            { label: 'Name', cell: (k) => k.name },
            { label: 'Role', cell: (k) => k.role },
            {
              label: 'Projects',
              cell: (k) =>
                k.project_id
                  ? (names.get(k.project_id) ?? k.project_id)
                  : k.project_ids?.length
                    ? k.project_ids.map((id: string) => names.get(id) ?? id).join(', ')
                    : 'all',
            },
            { label: 'Key', cell: (k) => h('code', null, `${k.prefix ?? ''}…`) },
            { label: 'Created', cell: (k) => ago(k.created_at) },
            {
              label: 'State',
              cell: (k) => (k.revoked_at ? h('span', { class: 'muted' }, `revoked ${ago(k.revoked_at)}`) : 'active'),
            },
            {
              label: '',
              cell: (k) =>
                k.revoked_at
                  ? ''
                  : h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        onclick: async () => {
                          if (!confirm(`Revoke the key "${k.name}"? Calls with it fail from now on.`)) return;
                          await api.delete(`/v1/keys/${k.id}`).then(
                            () => reload(ctx),
                            (e) => keys.error(e),
                          );
                        },
                      },
                      'Revoke',
                    ),
            },
          ],
          list.data,
          { empty: 'No keys.' },
        ),
      ),
    );
  if (keyList instanceof Error) keys.error(keyList, () => reload(ctx));
  else drawKeys(keyList);
  if (!(projectList instanceof Error)) {
    const projectName = input('name', { required: true, maxlength: 100, placeholder: 'web-shop' });
    projects.show(
      table(
        [
          { label: 'Name', cell: (p) => p.name },
          { label: 'Id', cell: (p) => h('code', null, p.id) },
        ],
        projectList.data,
        { empty: 'No projects yet.' },
      ),
      apiForm(
        'project-form',
        [{ name: 'name', label: 'New project', control: projectName }],
        'Create project',
        async () => {
          await api.post('/v1/projects', { name: projectName.value.trim() });
          ctx.projectsChanged();
          reload(ctx);
        },
      ),
    );
  }
  const secretSlot = h('div', { id: 'key-secret' });
  const keyName = input('name', { required: true, maxlength: 100, placeholder: 'checkout service' });
  const role = select('role', [
    ['ingest', 'ingest: sends events to one project'],
    ['viewer', 'viewer: reads reports'],
    ['admin', 'admin: manages everything'],
  ]);
  const options = [...names].map(([id, name]) => [id, name] as [string, string]);
  const project = select('project_id', [['', 'Pick a project'], ...options]);
  const scope = checkboxes('project_ids', 'Limit to projects (viewer; none checked = every project)', options);
  const sync = () => {
    project.closest('.form-row')?.toggleAttribute('hidden', role.value !== 'ingest');
    scope.closest('.form-row')?.toggleAttribute('hidden', role.value !== 'viewer');
  };
  role.addEventListener('change', sync);
  const keyForm = apiForm(
    'key-form',
    [
      { name: 'name', label: 'Name', control: keyName },
      { name: 'role', label: 'Role', control: role },
      { name: 'project_id', label: 'Project', control: project },
      { name: 'project_ids', label: 'Projects', control: scope },
    ],
    'Create key',
    async () => {
      const body: Record<string, unknown> = { name: keyName.value.trim(), role: role.value };
      if (role.value === 'ingest') body.project_id = project.value || null;
      if (role.value === 'viewer' && scope.values().length) body.project_ids = scope.values();
      const created = await api.post<CreatedKey>('/v1/keys', body);
      fill(secretSlot, secretOnce(`Key "${created.name}"`, created.key));
      keyForm.reset();
      sync();
      // The list gains the new key; the key itself stays only in the box above.
      await api.get<List<ApiKey>>('/v1/keys').then(drawKeys, (e) => keys.error(e));
    },
  );
  create.show(secretSlot, keyForm);
  sync();
}

async function pricingTab(root: HTMLElement, ctx: AdminContext) {
  const pending = new Panel('admin-pending', 'Held price changes', 'wide');
  const overrides = new Panel('admin-overrides', 'Overrides and discounts', 'wide');
  const create = new Panel('override-form-panel', 'New override or discount', 'wide');
  const refresh = h(
    'button',
    {
      type: 'button',
      id: 'pricing-refresh',
      onclick: async () => {
        refresh.disabled = true;
        const r = await api.post<PricingRun>('/v1/pricing/refresh').catch((e: Error) => e);
        refresh.disabled = false;
        fill(
          pullStatus,
          r instanceof Error
            ? r.message
            : `Pull ${r.status ?? 'done'}${notesOf(r).length ? `: ${notesOf(r).join('; ')}` : ''}. Reload the page to see held changes it made.`,
        );
      },
    },
    'Pull prices now',
  );
  const pullStatus = h('span', { role: 'status', id: 'pricing-pull-status', class: 'muted' });
  pending.setTools(pullStatus, refresh);
  root.replaceChildren(pending.root, overrides.root, create.root);
  const run = <T>(panel: Panel, load: () => Promise<T>, render: (d: T) => void) =>
    panel.run(ctx.isCurrent, load, render, ctx.onAuthError);
  create.show(overrideForm(ctx));
  await Promise.all([
    run(
      pending,
      () => api.get<List<PendingPrice>>('/v1/pricing/pending?status=pending'),
      (r) => {
        if (!r.data.length)
          return pending.empty('No held changes: every pulled price was applied or there was nothing to hold.');
        pending.show(
          h(
            'div',
            { class: 'scroll' },
            table(
              [
                { label: 'Model', cell: (p) => `${p.provider}/${p.model}` },
                { label: 'Why held', cell: (p) => (Array.isArray(p.reasons) ? p.reasons.join('; ') : '') },
                {
                  label: 'Proposed',
                  cell: (p) =>
                    Object.entries(p.prices ?? {})
                      .map(([u, v]) => `${words(u)} $${typeof v === 'object' ? JSON.stringify(v) : v}`)
                      .join(', '),
                },
                { label: 'Source', cell: (p) => p.source ?? '' },
                { label: 'Since', cell: (p) => ago(p.created_at) },
                {
                  label: '',
                  cell: (p) => [
                    h(
                      'button',
                      {
                        type: 'button',
                        onclick: () =>
                          void api.post(`/v1/pricing/pending/${p.id}/approve`).then(
                            () => reload(ctx),
                            (e) => pending.error(e),
                          ),
                      },
                      'Approve',
                    ),
                    ' ',
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        onclick: () =>
                          void api.post(`/v1/pricing/pending/${p.id}/reject`).then(
                            () => reload(ctx),
                            (e) => pending.error(e),
                          ),
                      },
                      'Reject',
                    ),
                  ],
                },
              ],
              r.data,
              { empty: '' },
            ),
          ),
        );
      },
    ),
    run(
      overrides,
      () => api.get<List<PriceVersion>>('/v1/pricing/overrides'),
      (r) => {
        if (!r.data.length) return overrides.empty("No overrides: every call is priced at the providers' list prices.");
        overrides.show(
          h(
            'div',
            { class: 'scroll' },
            table(
              [
                { label: 'Provider', cell: (o) => o.provider },
                { label: 'Model', cell: (o) => o.model ?? 'every model' },
                { label: 'Kind', cell: (o) => o.kind ?? (o.discount_pct ? 'discount' : 'override') },
                {
                  label: 'Prices',
                  cell: (o) =>
                    o.discount_pct
                      ? `${o.discount_pct}% off`
                      : Object.entries(o.prices ?? {})
                          .map(([u, v]) => `${words(u)} $${typeof v === 'object' ? JSON.stringify(v) : v}`)
                          .join(', '),
                },
                { label: 'From', cell: (o) => String(o.effective_from).slice(0, 10) },
                {
                  label: '',
                  cell: (o) =>
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        onclick: () =>
                          void api.delete(`/v1/pricing/overrides/${o.id}`).then(
                            () => reload(ctx),
                            (e) => overrides.error(e),
                          ),
                      },
                      'Remove',
                    ),
                },
              ],
              r.data,
              { empty: '' },
            ),
          ),
        );
      },
    ),
  ]);
}

const UNITS = ['output_image', 'input_image', 'cached_input_image', 'input_text', 'cached_input_text', 'output_text'];

function overrideForm(ctx: AdminContext): HTMLFormElement {
  const provider = input('provider', { required: true, placeholder: 'openai', list: 'suggest-provider-o' });
  const model = input('model', { placeholder: 'gpt-image-2 (leave empty for a discount)' });
  const rates = Object.fromEntries(
    UNITS.map((u) => [u, input(`prices.${u}`, { inputmode: 'decimal', placeholder: 'per 1M tokens' })]),
  );
  const discount = input('discount_pct', { inputmode: 'decimal', placeholder: 'e.g. 15' });
  const from = input('effective_from', { type: 'datetime-local' });
  const done = h('div', { role: 'status' });
  const fields = [
    { name: 'provider', label: 'Provider', control: provider },
    { name: 'model', label: 'Model', control: model },
    ...UNITS.map((u) => ({ name: `prices.${u}`, label: `${words(u)} (USD per 1M tokens)`, control: rates[u] })),
    { name: 'discount_pct', label: 'Or a discount on every model of the provider (%)', control: discount },
    {
      name: 'effective_from',
      label: 'In effect from (UTC; empty = now)',
      control: from,
      hint: 'A date in the past re-prices the calls since then',
    },
  ];
  return apiForm(
    'override-form',
    [...fields, { name: 'prices', label: '', control: h('div') }],
    'Save override',
    async () => {
      const body: Record<string, unknown> = { provider: provider.value.trim() };
      if (model.value.trim()) body.model = model.value.trim();
      const prices = Object.fromEntries(
        UNITS.filter((u) => rates[u].value.trim()).map((u) => [u, rates[u].value.trim()]),
      );
      if (Object.keys(prices).length) body.prices = prices;
      if (discount.value.trim()) body.discount_pct = discount.value.trim();
      if (from.value) body.effective_from = `${from.value}:00Z`;
      await api.put('/v1/pricing/overrides', body);
      fill(done, 'Saved.');
      setTimeout(() => reload(ctx), 600);
    },
    done,
  );
}

export type { Child };
