/**
 * The TokenTally dashboard: sign in with a key, then the overview, the events
 * explorer, month close and the admin pages, all driven by the state in the
 * URL. Bundled by esbuild (libs/reporting/src/dashboard/build-web.js) with
 * Chart.js into one same-origin script: no CDN, no inline script.
 */
import { api, ApiError, session } from './api';
import type { List, Me, Project } from './api-types';
import { renderAdmin } from './admin';
import { createControls } from './controls';
import { $, h } from './dom';
import { renderExplorer } from './explorer';
import { renderMonth } from './month';
import { renderOverview } from './overview';
import { readState, State, stateUrl, urlProblems } from './state';

interface Identity {
  role: string;
  /** The projects the key may read, id to name. */
  projects: Map<string, string>;
  /** Whether the key is limited to those projects (a scoped viewer key). */
  scoped: boolean;
}

let identity: Identity | null = null;
let generation = 0;
let state: State = readState();

const controls = createControls(
  $<HTMLFormElement>('controls'),
  (next) => navigate(next),
  () => identity?.projects ?? new Map(),
  () => identity?.scoped ?? false,
);

/** Who the key is: its role, and the names of the projects it can read. */
async function identify(): Promise<Identity> {
  try {
    const me = await api.get<Me>('/v1/me');
    const projects: Array<{ id: string; name: string }> = me.projects ?? [];
    return {
      role: me.role,
      projects: new Map(projects.map((p) => [p.id, p.name])),
      scoped: Array.isArray(me.project_ids),
    };
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
  }
  // An older server without /v1/me: an admin key can list projects, a viewer cannot.
  try {
    const projects = await api.get<List<Project>>('/v1/projects');
    return { role: 'admin', projects: new Map(projects.data.map((p) => [p.id, p.name])), scoped: false };
  } catch (error) {
    if (error instanceof ApiError && error.status === 403)
      return { role: 'viewer', projects: new Map(), scoped: false };
    throw error;
  }
}

function navigate(patch: Partial<State> | State, replace = false): void {
  state = { ...state, ...patch };
  const url = stateUrl(state);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  void render();
}

function onAuthError(error: ApiError): void {
  signOut(
    error.status === 403
      ? 'That key cannot read reports (it needs the viewer or admin role).'
      : 'That key was not accepted (unknown or revoked). Paste another.',
  );
}

async function render(): Promise<void> {
  const mine = ++generation;
  const isCurrent = () => mine === generation;
  document.body.dataset.loaded = 'false';
  document.body.dataset.view = state.view;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    if (link.dataset.view === state.view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  controls.render(state);
  // A hand-edited URL value that could not be used is marked beside its control.
  if (urlProblems.length) controls.markErrors(urlProblems);
  const root = $('view');
  const onControlErrors = (e: ApiError) => isCurrent() && controls.markErrors(e.errors);
  const common = { state, isCurrent, onAuthError, onControlErrors };
  const titles: Record<string, string> = {
    overview: 'Overview',
    events: 'Events',
    month: 'Month close',
    admin: 'Admin',
  };
  document.title = `${titles[state.view]} · TokenTally`;
  try {
    if (state.view === 'events')
      await renderExplorer(root, { ...common, navigate, projectNames: () => identity?.projects ?? new Map() });
    else if (state.view === 'month') await renderMonth(root, { ...common, navigate });
    else if (state.view === 'admin')
      await renderAdmin(root, {
        ...common,
        isAdmin: identity?.role === 'admin',
        navigate,
        projectsChanged: () => void refreshIdentity(),
      });
    else await renderOverview(root, { ...common, drill: (extra) => navigate({ ...extra, view: 'events' }) });
  } catch (error) {
    // A page that cannot be drawn says so and keeps the controls and the sign-out; it never blanks.
    if (isCurrent())
      root.replaceChildren(
        h(
          'div',
          { class: 'banner bad', role: 'alert', id: 'page-error' },
          'This page could not be drawn: ',
          error instanceof Error ? error.message : String(error),
          '. Change the controls above or open the overview.',
        ),
      );
  }
  if (isCurrent()) document.body.dataset.loaded = 'true';
}

async function refreshIdentity(): Promise<void> {
  identity = await identify();
}

function show(signedIn: boolean): void {
  $('signin').hidden = signedIn;
  $('app').hidden = !signedIn;
  $('nav').hidden = !signedIn;
  $('who').hidden = !signedIn;
}

function signOut(message?: string): void {
  generation++;
  session.signOut();
  identity = null;
  show(false);
  // The key leaves the page with the session: the field does not keep it for the next person.
  $<HTMLInputElement>('key').value = '';
  const error = $('signin-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  $('key').focus();
}

async function start(): Promise<void> {
  try {
    identity = await identify();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return onAuthError(error);
    $('signin-error').hidden = false;
    $('signin-error').textContent = error instanceof Error ? error.message : String(error);
    return;
  }
  if (identity.role === 'ingest')
    return signOut('That is an ingest key: it sends events. Sign in with a viewer or admin key to read them.');
  $('signin-error').hidden = true;
  $('signin-error').textContent = '';
  show(true);
  const scoped = identity.scoped ? ` · only ${[...identity.projects.values()].join(', ')}` : '';
  $('who-role').replaceChildren(h('span', { class: 'role' }, `${identity.role} key${scoped}`));
  for (const link of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    link.hidden = link.dataset.view === 'admin' && identity.role !== 'admin';
  }
  await render();
}

$('signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  session.signIn($<HTMLInputElement>('key').value.trim());
  void start();
});
$('signout').addEventListener('click', () => signOut());
$('nav').addEventListener('click', (event) => {
  const link = (event.target as HTMLElement).closest('a');
  if (!link?.dataset.view) return;
  event.preventDefault();
  // A page from the menu starts from the filters and period, without the last drill-down.
  navigate({ view: link.dataset.view as State['view'], at: null, pricing: '', imageSize: null, imageQuality: null });
});
window.addEventListener('popstate', () => {
  state = readState();
  void render();
});

if (session.key()) void start();
else show(false);
