// The console's shell: sign-in, navigation and the router. Each page module under /console/pages exports
//   routes: [{ path: '/apps/:appId', title: 'App', view: async ctx => template }]
//   nav (optional): { label: 'Apps', path: '/apps', order: 20 }
// A view gets ctx = { params, query (URLSearchParams), refresh(), navigate(path), session } and returns a lit
// template; refresh() runs the view again (after an action). Errors a view throws are shown as the page.
import { html, nothing, render, session, request, ApiError, errorView, setSignedOutHandler, setNavigateHandler, classMap } from './core.js';
import * as overview from '../pages/overview.js';
import * as apps from '../pages/apps.js';
import * as approvals from '../pages/approvals.js';
import * as catalog from '../pages/catalog.js';
import * as workflows from '../pages/workflows.js';
import * as cost from '../pages/cost.js';
import * as tiers from '../pages/tiers.js';
import * as policies from '../pages/policies.js';
import * as telemetry from '../pages/telemetry.js';
import * as audit from '../pages/audit.js';

const modules = [overview, apps, approvals, catalog, workflows, cost, tiers, policies, telemetry, audit];
const base = '/console';
const routes = modules.flatMap(m => m.routes || []).map(route => ({ ...route, pattern: compile(route.path) }));
const navItems = modules.map(m => m.nav).filter(Boolean).sort((a, b) => a.order - b.order);
const root = document.getElementById('app');
// lit renders after what is already there: drop the static "Loading" placeholder first.
root.replaceChildren();
let menuOpen = false;
let sequence = 0;

function compile(path) {
  const names = [];
  const source = path.replace(/\/$/, '').replace(/:([A-Za-z]+)/g, (_, name) => { names.push(name); return '([^/]+)'; });
  return { regex: new RegExp(`^${source || ''}/?$`), names };
}

function match(path) {
  for (const route of routes) {
    const found = route.pattern.regex.exec(path);
    if (found) {
      const params = {};
      route.pattern.names.forEach((name, i) => { params[name] = decodeURIComponent(found[i + 1]); });
      return { route, params };
    }
  }
  return null;
}

function currentPath() {
  const path = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : '/';
  return path || '/';
}

function navigate(path, replace = false) {
  const target = base + path;
  if (replace) history.replaceState(null, '', target); else history.pushState(null, '', target);
  menuOpen = false;
  show();
}

function layout(content, path) {
  const isCurrent = item => item.path === '/' ? path === '/' : path === item.path || path.startsWith(item.path + '/');
  return html`<div class="layout">
    <header class="topbar">
      <button class="menu-toggle" aria-expanded=${menuOpen} aria-controls="nav" @click=${() => { menuOpen = !menuOpen; show(false); }}>Menu</button>
      <a class="brand" href="${base}/" data-route>MicroApps.Orleans</a>
      <div class="who"><span>Signed in as <strong>${session.name}</strong> <span class="badge info">${session.role}</span></span>
        <button @click=${signOut}>Sign out</button></div>
    </header>
    <nav id="nav" class=${classMap({ nav: true, open: menuOpen })} aria-label="Console">
      ${navItems.map(item => html`<a href="${base}${item.path}" data-route class=${isCurrent(item) ? 'current' : ''}
          aria-current=${isCurrent(item) ? 'page' : 'false'}>${item.label}</a>`)}
      ${session.role === 'admin' ? html`<a href="/dashboard/" target="_blank" rel="noopener">Orleans dashboard ↗</a>` : nothing}
    </nav>
    <main class="main" id="main">${content}</main>
  </div>`;
}

let lastContent = html`<p class="loading">Loading…</p>`;

async function show(load = true) {
  const path = currentPath();
  if (!load) { render(layout(lastContent, path), root); return; }
  const found = match(path);
  const run = ++sequence;
  if (!found) {
    lastContent = html`<h1>Not found</h1><p>No console page at <code>${path}</code>.</p>`;
    render(layout(lastContent, path), root);
    return;
  }
  document.title = `${found.route.title} · MicroApps.Orleans`;
  const ctx = {
    params: found.params,
    query: new URLSearchParams(location.search),
    session,
    navigate,
    refresh: () => { if (run === sequence) show(); },
  };
  lastContent = html`<p class="loading">Loading…</p>`;
  render(layout(lastContent, path), root);
  let content;
  try {
    content = await found.route.view(ctx);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    content = html`<h1>${found.route.title}</h1>${errorView(error)}`;
  }
  if (run !== sequence) return;
  lastContent = content;
  render(layout(content, path), root);
  const heading = root.querySelector('main h1');
  if (heading) { heading.tabIndex = -1; }
}

async function signOut() {
  try { await request('DELETE', '/console/session'); } catch { /* signed out either way */ }
  session.name = '';
  session.role = '';
  showSignIn();
}

function showSignIn(error) {
  document.title = 'Sign in · MicroApps.Orleans';
  render(html`<div class="signin"><div class="card">
    <h1>MicroApps.Orleans console</h1>
    <p class="muted">Sign in with your admin token (FrontDoor:AdminToken or a token of FrontDoor:Principals).</p>
    ${error ? errorView(error) : nothing}
    <form class="stack" @submit=${signIn}>
      <label>Admin token<input name="token" type="password" autocomplete="current-password" required autofocus></label>
      <button type="submit">Sign in</button>
    </form></div></div>`, root);
}

async function signIn(event) {
  event.preventDefault();
  const token = event.target.elements.token.value;
  try {
    const who = await request('POST', '/console/session', { token }, { allowUnauthorized: true });
    session.name = who.name;
    session.role = who.role;
    await show();
  } catch (error) {
    showSignIn(error);
  }
}

document.addEventListener('click', event => {
  const anchor = event.target.closest?.('a[data-route]');
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const url = new URL(anchor.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(base)) return;
  event.preventDefault();
  navigate(url.pathname.slice(base.length) + url.search);
});
window.addEventListener('popstate', () => show());
setNavigateHandler(path => navigate(path));
setSignedOutHandler(() => { session.name = ''; session.role = ''; showSignIn(new ApiError(401, { title: 'Signed out', detail: 'Your session has ended; sign in again.' })); });

(async () => {
  try {
    const who = await request('GET', '/console/session', null, { allowUnauthorized: true });
    session.name = who.name;
    session.role = who.role;
    await show();
  } catch (error) {
    showSignIn(error instanceof ApiError && error.status === 401 ? null : error);
  }
})();
