// Shared building blocks of the console's pages. Pages are ES modules under /console/pages that import from here.
// Everything a page shows comes from the admin API (/admin/...), called with the sign-in cookie; every template is
// a lit-html template, which escapes the values it renders.
import { html, nothing, render, svg } from '../lib/lit-html/lit-html.js';
import { repeat } from '../lib/lit-html/directives/repeat.js';
import { ref, createRef } from '../lib/lit-html/directives/ref.js';
import { classMap } from '../lib/lit-html/directives/class-map.js';
import { live } from '../lib/lit-html/directives/live.js';
import { ifDefined } from '../lib/lit-html/directives/if-defined.js';

export { html, nothing, render, svg, repeat, ref, createRef, classMap, live, ifDefined };

/** Who is signed in: { name, role } (role: viewer, author, approver, admin). Set by app.js before any page runs. */
export const session = { name: '', role: '' };

/** Whether the signed-in role is one of roles. */
export function can(...roles) {
  return roles.includes(session.role);
}

/** An admin-API failure: status, title, detail and field errors ({ field: [messages] }) from problem details. */
export class ApiError extends Error {
  constructor(status, problem) {
    const detail = problem?.detail || problem?.title || `The request failed with status ${status}.`;
    super(detail);
    this.status = status;
    this.title = problem?.title || (status >= 500 ? 'Server error' : 'Request refused');
    this.detail = detail;
    this.errors = problem?.errors || {};
    this.problem = problem || {};
  }
}

/** Called when the session has ended (401); app.js shows the sign-in form. */
let onSignedOut = () => {};
export function setSignedOutHandler(handler) { onSignedOut = handler; }

function query(params) {
  if (!params) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach(v => search.append(key, v)); else search.append(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Calls the front door. path is absolute (/admin/..., /console/session, /v1/...). body: an object is sent as JSON,
 * a string as options.contentType (default application/json). Answers parsed JSON, text for non-JSON, null for 204.
 * Throws ApiError with the problem details of a refusal.
 */
export async function request(method, path, body, options = {}) {
  const headers = { 'X-MicroApps-Console': '1', Accept: 'application/json, text/plain, application/yaml' };
  let payload;
  if (body !== undefined && body !== null) {
    if (typeof body === 'string') {
      payload = body;
      headers['Content-Type'] = options.contentType || 'application/json';
    } else {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
  }
  Object.assign(headers, options.headers || {});
  let response;
  try {
    response = await fetch(path + query(options.query), { method, headers, body: payload, credentials: 'same-origin' });
  } catch (error) {
    throw new ApiError(0, { title: 'Front door unreachable', detail: `Could not reach the front door: ${error.message}` });
  }
  const type = response.headers.get('Content-Type') || '';
  const content = response.status === 204 ? null
    : type.includes('json') ? await response.json().catch(() => null)
    : await response.text();
  if (response.ok) return content;
  if (response.status === 401 && !options.allowUnauthorized) onSignedOut();
  throw new ApiError(response.status, typeof content === 'object' ? content : { detail: content || response.statusText });
}

/** The admin API: paths are relative to /admin, e.g. api.get('/apps'), api.post('/apps/x/keys', { label }). */
export const api = {
  get: (path, params) => request('GET', `/admin${path}`, null, { query: params }),
  post: (path, body, options) => request('POST', `/admin${path}`, body ?? {}, options),
  put: (path, body, options) => request('PUT', `/admin${path}`, body ?? {}, options),
  del: (path, options) => request('DELETE', `/admin${path}`, null, options),
};

/** Percent-encodes one path segment: api.get(`/apps/${seg(appId)}`). */
export const seg = value => encodeURIComponent(String(value));

// ---- Navigation ---------------------------------------------------------------------------------------------

let navigateHandler = () => {};
export function setNavigateHandler(handler) { navigateHandler = handler; }

/** Goes to a console path (relative to /console, e.g. '/apps/demo'), keeping history. */
export function navigate(path) { navigateHandler(path); }

/** An in-console link: link('/apps/demo', 'demo'). */
export function link(path, text) {
  return html`<a href="/console${path}" data-route>${text}</a>`;
}

// ---- Formatting ---------------------------------------------------------------------------------------------

/** USD with enough decimals to show small model spend ($0.000105). */
export function money(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return '—';
  const n = Number(value);
  const abs = Math.abs(n);
  const digits = abs === 0 ? 2 : abs < 0.01 ? 6 : abs < 1 ? 4 : 2;
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: digits })}`;
}

export function number(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return '—';
  return Number(value).toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** 0.237 → "23.7%". */
export function percent(fraction, digits = 1) {
  if (fraction === null || fraction === undefined || Number.isNaN(Number(fraction))) return '—';
  return `${(Number(fraction) * 100).toFixed(digits)}%`;
}

/** A timestamp as local date and time, with the ISO value as its tooltip. */
export function when(timestamp) {
  if (!timestamp) return '—';
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return String(timestamp);
  return html`<time datetime=${date.toISOString()} title=${date.toISOString()}>${date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' })}</time>`;
}

/** An ISO time (from the URL) as the value of a datetime-local input, in the browser's time zone; '' when empty or not a time. */
export function toLocalInput(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = n => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * A datetime-local value (browser time zone) as an ISO UTC time for the URL and the API. A value that is not a time
 * is passed on as typed, so the API's error names it.
 */
export function fromLocalInput(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

/** A status word as a coloured badge; kind: ok, warn, bad, info (or guessed from common states). */
export function badge(text, kind) {
  const value = String(text ?? '—');
  const guessed = kind ?? guessKind(value.toLowerCase());
  return html`<span class=${`badge ${guessed}`}>${value}</span>`;
}

function guessKind(value) {
  if (['published', 'active', 'approved', 'passed', 'success', 'healthy', 'allow', 'ok', 'up', 'available', 'cache_hit', 'delivered'].includes(value)) return 'ok';
  if (['rejected', 'failed', 'blocked', 'error', 'suspended', 'retired', 'dead', 'down', 'exceeded', 'timed_out', 'unavailable', 'throttled'].includes(value)) return 'bad';
  if (['submitted', 'canary', 'pending', 'draft', 'warning', 'escalated', 'joining', 'shuttingdown', 'stopping'].includes(value)) return 'warn';
  return 'info';
}

/** A budget gauge: spent of limit, green below 60%, amber to 100%, red past it. */
export function gauge(spent, limit) {
  if (!limit || Number(limit) <= 0) return html`<span class="muted">no budget</span>`;
  const share = Number(spent) / Number(limit);
  const kind = share >= 1 ? 'bad' : share >= 0.6 ? 'warn' : '';
  const width = `${Math.min(100, Math.max(0, share * 100)).toFixed(1)}%`;
  return html`<div class=${`gauge ${kind}`} role="meter" aria-valuemin="0" aria-valuemax=${Number(limit)} aria-valuenow=${Number(spent)}
      aria-label="Budget used" title=${`${money(spent)} of ${money(limit)}`}>
    <div class="bar"><div class="fill" style=${`width:${width}`}></div></div>
    <span class="text">${share > 0 && share < 0.01 ? '<1%' : percent(share, 0)} of ${money(limit)}</span></div>`;
}

// ---- Page pieces --------------------------------------------------------------------------------------------

/** The heading of a page, with an optional subtitle and actions (buttons or links) on the right. */
export function pageHeader(title, subtitle, actions) {
  return html`<div class="page-header"><div><h1>${title}</h1>${subtitle ? html`<p class="subtitle">${subtitle}</p>` : nothing}</div>
    ${actions ? html`<div class="actions">${actions}</div>` : nothing}</div>`;
}

/** A number with a label, for the top of a page. */
export function stat(label, value, hint) {
  return html`<div class="stat"><div class="label">${label}</div><div class="value">${value}</div>${hint ? html`<div class="hint">${hint}</div>` : nothing}</div>`;
}

/** What to show when there is nothing: say what is empty and, where it helps, what to do about it. */
export function emptyState(message, action) {
  return html`<div class="empty" role="note">${message}${action ? html`<div style="margin-top:8px">${action}</div>` : nothing}</div>`;
}

/** An error box for an ApiError (title, detail and each field error) or any Error. */
export function errorView(error) {
  if (!error) return nothing;
  const fields = error instanceof ApiError ? Object.entries(error.errors || {}) : [];
  const title = error instanceof ApiError ? error.title : 'Something went wrong';
  return html`<div class="alert error" role="alert"><strong>${title}</strong>${error.status ? html` <span class="muted">(${error.status})</span>` : nothing}
    ${(error.detail || error.message) !== title ? html`<div>${error.detail || error.message}</div>` : nothing}
    ${fields.length ? html`<ul>${fields.map(([field, messages]) => html`<li><code>${field}</code>: ${[].concat(messages).join(' ')}</li>`)}</ul>` : nothing}</div>`;
}

/**
 * A table. columns: [{ label, value: row => template, num: true for right-aligned numbers }]. rows: array.
 * empty: the message when there are no rows. On phones each row becomes a card.
 */
export function dataTable(columns, rows, empty = 'Nothing here yet.', options = {}) {
  if (!rows || rows.length === 0) return emptyState(empty);
  return html`<div class="table-wrap"><table class="data" aria-label=${ifDefined(options.label)}>
    <thead><tr>${columns.map(c => html`<th class=${c.num ? 'num' : ''} scope="col">${c.label}</th>`)}</tr></thead>
    <tbody>${repeat(rows, (row, i) => options.key ? options.key(row) : i, row => html`<tr>${columns.map(c =>
      html`<td class=${c.num ? 'num' : ''} data-label=${c.label}>${c.value(row)}</td>`)}</tr>`)}</tbody></table></div>`;
}

/**
 * A button that runs an action. It is disabled, with the reason as its tooltip, when the signed-in role is not in
 * roles (the server refuses such calls anyway: this only saves a round trip).
 */
export function actionButton(label, onClick, roles, options = {}) {
  const allowed = !roles || can(...roles);
  const reason = allowed ? options.title : `Your role (${session.role}) cannot do this; it needs ${roles.join(' or ')}.`;
  return html`<button type=${options.type || 'button'} class=${options.kind || ''} ?disabled=${!allowed || options.disabled}
    title=${ifDefined(reason)} @click=${allowed ? onClick : null}>${label}</button>`;
}

/** A form's fields as an object (name → value; checkboxes → boolean; empty strings kept). */
export function formValues(form) {
  const values = {};
  for (const element of form.elements) {
    if (!element.name) continue;
    values[element.name] = element.type === 'checkbox' ? element.checked : element.value;
  }
  return values;
}

/** A short message in the corner; kind: success, error, info. */
export function notify(message, kind = 'success') {
  const host = document.getElementById('toasts');
  if (!host) return;
  const item = document.createElement('div');
  item.className = `alert ${kind} toast`;
  item.textContent = message;
  host.appendChild(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

// ---- Charts (Chart.js, loaded on first use) ------------------------------------------------------------------

let chartLibrary;
function loadChartLibrary() {
  chartLibrary ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/console/lib/chart.js/chart.umd.min.js';
    script.onload = () => resolve(window.Chart);
    script.onerror = () => reject(new Error('could not load the chart library'));
    document.head.appendChild(script);
  });
  return chartLibrary;
}

const charts = new WeakMap();

/**
 * A Chart.js chart: chart({ type: 'line', data: {...}, options: {...} }, 'Spend by day'). The label is the
 * canvas's accessible name; the data should also be shown as a table or figures for readers without the chart.
 */
export function chart(config, label) {
  return html`<div class="chart-box"><canvas role="img" aria-label=${label} ${ref(canvas => {
    if (!canvas) return;
    charts.get(canvas)?.destroy();
    loadChartLibrary().then(Chart => {
      charts.get(canvas)?.destroy();
      charts.set(canvas, new Chart(canvas, {
        ...config,
        options: { responsive: true, maintainAspectRatio: false, animation: false, ...(config.options || {}) },
      }));
    }).catch(error => notify(error.message, 'error'));
  })}></canvas></div>`;
}

/** A palette for chart series, readable on white. */
export const palette = ['#2f5bd3', '#1f8a4c', '#b7791f', '#c53030', '#6b46c1', '#2c7a7b', '#d53f8c', '#4a5568', '#dd6b20', '#38a169'];
