// Budgets & cost: spend over time (by app, team, tier or model), burn rate and projections, savings, the KPIs, every
// budget with its gauge, and one budget's page (snapshot, alerts, acknowledge, edit). Every figure is the admin API's
// (GET /admin/cost/spend, /cost/summary, /cost/budgets, /kpis, /alerts, /budgets/{id}); this module only lays them out.
import {
  html, nothing, render, ref, api, seg, link, money, number, percent, when, badge, gauge, pageHeader, stat, emptyState,
  errorView, dataTable, actionButton, formValues, notify, chart, palette, can, ApiError,
} from '../js/core.js';

export const nav = { label: 'Budgets & cost', path: '/cost', order: 50 };

const dimensions = [
  { value: 'app', label: 'App' },
  { value: 'team', label: 'Team' },
  { value: 'tier', label: 'Tier' },
  { value: 'model', label: 'Model' },
];

// Ranges end now; each has the interval that gives a readable number of bars unless the URL asks for another.
const ranges = [
  { value: '24h', label: 'Last 24 hours', hours: 24, granularity: 'hour' },
  { value: '7d', label: 'Last 7 days', hours: 24 * 7, granularity: 'day' },
  { value: '30d', label: 'Last 30 days', hours: 24 * 30, granularity: 'day' },
  { value: '90d', label: 'Last 90 days', hours: 24 * 90, granularity: 'day' },
  { value: '365d', label: 'Last 12 months', hours: 24 * 365, granularity: 'month' },
];

const granularities = [
  { value: 'hour', label: 'Hourly' },
  { value: 'day', label: 'Daily' },
  { value: 'month', label: 'Monthly' },
];

// Series beyond this many are summed into one "other" series so the chart stays readable; the table keeps them all.
const maxChartSeries = 8;

const savingKinds = [
  { key: 'cache', label: 'Cache', help: 'Exact cache hits and calls that shared an identical in-flight call.' },
  { key: 'nearDuplicate', label: 'Near-duplicate', help: 'Near-duplicate cache hits.' },
  { key: 'routing', label: 'Routing', help: 'Cost-aware routing to a cheaper model that meets the app’s quality SLO.' },
  { key: 'sampling', label: 'Sampling', help: 'Adaptive sampling moved a premium request to a cheaper model.' },
  { key: 'other', label: 'Other', help: 'Calls cheaper than their baseline without a saving kind (e.g. a fallback to a cheaper model).' },
];

export const routes = [
  { path: '/cost', title: 'Budgets & cost', view: costView },
  { path: '/cost/budgets/:budgetId', title: 'Budget', view: budgetView },
];

// ---- The cost page -----------------------------------------------------------------------------------------------

function settingsOf(query) {
  const groupBy = dimensions.some(d => d.value === query.get('groupBy')) ? query.get('groupBy') : 'app';
  const range = ranges.find(r => r.value === query.get('range')) ?? ranges[1];
  const granularity = granularities.some(g => g.value === query.get('granularity')) ? query.get('granularity') : range.granularity;
  return { groupBy, range, granularity };
}

function costPath(settings) {
  const search = new URLSearchParams({ groupBy: settings.groupBy, range: settings.range.value, granularity: settings.granularity });
  return `/cost?${search}`;
}

/** Runs every read at once; a failed one shows its error in its own section instead of failing the page. */
async function settle(reads) {
  const results = await Promise.allSettled(reads);
  results.forEach(r => { if (r.status === 'rejected' && r.reason instanceof ApiError && r.reason.status === 401) throw r.reason; });
  return results.map(r => (r.status === 'fulfilled' ? { value: r.value } : { error: r.reason }));
}

async function costView(ctx) {
  const settings = settingsOf(ctx.query);
  const to = new Date();
  const from = new Date(to.getTime() - settings.range.hours * 3600 * 1000);
  const span = { from: from.toISOString(), to: to.toISOString() };
  const month = monthOf(to);
  const [spend, summary, kpis, budgets, alerts, monthToDate] = await settle([
    api.get('/cost/spend', { ...span, granularity: settings.granularity, groupBy: settings.groupBy }),
    api.get('/cost/summary', span),
    api.get('/kpis', span),
    api.get('/cost/budgets'),
    api.get('/alerts', { limit: 1000 }),
    api.get('/cost/summary', { from: month.start.toISOString(), to: to.toISOString(), top: 1 }),
  ]);

  const change = event => {
    const form = event.target.form;
    const values = formValues(form);
    const range = ranges.find(r => r.value === values.range) ?? ranges[1];
    // A new range brings its own interval; a new interval is kept as chosen.
    const granularity = event.target.name === 'range' ? range.granularity : values.granularity;
    ctx.navigate(costPath({ groupBy: values.groupBy, range, granularity }));
  };

  return html`
    ${pageHeader('Budgets & cost', `${settings.range.label}, ${granularities.find(g => g.value === settings.granularity).label.toLowerCase()}, by ${settings.groupBy}`)}
    <form class="inline-form card" aria-label="Cost view" @submit=${e => e.preventDefault()}>
      <label>Group by<select name="groupBy" @change=${change}>
        ${dimensions.map(d => html`<option value=${d.value} ?selected=${d.value === settings.groupBy}>${d.label}</option>`)}</select></label>
      <label>Period<select name="range" @change=${change}>
        ${ranges.map(r => html`<option value=${r.value} ?selected=${r.value === settings.range.value}>${r.label}</option>`)}</select></label>
      <label>Interval<select name="granularity" @change=${change}>
        ${granularities.map(g => html`<option value=${g.value} ?selected=${g.value === settings.granularity}>${g.label}</option>`)}</select></label>
    </form>
    ${summary.error ? errorView(summary.error) : totalsView(summary.value)}
    <section aria-labelledby="spend-heading">
      <h2 id="spend-heading">Spend over time by ${settings.groupBy}</h2>
      ${spend.error ? errorView(spend.error) : spendView(spend.value, settings)}
    </section>
    <section aria-labelledby="budgets-heading">
      <h2 id="budgets-heading">Budgets: burn rate and projection</h2>
      ${monthView(monthToDate, month)}
      ${budgets.error ? errorView(budgets.error) : budgetsView(budgets.value, alerts)}
    </section>
    <section aria-labelledby="savings-heading">
      <h2 id="savings-heading">Savings</h2>
      ${summary.error ? errorView(summary.error) : savingsView(summary.value)}
    </section>
    <section aria-labelledby="kpis-heading">
      <h2 id="kpis-heading">KPIs</h2>
      ${kpis.error ? errorView(kpis.error) : kpisView(kpis.value)}
    </section>`;
}

function totalsView(summary) {
  const total = summary.total;
  return html`<div class="grid four">
    ${stat('Spend', money(total.costUsd), html`${number(total.requests)} requests, ${number(total.answered)} answered`)}
    ${stat('Tokens', number(total.tokensIn + total.tokensOut), `${number(total.tokensIn)} in, ${number(total.tokensOut)} out`)}
    ${stat('Cache saved', money(summary.cacheSavings.savedUsd), `${number(summary.cacheSavings.cacheHits)} hits, hit rate ${percent(summary.cacheSavings.hitRate)}`)}
    ${stat('Refused or failed', number(total.blocked + total.throttled + total.invalid + total.unauthorized + total.errors),
      `${number(total.blocked)} blocked, ${number(total.throttled)} throttled, ${number(total.errors)} errors`)}
  </div>
  <p class="muted">From ${when(summary.from)} to ${when(summary.to)} (whole UTC hours).</p>`;
}

function groupName(key) {
  return key === '' ? '(none)' : key;
}

function bucketLabel(start, granularity) {
  const date = new Date(start);
  if (granularity === 'hour') return date.toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });
  if (granularity === 'month') return date.toLocaleString('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
  return date.toLocaleString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

/** Each group's cost per bucket, in bucket order (0 where the group had no traffic). */
function costsByBucket(series, group) {
  const byStart = new Map(group.series.map(p => [new Date(p.start).getTime(), p.totals.costUsd]));
  return series.buckets.map(b => byStart.get(new Date(b).getTime()) ?? 0);
}

function spendView(series, settings) {
  if (series.groups.length === 0) {
    return emptyState(html`No model calls in this period. Spend appears here once apps call <code>/v1/chat/completions</code>.`);
  }
  const labels = series.buckets.map(b => bucketLabel(b, series.granularity));
  const shown = series.groups.slice(0, maxChartSeries);
  const rest = series.groups.slice(maxChartSeries);
  const datasets = shown.map((group, i) => ({
    label: groupName(group.key), data: costsByBucket(series, group), backgroundColor: palette[i % palette.length],
  }));
  if (rest.length) {
    const other = series.buckets.map((_, i) => rest.reduce((sum, g) => sum + costsByBucket(series, g)[i], 0));
    datasets.push({ label: `${rest.length} others`, data: other, backgroundColor: '#a0aec0' });
  }
  const bucketRows = series.buckets.map((bucket, i) => ({ bucket, i }));
  const chartLabel = `Spend in USD by ${settings.groupBy}, per ${series.granularity}`;
  return html`
    <div class="card">
      ${chart({
        type: 'bar',
        data: { labels, datasets },
        options: {
          scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'USD' } } },
          plugins: { tooltip: { callbacks: { label: item => `${item.dataset.label}: ${money(item.raw)}` } } },
        },
      }, chartLabel)}
      <p class="muted">${number(series.closedHours)} closed hours from stored roll-ups, ${number(series.liveHours)} computed live.</p>
    </div>
    <h3>Totals by ${settings.groupBy}</h3>
    ${dataTable([
      { label: settings.groupBy === 'app' ? 'App' : dimensions.find(d => d.value === settings.groupBy).label, value: g => groupCell(g.key, settings.groupBy) },
      { label: 'Spend', num: true, value: g => money(g.total.costUsd) },
      { label: 'Requests', num: true, value: g => number(g.total.requests) },
      { label: 'Answered', num: true, value: g => number(g.total.answered) },
      { label: 'Tokens in', num: true, value: g => number(g.total.tokensIn) },
      { label: 'Tokens out', num: true, value: g => number(g.total.tokensOut) },
      { label: 'Cache hits', num: true, value: g => number(g.total.cacheHits) },
      { label: 'Cache saved', num: true, value: g => money(g.total.cacheSavedUsd) },
    ], [...series.groups, { key: null, total: series.total }], 'No spend.', { label: `Spend by ${settings.groupBy}` })}
    <details class="card cost-figures">
      <summary>The chart's figures: spend per ${series.granularity}</summary>
      ${dataTable([
        { label: 'Starting (UTC)', value: r => labels[r.i] },
        ...shown.map((group, j) => ({ label: groupName(group.key), num: true, value: r => money(datasets[j].data[r.i]) })),
        ...(rest.length ? [{ label: datasets[datasets.length - 1].label, num: true, value: r => money(datasets[datasets.length - 1].data[r.i]) }] : []),
      ], bucketRows, 'No buckets.', { label: `Spend per ${series.granularity} by ${settings.groupBy}` })}
    </details>`;
}

function groupCell(key, groupBy) {
  if (key === null) return html`<strong>Total</strong>`;
  if (groupBy === 'app' && key !== '') return link(`/apps/${seg(key)}`, key);
  return html`<code>${groupName(key)}</code>`;
}

function latestAlertByBudget(alerts) {
  const latest = new Map();
  for (const alert of alerts.value ?? []) {
    if (!latest.has(alert.budgetId)) latest.set(alert.budgetId, alert); // newest first
  }
  return latest;
}

function alertCell(alert, alerts) {
  if (alerts.error) return html`<span class="muted" title=${alerts.error.message}>unavailable</span>`;
  if (!alert) return html`<span class="muted">none</span>`;
  return html`${percent(alert.threshold, 0)} ${badge(alert.state)} <span class="muted">${when(alert.raisedAt)}</span>`;
}

function budgetsView(budgets, alerts) {
  if (budgets.length === 0) {
    return emptyState('No budgets yet — a budget is configured when an app is created with one (or with PUT /admin/budgets/{id}).');
  }
  const latest = latestAlertByBudget(alerts);
  const burn = budgets.reduce((sum, b) => sum + Number(b.burnRateUsdPerHour), 0);
  const limits = budgets.reduce((sum, b) => sum + Number(b.limitUsd), 0);
  const over = budgets.filter(b => b.status === 'over').length;
  return html`
    <div class="grid two cost-month">
      ${stat('Budgets’ burn rate', `${money(burn)}/h`, `the sum over ${budgets.length} budgets (${money(limits)} of limits) of spend so far ÷ hours elapsed in its period`)}
      ${stat('Over or projected over', number(over), over ? 'see the status column' : 'every budget is on track')}
    </div>
    ${dataTable([
      { label: 'Budget', value: b => link(`/cost/budgets/${seg(b.budgetId)}`, b.budgetId) },
      { label: 'Apps', value: b => b.apps.length ? b.apps.map((a, i) => html`${i ? ', ' : ''}${link(`/apps/${seg(a)}`, a)}`) : html`<span class="muted">none</span>` },
      { label: 'Used', value: b => html`${gauge(b.spentUsd, b.limitUsd)}<div class="muted">${money(b.spentUsd)} spent, ${money(b.reservedUsd)} reserved</div>` },
      { label: 'Limit', num: true, value: b => money(b.limitUsd) },
      { label: 'Period', value: b => html`${b.period} <span class="muted">${percent(b.elapsedShare, 0)} elapsed</span>` },
      { label: 'Burn / hour', num: true, value: b => money(b.burnRateUsdPerHour) },
      { label: 'Projected', num: true, value: b => money(b.projectedUsd) },
      { label: 'Status', value: b => badge(b.status === 'on_track' ? 'on track' : b.status, b.status === 'on_track' ? 'ok' : 'bad') },
      { label: 'Latest alert', value: b => alertCell(latest.get(b.budgetId), alerts) },
    ], budgets, 'No budgets.', { label: 'Budgets', key: b => b.budgetId })}`;
}

/** The current UTC calendar month: its start, end and the share of it elapsed at now. */
function monthOf(now) {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { start, end, elapsed: (now - start) / (end - start) };
}

// The platform's month-end projection uses the rule the API applies to each budget: spend so far ÷ share elapsed.
function monthView(monthToDate, month) {
  if (monthToDate.error) return errorView(monthToDate.error);
  const spent = Number(monthToDate.value.total.costUsd);
  const name = month.start.toLocaleString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  const projected = month.elapsed > 0 ? spent / month.elapsed : spent;
  return html`<div class="grid two cost-month">
    ${stat(`Spend in ${name}`, money(spent), `${percent(month.elapsed)} of the month (UTC) elapsed`)}
    ${stat('Month-end projection', money(projected), `all spend in ${name} so far ÷ the share of the month elapsed`)}
  </div>`;
}

function savingsView(summary) {
  const cache = summary.cacheSavings;
  const split = summary.savings;
  return html`<div class="grid two savings">
    <div class="card">
      <h3>What the cache saved</h3>
      <p><strong>${money(cache.savedUsd)}</strong> over ${number(cache.cacheHits)} cache hits (hit rate ${percent(cache.hitRate)})${cache.unpricedCacheHits
        ? html`; ${number(cache.unpricedCacheHits)} hits could not be priced and add nothing` : nothing}.</p>
      <p class="muted">${cache.method}</p>
    </div>
    <div class="card">
      <h3>Savings against the baseline</h3>
      ${split ? html`
        <p>Baseline ${money(split.baselineUsd)}, spent ${money(split.spentUsd)}, saved <strong>${money(split.savedUsd)}</strong> (${percent(split.savedShare)})${Number(split.overBaselineUsd)
          ? html`; ${money(split.overBaselineUsd)} above the baseline` : nothing}.</p>
        ${dataTable([
          { label: 'Kind', value: k => html`${k.label}<div class="muted">${k.help}</div>` },
          { label: 'Saved', num: true, value: k => money(split.byKind[k.key]) },
          { label: 'Share of baseline', num: true, value: k => (Number(split.baselineUsd) ? percent(Number(split.byKind[k.key]) / Number(split.baselineUsd)) : '—') },
        ], savingKinds, 'No savings.', { label: 'Savings by kind' })}
        <p class="muted">${split.method}</p>`
        : emptyState('The savings split is not available for this period.')}
    </div>
  </div>`;
}

function hours(value) {
  return value === null || value === undefined ? '—' : `${number(value, 1)} h`;
}

function kpisView(kpis) {
  const publish = kpis.meanTimeToPublish;
  const incidents = kpis.incidents;
  const reuse = kpis.reuseRate;
  return html`<div class="grid three">
      ${stat('Mean time to publish', hours(publish.meanHours), html`median ${hours(publish.medianHours)} over ${number(publish.versions)} versions. ${publish.definition}`)}
      ${stat('Incidents per 1,000 app-days', incidents.per1000AppDays === null ? '—' : number(incidents.per1000AppDays, 4),
        html`${number(incidents.incidents)} incidents over ${number(incidents.appDays)} app-days. ${incidents.definition}`)}
      ${stat('Reuse rate', reuse.value === null ? '—' : percent(reuse.value),
        html`${reuse.value === null ? reuse.reason : html`${number(reuse.appsOnCatalog)} of ${number(reuse.apps)} apps on the catalog${reuse.callsShare === null || reuse.callsShare === undefined ? '' : html`, ${percent(reuse.callsShare)} of calls`}.`} ${reuse.definition ?? ''}`)}
    </div>
    <h3>Cost per 1,000 requests by tier</h3>
    ${dataTable([
      { label: 'Tier', value: t => html`<code>${groupName(t.tier)}</code>` },
      { label: 'Requests', num: true, value: t => number(t.requests) },
      { label: 'Answered', num: true, value: t => number(t.answered) },
      { label: 'Spend', num: true, value: t => money(t.costUsd) },
      { label: 'Per 1,000 answered', num: true, value: t => money(t.costPer1KRequestsUsd) },
    ], kpis.costPer1KRequestsByTier, 'No calls in this period.', { label: 'Cost per 1,000 requests by tier' })}
    <p class="muted">Cost per 1,000 requests: 1,000 × the tier’s spend ÷ its answered calls (successes and cache hits).</p>`;
}

// ---- One budget --------------------------------------------------------------------------------------------------

/** A part of a page that re-renders itself (a form and its errors) without running the whole view again. */
function island(draw) {
  let host;
  const update = () => { if (host) render(draw(update), host); };
  return html`<div ${ref(element => { if (element && element !== host) { host = element; update(); } })}></div>`;
}

async function budgetView(ctx) {
  const budgetId = ctx.params.budgetId;
  const [budget, alerts, burns] = await settle([
    api.get(`/budgets/${seg(budgetId)}`),
    api.get(`/budgets/${seg(budgetId)}/alerts`),
    api.get('/cost/budgets'),
  ]);
  const header = pageHeader(html`Budget <code>${budgetId}</code>`, html`${link('/cost', 'Budgets & cost')}`);
  if (budget.error) {
    return html`${header}${budget.error.status === 404
      ? emptyState(`Budget ${budgetId} has no limit configured.`, link('/cost', 'Back to budgets & cost'))
      : errorView(budget.error)}`;
  }
  const b = budget.value;
  const burn = burns.value?.find(x => x.budgetId === budgetId);
  return html`${header}
    <div class="grid four">
      ${stat('Spent', money(b.spentUsd), html`${gauge(b.spentUsd, b.limitUsd)}`)}
      ${stat('Reserved', money(b.reservedUsd), `${number(b.reservationsInFlight)} calls in flight`)}
      ${stat('Available', money(b.availableUsd), 'limit − spent − reserved')}
      ${stat('Limit', money(b.limitUsd), html`per ${b.period}${b.pendingLimitUsd !== null && b.pendingLimitUsd !== undefined
        ? html`; ${money(b.pendingLimitUsd)} pending the owner’s acknowledgement` : nothing}`)}
    </div>
    <div class="grid two">
      <div class="card">
        <h2>State</h2>
        <dl class="budget-facts">
          <dt>Period</dt><dd>${b.period}, started ${when(b.periodStart)}</dd>
          ${burn ? html`<dt>Burn rate</dt><dd>${money(burn.burnRateUsdPerHour)}/h (${percent(burn.elapsedShare, 0)} of the period elapsed)</dd>
            <dt>Projected</dt><dd>${money(burn.projectedUsd)} by ${when(burn.periodEnd)} ${badge(burn.status === 'on_track' ? 'on track' : burn.status, burn.status === 'on_track' ? 'ok' : 'bad')}</dd>
            <dt>Apps</dt><dd>${burn.apps.length ? burn.apps.map((a, i) => html`${i ? ', ' : ''}${link(`/apps/${seg(a)}`, a)}`) : 'none'}</dd>`
            : html`<dt>Burn rate</dt><dd class="muted">${burns.error ? errorView(burns.error) : 'No app is charged to this budget.'}</dd>`}
          <dt>Alert thresholds</dt><dd>${b.thresholds?.length ? b.thresholds.map(t => percent(t, 0)).join(', ') : 'none'}${b.defaultThresholds ? html` <span class="muted">(platform default)</span>` : nothing}</dd>
          <dt>Raised this period</dt><dd>${b.raisedThresholds?.length ? b.raisedThresholds.map(t => percent(t, 0)).join(', ') : 'none'}</dd>
          <dt>At 100%</dt><dd>${b.onExceeded.replace('_', ' ')}${b.softShutdown ? html` ${badge('soft shutdown', 'bad')}` : nothing}</dd>
          <dt>Reached 100%</dt><dd>${b.reachedLimitAt ? when(b.reachedLimitAt) : 'not this period'}</dd>
          <dt>Acknowledged</dt><dd>${b.acknowledgedAt ? html`${when(b.acknowledgedAt)} by ${b.acknowledgedBy}` : 'no'}</dd>
          <dt>Notify</dt><dd>${b.notify?.webhookUrl ? html`webhook <code>${b.notify.webhookUrl}</code>` : nothing}${b.notify?.emails?.length
            ? html` e-mail ${b.notify.emails.join(', ')}` : nothing}${!b.notify?.webhookUrl && !b.notify?.emails?.length ? html`<span class="muted">nowhere (alerts are only recorded)</span>` : nothing}</dd>
        </dl>
        ${acknowledgeView(ctx, b)}
      </div>
      <div class="card">
        <h2>Edit</h2>
        ${editView(ctx, b)}
      </div>
    </div>
    <h2>Alerts</h2>
    ${alerts.error ? errorView(alerts.error) : dataTable([
      { label: 'Raised', value: a => when(a.raisedAt) },
      { label: 'Threshold', num: true, value: a => percent(a.threshold, 0) },
      { label: 'Spent then', num: true, value: a => money(a.spentUsd) },
      { label: 'Limit then', num: true, value: a => money(a.limitUsd) },
      { label: 'Trigger', value: a => a.trigger },
      { label: 'State', value: a => badge(a.state) },
      { label: 'Deliveries', value: a => a.deliveries.length ? a.deliveries.map(d => html`<div>${d.channel} ${badge(d.state)}
          <span class="muted">${number(d.attempts)} attempts${d.lastError ? html` — ${d.lastError}` : nothing}</span></div>`) : html`<span class="muted">recorded only</span>` },
    ], alerts.value, 'No alerts yet — one is raised when spend crosses a threshold.', { label: 'Alerts', key: a => a.alertId })}`;
}

function acknowledgeView(ctx, b) {
  const pending = b.pendingLimitUsd !== null && b.pendingLimitUsd !== undefined;
  const open = (b.reachedLimitAt && !b.acknowledgedAt) || pending;
  const state = { error: null };
  return island(update => {
    const acknowledge = async () => {
      state.error = null;
      try {
        await api.post(`/budgets/${seg(b.budgetId)}/acknowledge`);
        notify(`Budget ${b.budgetId} acknowledged.`);
        ctx.refresh();
      } catch (error) {
        state.error = error;
        update();
      }
    };
    return html`<h3>Acknowledge</h3>
      <p class="muted">An owner of an app charged to this budget (or an admin) acknowledges that it reached 100%: a pending raised limit
        takes effect and a soft shutdown lifts.</p>
      ${actionButton('Acknowledge 100%', acknowledge, ['author', 'admin'], { disabled: !open, title: open ? undefined : 'Nothing to acknowledge: the budget has not reached 100% this period.' })}
      ${errorView(state.error)}`;
  });
}

/** Field errors of the API for one form field: 'thresholds' also takes 'thresholds[2]'. */
function fieldErrors(error, field) {
  if (!(error instanceof ApiError)) return [];
  return Object.entries(error.errors).filter(([key]) => key === field || key.startsWith(`${field}[`) || key.startsWith(`${field}.`)).flatMap(([, m]) => m);
}

function fieldError(error, field) {
  const messages = fieldErrors(error, field);
  return messages.length ? html`<div class="field-error" id=${`budget-${field}-error`}>${messages.join(' ')}</div>` : nothing;
}

/** What the user typed, as a number when it is one; otherwise as typed, so the API names what is wrong with it. */
function numeric(text) {
  const trimmed = String(text).trim();
  if (trimmed === '') return null;
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function editView(ctx, b) {
  const fields = ['limitUsd', 'period', 'thresholds', 'onExceeded'];
  const admin = can('admin');
  const state = { error: null, saving: false };
  return island(update => {
    const submit = async event => {
      event.preventDefault();
      const values = formValues(event.target);
      const body = {
        limitUsd: numeric(values.limitUsd),
        period: values.period,
        thresholds: values.thresholds.trim() === '' ? [] : values.thresholds.split(',').map(numeric),
        onExceeded: values.onExceeded,
      };
      state.error = null;
      state.saving = true;
      update();
      try {
        const saved = await api.put(`/budgets/${seg(b.budgetId)}`, body);
        notify(`Budget ${b.budgetId} saved: ${money(saved.limitUsd)} per ${saved.period}${saved.pendingLimitUsd !== null && saved.pendingLimitUsd !== undefined
          ? ` (${money(saved.pendingLimitUsd)} pending acknowledgement)` : ''}.`);
        ctx.refresh();
      } catch (error) {
        state.error = error;
        state.saving = false;
        update();
      }
    };
    const error = state.error;
    const unmapped = error instanceof ApiError ? Object.keys(error.errors).filter(k => !fields.some(f => k === f || k.startsWith(`${f}[`) || k.startsWith(`${f}.`))) : [];
    const invalid = field => (fieldErrors(error, field).length ? 'true' : 'false');
    return html`
      ${admin ? nothing : html`<p class="muted">Only an admin may change a budget; you can read it.</p>`}
      ${error && (!(error instanceof ApiError) || Object.keys(error.errors).length === 0 || unmapped.length)
        ? errorView(error)
        : error ? html`<div class="alert error" role="alert">The budget was not saved: ${error.title}. See the fields marked below.</div>` : nothing}
      <form class="stack budget-edit" aria-label="Edit budget" @submit=${submit}>
        <fieldset ?disabled=${!admin || state.saving}>
          <div class="field"><label>Limit (USD)<input name="limitUsd" inputmode="decimal" autocomplete="off" .value=${String(b.limitUsd)}
            aria-invalid=${invalid('limitUsd')} aria-describedby="budget-limitUsd-error"></label>${fieldError(error, 'limitUsd')}</div>
          <div class="field"><label>Period<select name="period" aria-invalid=${invalid('period')} aria-describedby="budget-period-error">
            ${['day', 'month'].map(p => html`<option value=${p} ?selected=${p === b.period}>${p}</option>`)}</select></label>${fieldError(error, 'period')}</div>
          <div class="field"><label>Alert thresholds <span class="help">shares of the limit, comma-separated, e.g. 0.6, 0.8, 1 (empty: no alerts)</span>
            <input name="thresholds" autocomplete="off" .value=${(b.thresholds ?? []).join(', ')} aria-invalid=${invalid('thresholds')}
              aria-describedby="budget-thresholds-error"></label>${fieldError(error, 'thresholds')}</div>
          <div class="field"><label>At 100%<select name="onExceeded" aria-invalid=${invalid('onExceeded')} aria-describedby="budget-onExceeded-error">
            ${[['throttle', 'throttle: refuse calls that do not fit'], ['degrade', 'degrade to the cheaper tier'], ['soft_shutdown', 'soft shutdown until acknowledged']]
              .map(([value, label]) => html`<option value=${value} ?selected=${value === b.onExceeded}>${label}</option>`)}</select></label>${fieldError(error, 'onExceeded')}</div>
        </fieldset>
        <div class="row">${actionButton(state.saving ? 'Saving…' : 'Save budget', null, ['admin'], { type: 'submit', disabled: state.saving })}</div>
      </form>`;
  });
}
