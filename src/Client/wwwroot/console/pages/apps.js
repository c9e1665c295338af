// Apps: the list of every app (status, version, release channel, spend and budget) and one app's page (summary,
// versions with their gates and lifecycle actions, keys, quotas, suspend/resume, recent calls, spend, manifest).
// Everything comes from the admin API; every action is the admin API's, which decides and refuses (the buttons are
// disabled for roles the endpoint does not allow, to save a round trip). Refusals are shown next to the action.
import {
  html, nothing, render, api, request, seg, link, pageHeader, stat, emptyState, errorView, dataTable, actionButton,
  badge, gauge, money, number, percent, when, notify, formValues, createRef, ref,
} from '../js/core.js';

export const nav = { label: 'Apps', path: '/apps', order: 20 };

// Roles each endpoint allows (its .AllowRoles in src/Client/Admin).
const ROLES = {
  submit: ['author', 'admin'],
  canary: ['approver', 'admin'],
  promote: ['approver', 'admin'],
  rollback: ['approver', 'admin'],
  keys: ['author', 'admin'],
  quotas: ['admin'],
  lifecycle: ['admin'],
};

/** How many recent calls the app page shows, and how far back it looks for them. */
const RECENT_CALLS = 20;
const RECENT_DAYS = 7;

/** Versions whose gates the app page loads (the newest ones). */
const VERSIONS_SHOWN = 10;

/** A key issued on this page, shown once by the next render of that app's page and then forgotten. */
let issuedKey = null;

export const routes = [
  { path: '/apps', title: 'Apps', view: listView },
  { path: '/apps/:appId', title: 'App', view: appView },
];

// ---- The list ---------------------------------------------------------------------------------------------

function matches(app, filter) {
  if (!filter) return true;
  const needle = filter.toLowerCase();
  return [app.appId, app.name, app.team, app.owner].some(v => String(v ?? '').toLowerCase().includes(needle));
}

/** Lifecycle (active, suspended, retired) and, when nothing is published yet, the state of the newest version. */
function status(app) {
  if (app.lifecycle !== 'active') return badge(app.lifecycle);
  if (app.release?.publishedVersion == null) return html`${badge('active', 'info')} ${badge(app.state ?? 'draft')}`;
  return badge('active');
}

/** The published version and the canary beside it with its share. */
function release(app) {
  const r = app.release;
  const published = r?.publishedVersion != null ? html`<span>v${r.publishedVersion}</span>` : html`<span class="muted">none published</span>`;
  const newest = app.versions?.length ? Math.max(...app.versions.map(v => v.version)) : null;
  const canary = r?.canaryVersion != null ? html` ${badge(`canary v${r.canaryVersion} · ${percent(r.canaryShare, 0)}`, 'warn')}` : nothing;
  const pending = newest != null && newest !== r?.publishedVersion && newest !== r?.canaryVersion
    ? html` <span class="muted">(newest v${newest} ${app.versions.find(v => v.version === newest)?.state})</span>` : nothing;
  return html`${published}${canary}${pending}`;
}

async function listView(ctx) {
  const filter = (ctx.query.get('q') || '').trim();
  const apps = await api.get('/apps');
  const shown = apps.filter(app => matches(app, filter));
  const newApp = link('/catalog', 'Create an app from a template');

  const onFilter = event => {
    event.preventDefault();
    const q = formValues(event.target).q.trim();
    ctx.navigate(q ? `/apps?q=${encodeURIComponent(q)}` : '/apps');
  };

  const columns = [
    { label: 'App', value: a => html`${link(`/apps/${seg(a.appId)}`, a.name || a.appId)}<div class="muted"><code>${a.appId}</code></div>` },
    { label: 'Status', value: status },
    { label: 'Version', value: release },
    { label: 'Spend', num: true, value: a => money(a.spentUsd) },
    { label: 'Budget', value: a => gauge(a.spentUsd, a.budgetConfigured ? a.limitUsd : 0) },
    { label: 'Owner / team', value: a => html`${a.owner}<div class="muted">${a.team}</div>` },
  ];

  let body;
  if (apps.length === 0) {
    body = emptyState('No apps yet — create one from a template in the catalog.', newApp);
  } else if (shown.length === 0) {
    body = emptyState(html`No app matches <strong>${filter}</strong>.`, link('/apps', 'Show every app'));
  } else {
    body = dataTable(columns, shown, 'No apps.', { label: 'Apps', key: a => a.appId });
  }

  return html`${pageHeader('Apps', `${apps.length} app${apps.length === 1 ? '' : 's'}${filter ? `, ${shown.length} shown` : ''}`, newApp)}
    <form class="inline-form apps-filter" role="search" @submit=${onFilter}>
      <label>Filter by id, name, team or owner<input name="q" type="search" .value=${filter} placeholder="e.g. finance"></label>
      <button type="submit">Filter</button>
      ${filter ? link('/apps', 'Clear') : nothing}
    </form>
    ${body}`;
}

// ---- One app ----------------------------------------------------------------------------------------------

/**
 * Runs an action: clears the error slot, calls the API, and on success notifies and re-runs the view; on refusal
 * shows the API's problem details in the slot next to the action that caused it.
 */
function runner(ctx, slot, call, success) {
  return async event => {
    event?.preventDefault?.();
    if (slot.value) render(nothing, slot.value);
    try {
      const answer = await call(event);
      notify(typeof success === 'function' ? success(answer) : success);
      ctx.refresh();
    } catch (error) {
      if (slot.value) render(errorView(error), slot.value); else notify(error.message, 'error');
    }
  };
}

// A fresh callback each render, so a re-render (after any action) also clears an earlier refusal shown in the slot.
const errorSlot = slot => html`<div class="action-error" ${ref(element => {
  if (element) { slot.value = element; render(nothing, element); }
})}></div>`;

function gatesView(gates) {
  if (!gates?.length) return html`<span class="muted">not run</span>`;
  return html`<div class="row">${gates.map(g => html`<span class=${`badge ${g.passed ? 'ok' : 'bad'}`} title=${g.detail}>${g.gate} ${g.passed ? '✓' : '✗'}</span>`)}</div>
    ${gates.filter(g => !g.passed).map(g => html`<div class="muted small">${g.gate}: ${g.detail}</div>`)}`;
}

function versionActions(ctx, app, v) {
  const base = `/apps/${seg(app.appId)}/versions/${v.version}`;
  const slot = createRef();
  const actions = [];
  if (v.state === 'draft') {
    actions.push(actionButton(`Submit v${v.version}`, runner(ctx, slot, () => api.post(`${base}/submit`),
      s => `Version ${v.version} submitted: ${s.outcome} (${s.state}).`), ROLES.submit));
  }
  if (v.state === 'approved') {
    const startCanary = runner(ctx, slot, event => {
      const share = Number(formValues(event.target).share) / 100;
      return api.post(`${base}/canary`, { share });
    }, a => `Version ${v.version} is the canary for ${percent(a.release?.canaryShare, 0)} of callers.`);
    actions.push(html`<form class="inline-form canary-form" @submit=${startCanary}>
      <label>Canary share of v${v.version} (%)<input name="share" type="number" min="1" max="100" step="1" value="10" required></label>
      ${actionButton(`Start canary v${v.version}`, () => {}, ROLES.canary, { type: 'submit', kind: 'secondary' })}</form>`);
  }
  if (v.state === 'approved' || v.state === 'canary') {
    actions.push(actionButton(`Promote v${v.version}`, runner(ctx, slot, () => api.post(`${base}/promote`),
      `Version ${v.version} is published.`), ROLES.promote));
  }
  if (v.state === 'submitted') {
    actions.push(html`<span class="muted">waiting for an approver (${link('/approvals', 'approvals')})</span>`);
  }
  return html`<div class="row">${actions.length ? actions : html`<span class="muted">—</span>`}</div>${errorSlot(slot)}`;
}

function versionsCard(ctx, app, versions) {
  const r = app.release || {};
  const slot = createRef();
  const rollback = runner(ctx, slot, event => api.post(`/apps/${seg(app.appId)}/rollback`, { reason: formValues(event.target).reason }),
    a => `Rolled back: version ${a.release?.publishedVersion ?? 'none'} serves.`);
  const what = r.canaryVersion != null ? `Withdraw the canary v${r.canaryVersion}` : r.publishedVersion != null ? `Roll back v${r.publishedVersion}` : null;
  const columns = [
    { label: 'Version', value: v => html`<strong>v${v.version}</strong>${v.version === r.publishedVersion ? html` ${badge('current', 'ok')}` : nothing}` },
    { label: 'State', value: v => html`${badge(v.state)}${v.version === r.canaryVersion ? html` <span class="muted">${percent(r.canaryShare, 0)} of callers</span>` : nothing}` },
    { label: 'Author', value: v => html`${v.author}<div class="muted">${when(v.createdAt)}</div>` },
    { label: 'Gates', value: v => gatesView(v.gates) },
    { label: 'Approval', value: v => v.approval ? html`${badge(v.approval.approved ? 'approved' : 'rejected')} ${v.approval.automatic ? 'automatic' : v.approval.approver}
        ${v.approval.comment ? html`<div class="muted">“${v.approval.comment}”</div>` : nothing}` : html`<span class="muted">—</span>` },
    { label: 'Actions', value: v => versionActions(ctx, app, v) },
  ];
  return html`<section class="card" aria-labelledby="versions-heading">
    <h2 id="versions-heading">Versions</h2>
    <p class="muted">Current version: <strong class="current-version">${r.publishedVersion != null ? `v${r.publishedVersion}` : 'none published'}</strong>
      ${r.canaryVersion != null ? html` · canary <strong>v${r.canaryVersion}</strong> takes ${percent(r.canaryShare, 0)} of production callers` : nothing}</p>
    ${dataTable(columns, versions, 'No versions yet.', { label: 'Versions', key: v => v.version })}
    ${what ? html`<form class="inline-form" @submit=${rollback}>
        <label>Reason for the rollback<input name="reason" required maxlength="500" placeholder="why the release goes back"></label>
        ${actionButton(what, () => {}, ROLES.rollback, { type: 'submit', kind: 'danger' })}
      </form>${errorSlot(slot)}` : nothing}
  </section>`;
}

function copyKey(input) {
  return async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      notify('Key copied.');
    } catch {
      input.select();
      notify(document.execCommand('copy') ? 'Key copied.' : 'Select the key and copy it.', 'info');
    }
  };
}

function keysCard(ctx, app) {
  const id = seg(app.appId);
  const issueSlot = createRef();
  const issue = runner(ctx, issueSlot, async event => {
    const label = formValues(event.target).label.trim();
    const issued = await api.post(`/apps/${id}/keys`, label ? { label } : {});
    issuedKey = { appId: app.appId, ...issued };
    return issued;
  }, k => `Key ${k.keyId} issued.`);

  // Shown once: the page forgets the key as soon as it has shown it.
  const fresh = issuedKey?.appId === app.appId ? issuedKey : null;
  issuedKey = null;
  const keyInput = createRef();

  const revokeSlot = createRef();
  const columns = [
    { label: 'Kind', value: k => badge(k.kind, k.kind === 'production' ? 'info' : 'warn') },
    { label: 'Label', value: k => k.label || html`<span class="muted">—</span>` },
    { label: 'Key id', value: k => html`<code>${k.keyId}</code>${k.holder ? html`<div class="muted">held by ${k.holder}${k.pinnedVersion != null ? `, pinned to v${k.pinnedVersion}` : ''}</div>` : nothing}` },
    { label: 'Created', value: k => when(k.createdAt) },
    { label: 'State', value: k => k.revokedAt ? html`${badge('revoked', 'bad')} <span class="muted">${when(k.revokedAt)}</span>` : badge('active') },
    { label: 'Actions', value: k => {
      if (k.revokedAt) return html`<span class="muted">—</span>`;
      const revoke = runner(ctx, revokeSlot, () => api.del(`/apps/${id}/keys/${seg(k.keyId)}`), `Key ${k.keyId} revoked.`);
      return actionButton(`Revoke ${k.keyId}`, () => {
        if (confirm(`Revoke key ${k.keyId} (${k.label})? Calls with it are refused from now on.`)) revoke();
      }, ROLES.keys, { kind: 'danger' });
    } },
  ];

  return html`<section class="card" aria-labelledby="keys-heading">
    <h2 id="keys-heading">Keys</h2>
    ${fresh ? html`<div class="alert success new-key" role="status">
        <strong>New key ${fresh.keyId}.</strong> Copy it now: it is shown only this once and cannot be read again.
        <div class="row key-row"><input readonly aria-label="New API key" .value=${fresh.apiKey} ${ref(keyInput)} @focus=${e => e.target.select()}>
          <button type="button" class="secondary" @click=${() => copyKey(keyInput.value)()}>Copy</button></div></div>` : nothing}
    ${dataTable(columns, app.keys, 'No keys yet: issue one so the app can call the front door.', { label: 'Keys', key: k => k.keyId })}
    ${errorSlot(revokeSlot)}
    <form class="inline-form" @submit=${issue}>
      <label>Label of the new key<input name="label" maxlength="100" placeholder="e.g. production"></label>
      ${actionButton('Issue key', () => {}, ROLES.keys, { type: 'submit' })}
    </form>${errorSlot(issueSlot)}
  </section>`;
}

function quotasCard(ctx, app) {
  const slot = createRef();
  const save = runner(ctx, slot, event => {
    const values = formValues(event.target);
    return api.put(`/apps/${seg(app.appId)}/quotas`, {
      requestsPerMinute: values.requestsPerMinute === '' ? null : Number(values.requestsPerMinute),
      tokensPerDay: values.tokensPerDay === '' ? null : Number(values.tokensPerDay),
    });
  }, 'Quotas saved.');
  return html`<section class="card" aria-labelledby="quotas-heading">
    <h2 id="quotas-heading">Quotas</h2>
    <p class="muted">0 means no limit of that kind; the platform policy's quotas still apply.</p>
    <form class="inline-form" @submit=${save}>
      <label>Requests per minute<input name="requestsPerMinute" type="number" min="0" step="1" .value=${String(app.quotas.requestsPerMinute)}></label>
      <label>Tokens per day<input name="tokensPerDay" type="number" min="0" step="1" .value=${String(app.quotas.tokensPerDay)}></label>
      ${actionButton('Save quotas', () => {}, ROLES.quotas, { type: 'submit' })}
    </form>${errorSlot(slot)}
  </section>`;
}

function callsCard(app, traces) {
  const cost = traces.reduce((sum, t) => sum + Number(t.costActualUsd || 0), 0);
  const columns = [
    { label: 'Time', value: t => link(`/telemetry/traces/${seg(t.appId)}/${seg(t.requestId)}`, when(t.timestamp)) },
    { label: 'Model', value: t => t.model || html`<span class="muted">—</span>` },
    { label: 'Tier', value: t => t.modelTier || html`<span class="muted">—</span>` },
    { label: 'Outcome', value: t => html`${badge(t.outcome)}${t.errorCode ? html` <span class="muted">${t.errorCode}</span>` : nothing}` },
    { label: 'Tokens', num: true, value: t => `${number(t.tokensIn)} / ${number(t.tokensOut)}` },
    { label: 'Cost', num: true, value: t => money(t.costActualUsd) },
  ];
  return html`<section class="card" aria-labelledby="calls-heading">
    <h2 id="calls-heading">Recent calls</h2>
    <p class="muted">The last ${RECENT_CALLS} calls of the past ${RECENT_DAYS} days${traces.length ? html`: <span class="recent-cost">${money(cost)}</span> together` : ''}.
      ${link(`/telemetry?app=${encodeURIComponent(app.appId)}`, 'Search every trace')}</p>
    ${dataTable(columns, traces, 'No calls in the past week.', { label: 'Recent calls', key: t => t.requestId })}
  </section>`;
}

function spendCard(app, budget, budgetError) {
  return html`<section class="card" aria-labelledby="spend-heading">
    <h2 id="spend-heading">Spend</h2>
    <div class="grid two">
      ${stat('Spent this period', html`<span class="spent">${money(app.spentUsd)}</span>`,
        app.budgetConfigured ? `of ${money(app.limitUsd)}${budget ? ` per ${budget.period}` : ''}` : 'no budget configured')}
      ${stat('Reserved in flight', money(app.reservedUsd), budget ? `${number(budget.reservationsInFlight)} reservation(s)` : undefined)}
    </div>
    <div class="spend-gauge">${gauge(app.spentUsd, app.budgetConfigured ? app.limitUsd : 0)}</div>
    <p class="muted">Charged to budget <code>${app.budgetId}</code>${budget?.periodStart ? html`, period since ${when(budget.periodStart)}` : nothing}.
      A team budget is shared: its spend includes the other apps charged to it.</p>
    ${budgetError ? errorView(budgetError) : nothing}
  </section>`;
}

function summary(app) {
  const r = app.release || {};
  return html`<div class="grid four app-summary">
    ${stat('Status', status(app), app.lifecycle === 'suspended' ? 'keys are refused until resumed' : undefined)}
    ${stat('Current version', r.publishedVersion != null ? `v${r.publishedVersion}` : 'none',
      r.canaryVersion != null ? `canary v${r.canaryVersion} at ${percent(r.canaryShare, 0)}` : 'no canary')}
    ${stat('Budget', gauge(app.spentUsd, app.budgetConfigured ? app.limitUsd : 0), `${money(app.spentUsd)} spent`)}
    ${stat('Quotas', `${number(app.quotas.requestsPerMinute)}/min`, `${number(app.quotas.tokensPerDay)} tokens/day`)}
  </div>
  <section class="card" aria-label="About the app"><dl class="app-facts">
    <dt>Owner</dt><dd>${app.owner}</dd>
    <dt>Team</dt><dd>${app.team}</dd>
    <dt>Audience</dt><dd>${app.audience}</dd>
    <dt>Template</dt><dd>${app.template ? html`<code>${app.template}</code>` : html`<span class="muted">none</span>`}</dd>
    <dt>Tiers</dt><dd>${(app.allowedTiers || []).join(', ')} <span class="muted">(default ${app.defaultTier})</span></dd>
    <dt>Data classes</dt><dd>${app.dataClasses?.length ? app.dataClasses.join(', ') : html`<span class="muted">none</span>`}</dd>
    <dt>Created</dt><dd>${when(app.createdAt)}</dd>
  </dl></section>`;
}

function lifecycleActions(ctx, app) {
  const slot = createRef();
  const id = seg(app.appId);
  const button = app.lifecycle === 'active'
    ? actionButton('Suspend', runner(ctx, slot, () => api.post(`/apps/${id}/suspend`), 'App suspended: its keys are refused.'), ROLES.lifecycle, { kind: 'danger' })
    : app.lifecycle === 'suspended'
      ? actionButton('Resume', runner(ctx, slot, () => api.post(`/apps/${id}/resume`), 'App resumed.'), ROLES.lifecycle)
      : nothing;
  return html`${button}${errorSlot(slot)}`;
}

/** Newest versions with their gates and approval (the app view lists versions without them). */
async function loadVersions(app) {
  const listed = [...(app.versions || [])].sort((a, b) => b.version - a.version).slice(0, VERSIONS_SHOWN);
  return Promise.all(listed.map(v => api.get(`/apps/${seg(app.appId)}/versions/${v.version}`).catch(() => v)));
}

async function recentCalls(appId) {
  const from = new Date(Date.now() - RECENT_DAYS * 24 * 3600 * 1000).toISOString();
  const page = await api.get('/traces', { appId, from, pageSize: 200 });
  return [...page.items].sort((a, b) => String(b.timestamp).localeCompare(String(a.timestamp))).slice(0, RECENT_CALLS);
}

async function appView(ctx) {
  const appId = ctx.params.appId;
  const id = seg(appId);
  const app = await api.get(`/apps/${id}`);
  const settle = promise => promise.then(value => ({ value }), error => ({ error }));
  const [versions, manifest, traces, budget] = await Promise.all([
    settle(loadVersions(app)),
    settle(request('GET', `/admin/apps/${id}/manifest`, null, { query: { format: 'yaml' } })),
    settle(recentCalls(appId)),
    settle(api.get(`/budgets/${seg(app.budgetId)}`)),
  ]);

  return html`<div class="app-page">
    ${pageHeader(app.name || appId, html`<code>${appId}</code> · ${status(app)}`, lifecycleActions(ctx, app))}
    <p class="muted">${link('/apps', '← All apps')}</p>
    ${summary(app)}
    ${versions.error ? errorView(versions.error) : versionsCard(ctx, app, versions.value)}
    ${keysCard(ctx, app)}
    ${traces.error ? html`<section class="card"><h2>Recent calls</h2>${errorView(traces.error)}</section>` : callsCard(app, traces.value)}
    ${spendCard(app, budget.value, budget.error)}
    ${quotasCard(ctx, app)}
    <section class="card" aria-labelledby="manifest-heading">
      <h2 id="manifest-heading">Manifest</h2>
      <p class="muted">The ${app.release?.publishedVersion != null ? `published version's (v${app.release.publishedVersion})` : 'newest version\'s'} manifest, as YAML.</p>
      ${manifest.error ? errorView(manifest.error) : html`<pre class="manifest" aria-label="Manifest">${manifest.value}</pre>`}
    </section>
  </div>`;
}
