// Telemetry: trace search (GET /admin/traces), one trace (GET /admin/traces/{appId}/{requestId} and its redacted
// prompt sample, GET /admin/traces/{appId}/{requestId}/sample) and the redacted prompt store (GET /admin/prompts/search).
// Filters live in the URL query so every search is bookmarkable; prompt texts are rendered as text by lit (escaped).
import {
  toLocalInput, fromLocalInput,
  html, nothing, render, api, seg, link, pageHeader, emptyState, errorView, dataTable, badge, money, number, when,
  can, session, ApiError, formValues,
} from '../js/core.js';

export const nav = { label: 'Telemetry', path: '/telemetry', order: 80 };

/** Trace outcomes (TraceOutcomes.All) with the badge kind each is shown with. */
const outcomes = {
  success: 'ok', cache_hit: 'ok', blocked: 'bad', throttled: 'bad', invalid: 'warn', unauthorized: 'bad', error: 'bad',
};

/** Quick time ranges of the search forms; 24 h is the admin API's default range. */
const ranges = [
  { value: '1h', label: 'Last hour', ms: 3600e3 },
  { value: '24h', label: 'Last 24 hours', ms: 24 * 3600e3 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 24 * 3600e3 },
  { value: '31d', label: 'Last 31 days', ms: 31 * 24 * 3600e3 },
];

const pageSizes = ['25', '50', '100', '200'];

/** The roles that read the prompt store (GET /admin/prompts/search); authors do not. */
const promptReaders = ['viewer', 'approver', 'admin'];

export const routes = [
  { path: '/telemetry', title: 'Telemetry', view: searchView },
  { path: '/telemetry/traces/:appId/:requestId', title: 'Trace', view: traceView },
  { path: '/telemetry/prompts', title: 'Prompt store', view: promptsView },
];

// ---- Shared pieces --------------------------------------------------------------------------------------------

function tabs(current) {
  const item = (path, label) => path === current
    ? html`<a href="/console${path}" data-route aria-current="page" class="current">${label}</a>`
    : html`<a href="/console${path}" data-route>${label}</a>`;
  return html`<nav class="telemetry-tabs" aria-label="Telemetry sections">${item('/telemetry', 'Traces')}${item('/telemetry/prompts', 'Prompt store')}</nav>`;
}

function outcomeBadge(outcome) {
  return badge(outcome || '—', outcomes[outcome] ?? 'info');
}

/**
 * from/to for the admin API: explicit from/to of the URL win; otherwise the quick range ends now (the server's now:
 * only from is sent). The default 24 h sends neither, so the server's own default applies.
 */
function timeRange(query) {
  const from = query.get('from') || '';
  const to = query.get('to') || '';
  if (from || to) return { from, to };
  const range = ranges.find(r => r.value === query.get('range'));
  if (!range || range.value === '24h') return {};
  return { from: new Date(Date.now() - range.ms).toISOString() };
}

function rangeLabel(query) {
  const from = query.get('from');
  const to = query.get('to');
  if (from || to) return html`from ${from ? when(from) : '24 h before the end'} to ${to ? when(to) : 'now'}`;
  return (ranges.find(r => r.value === query.get('range')) ?? ranges[1]).label.toLowerCase();
}

/** Form values as a URL query: empty fields dropped, datetime-local values converted to ISO UTC. */
function queryOf(form, timeFields = ['from', 'to']) {
  const values = formValues(form);
  const search = new URLSearchParams();
  for (const [key, raw] of Object.entries(values)) {
    const value = timeFields.includes(key) ? fromLocalInput(raw) : String(raw).trim();
    if (value) search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function rangeFields(query) {
  const current = query.get('range') || '24h';
  return html`
    <label>Time range<select name="range">${ranges.map(r => html`<option value=${r.value} ?selected=${r.value === current}>${r.label}</option>`)}</select></label>
    <label>From (overrides the range)<input name="from" type="datetime-local" .value=${toLocalInput(query.get('from'))}></label>
    <label>To<input name="to" type="datetime-local" .value=${toLocalInput(query.get('to'))}></label>`;
}

/**
 * A list that grows with "Load more": first is the first page ({ items, continuationToken }), next(token) fetches the
 * following one. Rendered into its own element so loading more keeps the rows already shown.
 */
function pagedList(first, next, renderItems, [one, many]) {
  const host = document.createElement('div');
  const state = { items: [...first.items], token: first.continuationToken, error: null, busy: false };
  const more = async () => {
    state.busy = true;
    state.error = null;
    draw();
    try {
      const page = await next(state.token);
      state.items.push(...page.items);
      state.token = page.continuationToken;
    } catch (error) {
      state.error = error;
    }
    state.busy = false;
    draw();
  };
  const draw = () => render(html`${renderItems(state.items)}
    ${state.error ? errorView(state.error) : nothing}
    <div class="row paged-footer">
      <span class="muted" role="status">${number(state.items.length)} ${state.items.length === 1 ? one : many} shown${state.token ? '; more match' : ''}</span>
      ${state.token ? html`<button type="button" class="secondary" ?disabled=${state.busy} @click=${more}>${state.busy ? 'Loading more…' : 'Load more'}</button>` : nothing}
    </div>`, host);
  draw();
  return host;
}

/** What a call saved against its baseline (the first model of the route the app asked for), with the saving's kind. */
function saving(trace) {
  if (trace.baselineCostUsd === null || trace.baselineCostUsd === undefined) return html`<span class="muted">—</span>`;
  const amount = Number(trace.baselineCostUsd) - Number(trace.costActualUsd);
  const kind = trace.saving && trace.saving !== 'none' ? html` ${badge(trace.saving, 'info')}` : nothing;
  return html`${money(amount)}${kind}`;
}

const tracePath = t => `/telemetry/traces/${seg(t.appId)}/${seg(t.requestId)}`;

// ---- Trace search ---------------------------------------------------------------------------------------------

const traceFilters = [
  ['app', 'appId'], ['team', 'team'], ['model', 'model'], ['tier', 'tier'], ['outcome', 'outcome'],
  ['promptVersion', 'promptVersion'], ['requestId', 'requestId'], ['pageSize', 'pageSize'],
];

async function searchView(ctx) {
  const q = ctx.query;
  const params = { ...timeRange(q) };
  for (const [urlKey, apiKey] of traceFilters) {
    if (q.get(urlKey)) params[apiKey] = q.get(urlKey);
  }

  const search = event => {
    event.preventDefault();
    ctx.navigate(`/telemetry${queryOf(event.target)}`);
  };

  const form = html`<form class="card inline-form telemetry-filters" role="search" aria-label="Trace filters" @submit=${search}>
    ${rangeFields(q)}
    <label>App<input name="app" .value=${q.get('app') || ''} placeholder="app id" autocomplete="off"></label>
    <label>Team<input name="team" .value=${q.get('team') || ''} autocomplete="off"></label>
    <label>Outcome<select name="outcome">
      <option value="">Any outcome</option>
      ${Object.keys(outcomes).map(o => html`<option value=${o} ?selected=${o === q.get('outcome')}>${o}</option>`)}
    </select></label>
    <label>Model<input name="model" .value=${q.get('model') || ''} autocomplete="off"></label>
    <label>Tier<input name="tier" .value=${q.get('tier') || ''} placeholder="local, standard, premium…" autocomplete="off"></label>
    <label>Prompt version<input name="promptVersion" .value=${q.get('promptVersion') || ''} autocomplete="off"></label>
    <label>Request id<input name="requestId" .value=${q.get('requestId') || ''} autocomplete="off"></label>
    <label>Per page<select name="pageSize">${pageSizes.map(s => html`<option value=${s} ?selected=${s === (q.get('pageSize') || '50')}>${s}</option>`)}</select></label>
    <div class="row"><button type="submit">Search</button>
      <a class="button secondary" href="/console/telemetry" data-route>Clear</a></div>
  </form>`;

  const header = pageHeader('Telemetry', 'Traces of governed model calls: one per call, with its route, cost, outcome and policy decisions.');
  if (!params.pageSize) params.pageSize = '50';
  let first;
  try {
    first = await api.get('/traces', params);
  } catch (error) {
    return html`${header}${tabs('/telemetry')}${form}${errorView(error)}`;
  }

  const filtered = traceFilters.some(([key]) => key !== 'pageSize' && q.get(key));
  const columns = [
    { label: 'Time', value: t => when(t.timestamp) },
    { label: 'App', value: t => link(`/apps/${seg(t.appId)}`, t.appId) },
    { label: 'Request id', value: t => html`<a href="/console${tracePath(t)}" data-route><code>${t.requestId}</code></a>` },
    { label: 'Model', value: t => t.model || html`<span class="muted">—</span>` },
    { label: 'Tier', value: t => t.modelTier || html`<span class="muted">—</span>` },
    { label: 'Outcome', value: t => html`${outcomeBadge(t.outcome)}${t.errorCode ? html` <code class="error-code">${t.errorCode}</code>` : nothing}` },
    { label: 'Tokens in / out', num: true, value: t => `${number(t.tokensIn)} / ${number(t.tokensOut)}` },
    { label: 'Cost', num: true, value: t => money(t.costActualUsd) },
    { label: 'Latency', num: true, value: t => `${number(t.latencyMs)} ms` },
    { label: 'Saving', num: true, value: saving },
  ];
  const empty = filtered ? `No calls in this range match these filters (${rangeText(q)}).` : `No calls in this range (${rangeText(q)}).`;
  const results = first.items.length === 0 && !first.continuationToken
    ? emptyState(empty)
    : pagedList(first, token => api.get('/traces', { ...params, continuationToken: token }),
      items => dataTable(columns, items, empty, { label: 'Traces', key: t => `${t.appId}/${t.requestId}` }), ['call', 'calls']);

  return html`${header}${tabs('/telemetry')}${form}
    <section class="card" aria-label="Results"><h2>Calls <span class="muted">(${rangeLabel(q)}, newest hour first)</span></h2>${results}</section>`;
}

function rangeText(q) {
  const from = q.get('from');
  const to = q.get('to');
  if (from || to) return `${from ? new Date(from).toLocaleString('en-GB') : '…'} to ${to ? new Date(to).toLocaleString('en-GB') : 'now'}`;
  return (ranges.find(r => r.value === q.get('range')) ?? ranges[1]).label.toLowerCase();
}

// ---- One trace ------------------------------------------------------------------------------------------------

/** "{id} {action}[:tier] applied|overridden: {why}" (PolicyStep) → parts; anything else is shown whole. */
function parseMatch(text) {
  const found = /^(\S+) (\S+) (applied|overridden): ([\s\S]*)$/.exec(text);
  if (!found) return { raw: text };
  const [action, tier] = found[2].split(':');
  return { id: found[1], action, tier, applied: found[3] === 'applied', why: found[4] };
}

const actionKinds = { allow: 'ok', block: 'bad', route: 'info', redact: 'warn', sample: 'info', require_approval: 'warn' };

function fact(label, value) {
  return html`<div><dt>${label}</dt><dd>${value ?? html`<span class="muted">—</span>`}</dd></div>`;
}

async function traceView(ctx) {
  const { appId, requestId } = ctx.params;
  const trace = await api.get(`/traces/${seg(appId)}/${seg(requestId)}`);
  const sample = await loadSample(appId, requestId);

  const matches = (trace.policyMatches || []).map(parseMatch);
  const decisions = trace.decisions || [];
  const [policyAction, ...policyRest] = (trace.policy || '').split(':');
  const savingAmount = trace.baselineCostUsd === null || trace.baselineCostUsd === undefined
    ? null : Number(trace.baselineCostUsd) - Number(trace.costActualUsd);
  const cache = trace.cacheHit
    ? (trace.saving === 'near_duplicate' ? badge('near-duplicate hit', 'ok') : badge('exact hit', 'ok'))
    : decisions.includes('cache:bypass') ? html`<span class="muted">bypassed</span>` : html`<span class="muted">miss</span>`;

  return html`${pageHeader('Trace', html`<code>${trace.appId}</code> · request <code>${trace.requestId}</code>`,
      html`${link(`/telemetry?app=${encodeURIComponent(trace.appId)}`, 'All calls of this app')} ${link(`/apps/${seg(trace.appId)}`, 'App')}`)}
    ${tabs('')}
    <div class="grid four trace-stats">
      <div class="stat"><div class="label">Outcome</div><div class="value">${outcomeBadge(trace.outcome)}</div>
        ${trace.errorCode ? html`<div class="hint">error code <code class="error-code">${trace.errorCode}</code></div>` : nothing}</div>
      <div class="stat"><div class="label">Tokens in / out</div><div class="value">${number(trace.tokensIn)} / ${number(trace.tokensOut)}</div></div>
      <div class="stat"><div class="label">Cost</div><div class="value">${money(trace.costActualUsd)}</div><div class="hint">estimated ${money(trace.costEstimateUsd)}</div></div>
      <div class="stat"><div class="label">Latency</div><div class="value">${number(trace.latencyMs)} ms</div></div>
    </div>

    <div class="grid two">
      <section class="card" aria-label="Route">
        <h2>Route</h2>
        <dl class="trace-facts">
          ${fact('Tier', trace.modelTier || null)}
          ${fact('Model', trace.model || null)}
          ${fact('Route', trace.route ? html`<code>${trace.route}</code>` : null)}
          ${fact('Query type', trace.queryType)}
          ${fact('Route reason', trace.routeReason ? html`<span class="prose">${trace.routeReason}</span>` : null)}
          ${fact('Cache', cache)}
          ${fact('Baseline cost', trace.baselineCostUsd === null || trace.baselineCostUsd === undefined ? null : money(trace.baselineCostUsd))}
          ${fact('Actual cost', money(trace.costActualUsd))}
          ${fact('Saving', savingAmount === null ? null : html`${money(savingAmount)} ${trace.saving ? badge(trace.saving, trace.saving === 'none' ? 'info' : 'ok') : nothing}`)}
        </dl>
      </section>

      <section class="card" aria-label="Policy decisions">
        <h2>Policy decisions</h2>
        <dl class="trace-facts">
          ${fact('Decision', trace.policy ? html`${badge(policyAction, actionKinds[policyAction] ?? 'info')} <code>${policyRest.join(':')}</code>` : html`<span class="muted">not evaluated (the call ended before policies ran)</span>`)}
          ${fact('Policy set version', trace.policyVersion ? `v${trace.policyVersion}` : html`<span class="muted">none published</span>`)}
          ${fact('PII found', trace.piiClasses === null || trace.piiClasses === undefined ? html`<span class="muted">not scanned</span>`
            : trace.piiClasses.length === 0 ? 'none' : html`${trace.piiClasses.map(c => html`${badge(c, 'warn')} `)}`)}
        </dl>
        <h3>Matching policies, in document order</h3>
        ${matches.length === 0 ? html`<p class="muted">No policy matched this call.</p>` : html`<ol class="policy-matches" aria-label="Matching policies">
          ${matches.map(m => m.raw ? html`<li><code>${m.raw}</code></li>` : html`<li>
            ${badge(m.action, actionKinds[m.action] ?? 'info')} <code>${m.id}</code>${m.tier ? html` → ${m.tier}` : nothing}
            <span class=${m.applied ? 'applied' : 'muted'}>${m.applied ? 'applied' : 'overridden'}</span>
            <div class="muted why">${m.why}</div></li>`)}</ol>`}
      </section>
    </div>

    <section class="card" aria-label="Governed call steps">
      <h2>Governed call steps</h2>
      <p class="muted">Every decision of the call's pipeline, in the order it was taken (admission, PII scan, policy, route, budget, cache, backend).</p>
      ${decisions.length === 0 ? html`<p class="muted">No steps recorded.</p>`
        : html`<ol class="decisions" aria-label="Pipeline decisions">${decisions.map(d => html`<li><code>${d}</code></li>`)}</ol>`}
    </section>

    <section class="card" aria-label="Call details">
      <h2>Details</h2>
      <dl class="trace-facts">
        ${fact('Time', when(trace.timestamp))}
        ${fact('App', link(`/apps/${seg(trace.appId)}`, trace.appId))}
        ${fact('Team', trace.team || null)}
        ${fact('Request id', html`<code>${trace.requestId}</code>`)}
        ${fact('Prompt version', trace.promptVersion || null)}
        ${fact('Prompt hash', trace.promptHash ? html`<code>${trace.promptHash}</code>` : null)}
        ${fact('Business metric', trace.bizMetric ? html`<code>${trace.bizMetric}</code>` : html`<span class="muted">no feedback reported</span>`)}
        ${trace.feedback ? fact('Feedback', feedbackText(trace.feedback)) : nothing}
      </dl>
    </section>

    <section class="card" aria-label="Prompt sample">
      <h2>Prompt sample</h2>
      ${sample}
    </section>`;
}

function feedbackText(feedback) {
  const parts = [];
  if (feedback.thumbs) parts.push(html`${badge(`thumbs ${feedback.thumbs}`, feedback.thumbs === 'up' ? 'ok' : 'bad')}`);
  if (feedback.label) parts.push(html`label <code>${feedback.label}</code>`);
  if (feedback.converted !== null && feedback.converted !== undefined) parts.push(html`converted: ${feedback.converted ? 'yes' : 'no'}`);
  if (feedback.value !== null && feedback.value !== undefined) parts.push(html`value ${number(feedback.value, 4)}`);
  return html`${parts.map((p, i) => html`${i ? ' · ' : ''}${p}`)} <span class="muted">(reported ${when(feedback.reportedAt)})</span>`;
}

/** The trace's redacted prompt sample, or why there is none. */
async function loadSample(appId, requestId) {
  if (!can(...promptReaders)) {
    return html`<p class="muted">The prompt store is read by viewers, approvers and admins; your role (${session.role}) does not read it.</p>`;
  }
  try {
    const sample = await api.get(`/traces/${seg(appId)}/${seg(requestId)}/sample`);
    return sampleBody(sample);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      return html`<p class="muted">No prompt sample is stored for this call. Only a hash of the prompt is kept unless the app opts in
        to prompt sampling (<code>promptSampleShare</code>), and then only for the sampled share of its calls, redacted.</p>`;
    }
    return errorView(error);
  }
}

function sampleBody(sample) {
  return html`<div class="sample">
    ${sample.piiClasses?.length ? html`<p>PII redacted: ${sample.piiClasses.map(c => html`${badge(c, 'warn')} `)}</p>` : html`<p class="muted">No PII found.</p>`}
    <h3>Prompt (redacted)</h3><pre class="sample-text" aria-label="Redacted prompt">${sample.redactedPrompt}</pre>
    <h3>Response (redacted)</h3>${sample.redactedResponse
      ? html`<pre class="sample-text" aria-label="Redacted response">${sample.redactedResponse}</pre>`
      : html`<p class="muted">No response (the call was refused or failed).</p>`}
  </div>`;
}

// ---- Prompt store ---------------------------------------------------------------------------------------------

async function promptsView(ctx) {
  const q = ctx.query;
  const header = pageHeader('Prompt store', 'Redacted prompts and responses of apps that opted in to prompt sampling (promptSampleShare). PII is replaced by [REDACTED:class] before anything is stored.');
  if (!can(...promptReaders)) {
    return html`${header}${tabs('/telemetry/prompts')}${emptyState(`The prompt store holds the (redacted) words of every app's users: it is read by viewers, approvers and admins. Your role (${session.role}) does not read it.`)}`;
  }

  const search = event => {
    event.preventDefault();
    ctx.navigate(`/telemetry/prompts${queryOf(event.target)}`);
  };
  const text = q.get('q') || '';
  const form = html`<form class="card inline-form telemetry-filters" role="search" aria-label="Prompt search" @submit=${search}>
    <label class="wide">Text to find<input name="q" .value=${text} required maxlength="200" placeholder="words of a prompt or response, e.g. refund or [REDACTED:email]" autocomplete="off"></label>
    <label>App<input name="app" .value=${q.get('app') || ''} placeholder="app id" autocomplete="off"></label>
    <label>Team<input name="team" .value=${q.get('team') || ''} autocomplete="off"></label>
    ${rangeFields(q)}
    <div class="row"><button type="submit">Search prompts</button>
      <a class="button secondary" href="/console/telemetry/prompts" data-route>Clear</a></div>
  </form>`;

  if (!text.trim()) {
    return html`${header}${tabs('/telemetry/prompts')}${form}${emptyState('Enter text to find in the stored prompts and responses (case-insensitive).')}`;
  }

  const params = { q: text, appId: q.get('app') || undefined, team: q.get('team') || undefined, pageSize: '25', ...timeRange(q) };
  let first;
  try {
    first = await api.get('/prompts/search', params);
  } catch (error) {
    return html`${header}${tabs('/telemetry/prompts')}${form}${errorView(error)}`;
  }

  const empty = `No stored prompt or response contains "${text}" (${rangeText(q)}). Only apps that opt in to prompt sampling are stored.`;
  const results = first.items.length === 0 && !first.continuationToken
    ? emptyState(empty)
    : pagedList(first, token => api.get('/prompts/search', { ...params, continuationToken: token }),
      items => html`<ul class="samples" aria-label="Prompt samples">${items.map(s => html`<li class="card">
        <div class="row sample-meta">${when(s.timestamp)} · ${link(`/apps/${seg(s.appId)}`, s.appId)}${s.model ? html` · ${s.model}` : nothing}
          · ${link(tracePath(s), 'trace')}</div>
        ${sampleBody(s)}</li>`)}</ul>`, ['sample', 'samples']);

  return html`${header}${tabs('/telemetry/prompts')}${form}
    <section aria-label="Results"><h2>Samples <span class="muted">(${rangeLabel(q)}, newest first)</span></h2>${results}</section>`;
}
