// Model tiers: every configured tier, its models and prices, and each model's health as its tier grain reports it.
import { html, nothing, api, pageHeader, stat, emptyState, dataTable, badge, money, number, when } from '../js/core.js';

export const nav = { label: 'Model tiers', path: '/tiers', order: 60 };

export const routes = [
  { path: '/tiers', title: 'Model tiers', view: tiersView },
];

async function tiersView() {
  const tiers = await api.get('/tiers');
  const models = tiers.flatMap(t => t.models);
  const down = models.filter(m => m.health && !m.health.available).length;
  const header = pageHeader('Model tiers', 'Models per tier, their prices per 1,000 tokens and their health (since the tier grain started).');
  if (tiers.length === 0) {
    return html`${header}${emptyState('No model tier is configured: add tiers under Models:Tiers in the silo configuration.')}`;
  }
  return html`${header}
    <div class="grid three tier-figures" aria-label="Tier figures">
      ${stat('Tiers', number(tiers.length))}
      ${stat('Models', number(models.length), `${number(models.filter(m => m.external).length)} external`)}
      ${stat('Models skipped now', number(down), down ? 'circuit open after repeated failures' : 'every model is available')}
    </div>
    ${tiers.map(tierCard)}`;
}

function tierBadge(tier) {
  if (tier.available === null || tier.available === undefined) return badge('health unknown', 'warn');
  return tier.available ? badge('available') : badge('unavailable');
}

function health(model) {
  const h = model.health;
  if (!h) return badge('unknown', 'warn');
  if (!h.available) return html`${badge('skipped', 'bad')}<div class="muted small">until ${when(h.openUntil)}</div>`;
  if (h.consecutiveFailures > 0) return badge('failing', 'warn');
  return badge('healthy', 'ok');
}

function latency(model) {
  const h = model.health;
  if (!h || h.successes + h.failures === 0) return html`<span class="muted" title="No call yet">—</span>`;
  return `${number(h.latencyMsEstimate)} ms`;
}

function tierCard(tier) {
  const id = `tier-${tier.tier}`.replace(/[^A-Za-z0-9_-]/g, '-');
  return html`<section class="card tier" aria-labelledby=${id}>
    <div class="row tier-title"><h2 id=${id}>${tier.tier}</h2>${tierBadge(tier)}</div>
    ${tier.healthError ? html`<div class="alert info" role="status">${tier.healthError}</div>` : nothing}
    ${dataTable([
      { label: 'Model', value: m => html`<strong class="wrap">${m.name}</strong>${m.external ? html` ${badge('external', 'info')}` : html` ${badge('in-house', 'ok')}`}` },
      { label: 'Backend', value: m => html`<code class="wrap">${m.backend}</code>` },
      { label: 'Input / 1K', num: true, value: m => money(m.inputPricePer1K) },
      { label: 'Output / 1K', num: true, value: m => money(m.outputPricePer1K) },
      { label: 'Context', num: true, value: m => `${number(m.contextWindow)} tokens` },
      { label: 'Health', value: health },
      { label: 'Latency', num: true, value: latency },
      { label: 'Successes', num: true, value: m => m.health ? number(m.health.successes) : '—' },
      { label: 'Failures', num: true, value: m => m.health ? html`${number(m.health.failures)}${m.health.consecutiveFailures ? html`<span class="muted"> (${number(m.health.consecutiveFailures)} in a row)</span>` : nothing}` : '—' },
      { label: 'Route order', num: true, value: m => m.routeOrder ?? '—' },
    ], tier.models, 'This tier has no models.', { label: `Models of ${tier.tier}`, key: m => m.name })}
  </section>`;
}
