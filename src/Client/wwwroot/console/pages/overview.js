// Overview: the cluster's silos, spend today and this month, top apps, open budget alerts and approvals waiting.
// Each part comes from its own admin-API read; a read that fails shows its error in its own card, the rest still show.
import {
  html, nothing, api, pageHeader, stat, emptyState, errorView, dataTable, badge, money, number, percent, when, link, can,
} from '../js/core.js';

export const nav = { label: 'Overview', path: '/', order: 10 };

export const routes = [
  { path: '/', title: 'Overview', view: overviewView },
];

const topCount = 10;

function startOfDayUtc(now) {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

function startOfMonthUtc(now) {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** Settles every read: { value } or { error }, so one failing read does not blank the page. */
async function settle(reads) {
  const entries = Object.entries(reads);
  const results = await Promise.allSettled(entries.map(([, read]) => read));
  return Object.fromEntries(entries.map(([name], i) => [name,
    results[i].status === 'fulfilled' ? { value: results[i].value } : { error: results[i].reason }]));
}

/** An alert is open while the budget period it was raised in has not ended. */
function isOpen(alert, now) {
  const start = new Date(alert.periodStart);
  const end = alert.period === 'month'
    ? new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1))
    : new Date(start.getTime() + 24 * 3600 * 1000);
  return end > now;
}

async function overviewView() {
  const now = new Date();
  const to = now.toISOString();
  const data = await settle({
    cluster: api.get('/cluster'),
    today: api.get('/cost/summary', { from: startOfDayUtc(now).toISOString(), to, top: 1 }),
    month: api.get('/cost/summary', { from: startOfMonthUtc(now).toISOString(), to, top: topCount }),
    alerts: api.get('/alerts', { limit: 200 }),
    approvals: api.get('/approvals'),
  });

  // The navigation already has an "Orleans dashboard" link for admins; this one names what it opens instead.
  const actions = can('admin')
    ? html`<a class="button secondary" href="/dashboard/" target="_blank" rel="noopener" title="The Orleans dashboard">Live grain and silo statistics ↗</a>`
    : nothing;
  return html`${pageHeader('Overview', 'The cluster, what it spends and what needs attention.', actions)}
    ${figures(data)}
    <div class="overview">
      <section class="card" aria-labelledby="silos-heading"><h2 id="silos-heading">Silos</h2>${silos(data.cluster)}</section>
      <div class="grid two">
        <section class="card" aria-labelledby="top-apps-heading"><h2 id="top-apps-heading">Top apps this month</h2>${topApps(data.month)}</section>
        <section class="card" aria-labelledby="approvals-heading"><h2 id="approvals-heading">Approvals waiting</h2>${approvals(data.approvals)}</section>
      </div>
      <section class="card" aria-labelledby="alerts-heading"><h2 id="alerts-heading">Open budget alerts</h2>${alerts(data.alerts, now)}</section>
    </div>`;
}

function figures({ cluster, today, month, approvals }) {
  const failed = value => value.error ? html`<span class="muted" title=${value.error.message}>unavailable</span>` : null;
  const spend = part => failed(part) ?? money(part.value.total.costUsd);
  const requests = part => part.error ? '' : plural(part.value.total.requests, 'request');
  const silosValue = failed(cluster) ?? `${cluster.value.activeSilos} active`;
  const silosHint = cluster.error ? '' : plural(cluster.value.activations, 'activation');
  const waiting = failed(approvals) ?? html`${link('/approvals', String(approvals.value.length))}`;
  return html`<div class="grid four overview-figures" aria-label="Key figures">
    ${stat('Spend today (UTC)', html`<span data-testid="spend-today">${spend(today)}</span>`, requests(today))}
    ${stat('Spend this month', html`<span data-testid="spend-month">${spend(month)}</span>`, requests(month))}
    ${stat('Silos', silosValue, silosHint)}
    ${stat('Approvals waiting', waiting, approvals.error ? '' : 'submitted versions')}
  </div>`;
}

function plural(count, word) {
  return `${number(count)} ${word}${Number(count) === 1 ? '' : 's'}`;
}

function bytes(value) {
  if (value === null || value === undefined || value <= 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let n = Number(value);
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) { n /= 1024; unit++; }
  return `${n.toFixed(n >= 100 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function siloStatus(silo) {
  if (silo.status === 'active' && silo.statisticsError) return html`${badge('active')} ${badge('not answering', 'warn')}`;
  if (silo.status === 'active' && silo.statistics?.overloaded) return html`${badge('active')} ${badge('overloaded', 'warn')}`;
  return badge(silo.status);
}

const siloColumns = [
  { label: 'Silo', value: s => html`<strong>${s.name || '—'}</strong><br><code class="wrap">${s.address}</code>` },
  { label: 'Host', value: s => s.host || '—' },
  { label: 'Status', value: s => html`${siloStatus(s)}${s.statisticsError ? html`<div class="muted small">${s.statisticsError}</div>` : nothing}` },
  { label: 'Started', value: s => when(s.startedAt) },
  { label: 'Last alive', value: s => when(s.iAmAliveAt) },
  { label: 'Activations', num: true, value: s => s.statistics ? number(s.statistics.activations) : '—' },
  { label: 'CPU', num: true, value: s => s.statistics ? percent(s.statistics.cpuUsagePercent / 100) : '—' },
  { label: 'Memory', num: true, value: s => s.statistics ? html`${bytes(s.statistics.memoryUsageBytes)}<span class="muted"> of ${bytes(s.statistics.maximumMemoryBytes)}</span>` : '—' },
];

function silos(part) {
  if (part.error) return errorView(part.error);
  const cluster = part.value;
  const live = cluster.silos.filter(s => s.status !== 'dead');
  const dead = cluster.silos.filter(s => s.status === 'dead');
  return html`
    ${cluster.complete ? nothing : html`<div class="alert info" role="status">Some silos did not answer in time: their figures are missing.</div>`}
    ${dataTable(siloColumns, live, 'No live silo in the membership table: the cluster is down or still starting.', { label: 'Silos', key: s => s.address })}
    ${dead.length ? html`<details class="dead-silos"><summary>${dead.length} dead silo${dead.length === 1 ? '' : 's'} still in the membership table</summary>
      ${dataTable(siloColumns.slice(0, 5), dead, '', { label: 'Dead silos', key: s => s.address })}</details>` : nothing}`;
}

function topApps(part) {
  if (part.error) return errorView(part.error);
  const apps = part.value.topApps.filter(a => a.key);
  return dataTable([
    { label: 'App', value: a => link(`/apps/${encodeURIComponent(a.key)}`, a.key) },
    { label: 'Spend', num: true, value: a => money(a.costUsd) },
    { label: 'Requests', num: true, value: a => number(a.requests) },
  ], apps, 'No spend this month yet: calls through the front door show up here.', { label: 'Top apps by spend', key: a => a.key });
}

function alerts(part, now) {
  if (part.error) return errorView(part.error);
  const open = part.value.filter(a => isOpen(a, now));
  return dataTable([
    { label: 'Budget', value: a => html`<code class="wrap">${a.budgetId}</code>` },
    { label: 'Threshold', num: true, value: a => percent(a.threshold, Number.isInteger(Math.round(a.threshold * 1e6) / 1e4) ? 0 : 1) },
    { label: 'Spent', num: true, value: a => html`${money(a.spentUsd)}<span class="muted"> of ${money(a.limitUsd)}</span>` },
    { label: 'Raised', value: a => when(a.raisedAt) },
    { label: 'Delivery', value: a => badge(a.state) },
  ], open, 'No budget has crossed an alert threshold in its current period.', { label: 'Open budget alerts', key: a => a.alertId });
}

function approvals(part) {
  if (part.error) return errorView(part.error);
  const waiting = part.value;
  if (waiting.length === 0) return emptyState('Nothing is waiting for approval.');
  const shown = waiting.slice(0, 5);
  return html`<p><strong>${waiting.length}</strong> version${waiting.length === 1 ? '' : 's'} waiting. ${link('/approvals', 'Open the approvals queue')}</p>
    ${dataTable([
      { label: 'App', value: p => link(`/apps/${encodeURIComponent(p.appId)}`, p.appId) },
      { label: 'Version', num: true, value: p => p.version },
      { label: 'Author', value: p => p.author },
      { label: 'Submitted', value: p => when(p.submittedAt) },
    ], shown, '', { label: 'Approvals waiting', key: p => `${p.appId}/${p.version}` })}`;
}
