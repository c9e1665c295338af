// Audit log: entries newest first (GET /admin/audit) with the filters the API takes (actor, action prefix, target,
// from/to) kept in the URL query, paging by the API's continuation, and "Verify chain" (GET /admin/audit/verify).
import {
  toLocalInput, fromLocalInput,
  html, nothing, render, api, pageHeader, errorView, dataTable, actionButton, badge, when, can, session,
} from '../js/core.js';

export const nav = { label: 'Audit log', path: '/audit', order: 90 };

export const routes = [
  { path: '/audit', title: 'Audit log', view: auditView },
];

/** Roles the admin API lets read the log (GET /admin/audit) and verify its chain (GET /admin/audit/verify). */
const READ_ROLES = ['viewer', 'approver', 'admin'];
const VERIFY_ROLES = ['admin'];
const FILTERS = ['actor', 'action', 'target', 'from', 'to'];
const DEFAULT_PAGE_SIZE = 50;

// A page of the API may hold fewer entries than asked (it reads a bounded number of segments per call), so the view
// follows continuations until it has a page's worth or the log ends, within this many calls.
const MAX_CALLS_PER_PAGE = 10;

async function auditView(ctx) {
  const header = pageHeader('Audit log', 'Every change made through the admin API: who, in which role, what, on what and why. Append-only and hash-chained.');
  if (!can(...READ_ROLES)) {
    return html`${header}<div class="alert info" role="note"><strong>The audit log is not open to your role (${session.role}).</strong>
      <div>It holds every principal's actions and comments across all apps, so it can be read by viewers, approvers and admins only.
      Ask an admin for what you need to know about your own apps.</div></div>`;
  }

  const filters = Object.fromEntries(FILTERS.map(name => [name, ctx.query.get(name) || '']));
  const start = ctx.query.get('continuation') || '';
  // pageSize is passed through from the URL: the API checks it (1 to 200) and its refusal names the field.
  const pageSize = ctx.query.get('pageSize') || '';
  const wanted = /^\d+$/.test(pageSize) ? Number(pageSize) : DEFAULT_PAGE_SIZE;

  let entries = [];
  let continuation = start || null;
  let loadError = null;
  try {
    for (let calls = 0; calls < MAX_CALLS_PER_PAGE && (calls === 0 || entries.length < wanted); calls++) {
      const page = await api.get('/audit', { ...filters, pageSize: calls === 0 ? pageSize || wanted : wanted - entries.length, continuation });
      entries = entries.concat(page.entries);
      continuation = page.continuation;
      if (!continuation) break;
    }
    // A full page with a continuation may be the last one (the API cannot tell without reading on): look one entry
    // ahead so "Older entries" never leads to an empty page.
    if (continuation) {
      let probe = continuation;
      let more = false;
      for (let calls = 0; calls < MAX_CALLS_PER_PAGE && probe && !more; calls++) {
        const next = await api.get('/audit', { ...filters, pageSize: 1, continuation: probe });
        more = next.entries.length > 0;
        probe = next.continuation;
      }
      if (!more && !probe) continuation = null;
    }
  } catch (error) {
    loadError = error;
  }

  const host = document.createElement('div');
  const state = { verification: null, verifyError: null, verifying: false };
  const draw = () => render(template(), host);

  const queryFor = (extra = {}) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...filters, pageSize, ...extra })) if (value) params.set(key, value);
    const text = params.toString();
    return text ? `/audit?${text}` : '/audit';
  };

  function applyFilters(event) {
    event.preventDefault();
    const form = event.target;
    const values = {};
    for (const name of ['actor', 'action', 'target']) values[name] = form.elements[name].value.trim();
    values.from = fromLocalInput(form.elements.from.value);
    values.to = fromLocalInput(form.elements.to.value);
    values.pageSize = pageSize;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(values)) if (value) params.set(key, value);
    const text = params.toString();
    ctx.navigate(text ? `/audit?${text}` : '/audit');
  }

  async function verify() {
    state.verifying = true;
    state.verifyError = null;
    draw();
    try {
      state.verification = await api.get('/audit/verify', { from: filters.from, to: filters.to });
    } catch (error) {
      state.verification = null;
      state.verifyError = error;
    } finally {
      state.verifying = false;
      draw();
    }
  }

  function verificationView() {
    const v = state.verification;
    if (state.verifyError) return errorView(state.verifyError);
    if (!v) return nothing;
    const range = filters.from || filters.to ? ' in the chosen time range' : '';
    return v.intact
      ? html`<div class="alert success audit-verification" role="status"><strong>Chain intact.</strong>
          ${v.checked === 0 ? html`No entries${range} to check.` : html`${v.checked} entries${range} recomputed (sequence ${v.firstSequence}–${v.lastSequence}); every hash matches.`}</div>`
      : html`<div class="alert error audit-verification" role="alert"><strong>Chain broken at sequence ${v.brokenAtSequence}.</strong>
          <div>${v.problem}</div><div class="muted">${v.checked} entries checked (sequence ${v.firstSequence}–${v.lastSequence}).</div></div>`;
  }

  const filtered = FILTERS.some(name => filters[name]);

  function template() {
    return html`${pageHeader('Audit log', 'Every change made through the admin API: who, in which role, what, on what and why. Append-only and hash-chained.',
        actionButton(state.verifying ? 'Verifying…' : 'Verify chain', verify, VERIFY_ROLES, { disabled: state.verifying, kind: 'secondary' }))}
      ${verificationView()}
      <form class="card inline-form audit-filters" @submit=${applyFilters} aria-label="Audit filters">
        <label>Actor <span class="help">exact principal name</span><input name="actor" .value=${filters.actor} autocomplete="off"></label>
        <label>Action <span class="help">prefix, e.g. policy. or app.promoted</span><input name="action" .value=${filters.action} autocomplete="off"></label>
        <label>Target <span class="help">exact, e.g. app:demo or policy:default</span><input name="target" .value=${filters.target} autocomplete="off"></label>
        <label>From<input name="from" type="datetime-local" .value=${toLocalInput(filters.from)}></label>
        <label>To <span class="help">exclusive</span><input name="to" type="datetime-local" .value=${toLocalInput(filters.to)}></label>
        <div class="row"><button type="submit">Filter</button>
          ${filtered ? html`<a class="button secondary" href="/console/audit" data-route>Clear</a>` : nothing}</div>
      </form>
      ${loadError ? errorView(loadError) : html`
        ${dataTable([
          { label: '#', num: true, value: e => e.sequence },
          { label: 'Time', value: e => when(e.at) },
          { label: 'Actor', value: e => html`<a href=${`/console${queryFor({ actor: e.actor, continuation: '' })}`} data-route>${e.actor}</a>` },
          { label: 'Role', value: e => badge(e.role, 'info') },
          { label: 'Action', value: e => html`<code>${e.action}</code>` },
          { label: 'Target', value: e => html`<code>${e.target}</code>` },
          { label: 'Reason', value: e => e.reason || html`<span class="muted">—</span>` },
        ], entries, start ? 'No older entries.' : filtered ? 'No audit entries match these filters.' : 'The audit log is empty: nothing has been changed yet.',
          { label: 'Audit entries', key: e => e.sequence })}
        <div class="row audit-paging">
          ${start ? html`<a class="button secondary" href=${`/console${queryFor()}`} data-route>Newest</a>` : nothing}
          ${continuation ? html`<a class="button secondary" href=${`/console${queryFor({ continuation })}`} data-route>Older entries</a>`
            : entries.length ? html`<span class="muted">End of the log${filtered ? ' for these filters' : ''}.</span>` : nothing}
        </div>`}`;
  }

  draw();
  return html`${host}`;
}
