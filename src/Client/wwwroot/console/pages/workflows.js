// Workflows: approvals-bot workflows of every app (GET /admin/workflows), those waiting for a decision first, with
// the request, the model's recommendation, who may decide and the deadline; approve / reject with a comment
// (POST /admin/apps/{appId}/workflows/{workflowId}/approve|reject). Any role may call, but only a person the
// workflow names may decide: the API's 403 says who may, and is shown next to the form.
import {
  html, nothing, repeat, api, seg, pageHeader, stat, emptyState, dataTable, badge, when, link, notify, session,
} from '../js/core.js';
import { decisionPanel } from './approvals.js';

export const nav = { label: 'Workflows', path: '/workflows', order: 45 };

const states = ['pending', 'escalated', 'approved', 'rejected', 'timed_out'];

export const routes = [
  { path: '/workflows', title: 'Workflows', view: listView },
  { path: '/workflows/:appId/:workflowId', title: 'Workflow', view: detailView },
];

function workflowPath(w) {
  return `/workflows/${seg(w.appId)}/${seg(w.workflowId)}`;
}

function stateBadge(state) {
  return badge(state.replace('_', ' '), state === 'timed_out' ? 'bad' : undefined);
}

/** The verdict the model recommends: the first line of its answer (APPROVE or REJECT), when it says one. */
function verdict(recommendation) {
  const first = String(recommendation || '').trim().split('\n')[0].trim().toUpperCase();
  if (first.startsWith('APPROVE')) return badge('recommends approve', 'ok');
  if (first.startsWith('REJECT')) return badge('recommends reject', 'bad');
  return nothing;
}

function people(names) {
  return names && names.length ? names.join(', ') : html`<span class="muted">nobody</span>`;
}

function decisionFor(w, ctx, after) {
  const named = (w.mayDecide || []).includes(session.name);
  return decisionPanel({
    key: `workflow:${w.appId}/${w.workflowId}`,
    label: `workflow ${w.workflowId} of ${w.appId}`,
    roles: null,
    hint: named ? null : `Only ${w.mayDecide.join(', ')} may decide now; the API refuses anyone else (you are ${session.name}).`,
    decide: (approve, comment) =>
      api.post(`/apps/${seg(w.appId)}/workflows/${seg(w.workflowId)}/${approve ? 'approve' : 'reject'}`, { comment }),
    done: (result, approve) => {
      notify(`Workflow ${result.workflowId} of ${result.appId} ${approve ? 'approved' : 'rejected'} (now ${result.state}).`);
      after();
    },
  });
}

async function listView(ctx) {
  const state = ctx.query.get('state') || '';
  const mine = ctx.query.get('mine') === '1';
  const workflows = await api.get('/workflows', { state, approver: mine ? session.name : '' });
  const open = workflows.filter(w => w.mayDecide.length > 0);
  const closed = workflows.filter(w => w.mayDecide.length === 0);
  const filtered = state || mine;

  const go = (nextState, nextMine) => {
    const query = new URLSearchParams();
    if (nextState) query.set('state', nextState);
    if (nextMine) query.set('mine', '1');
    const text = query.toString();
    ctx.navigate(`/workflows${text ? `?${text}` : ''}`);
  };

  return html`${pageHeader('Workflows', 'Approvals-bot requests: the model recommends, a named person decides.',
      html`<button class="secondary" @click=${() => ctx.refresh()}>Refresh</button>`)}
    <form class="inline-form workflow-filters card" aria-label="Filter workflows" @submit=${e => e.preventDefault()}>
      <label>State
        <select name="state" @change=${e => go(e.target.value, mine)}>
          <option value="" ?selected=${!state}>All (waiting first)</option>
          <option value="open" ?selected=${state === 'open'}>Waiting for a decision</option>
          ${states.map(s => html`<option value=${s} ?selected=${state === s}>${s.replace('_', ' ')}</option>`)}
        </select></label>
      <label class="check"><input type="checkbox" name="mine" .checked=${mine} @change=${e => go(state, e.target.checked)}>
        Only those I (${session.name}) may decide</label>
    </form>
    <div class="grid three queue-stats">
      ${stat('Waiting for a decision', open.length)}
      ${stat('Escalated', open.filter(w => w.state === 'escalated').length, 'the approvers did not decide in time')}
      ${stat('Decided or timed out', closed.length, 'most recent first')}
    </div>
    ${workflows.length === 0
      ? emptyState(filtered ? 'No workflows match these filters.' : 'No approvals-bot workflows yet.',
        filtered ? html`<a href="/console/workflows" data-route>Show all workflows</a>`
          : html`<span class="muted">An app built from the approvals-bot template starts one on every run (POST /apps/{appId}/run).</span>`)
      : nothing}
    ${open.length ? html`<h2>Waiting for a decision</h2>
      ${repeat(open, w => `${w.appId}/${w.workflowId}`, w => openCard(w, ctx))}` : nothing}
    ${closed.length ? html`<h2>Decided and timed out</h2>
      ${dataTable([
        { label: 'Workflow', value: w => link(workflowPath(w), w.workflowId) },
        { label: 'App', value: w => link(`/apps/${seg(w.appId)}`, w.appId) },
        { label: 'State', value: w => stateBadge(w.state) },
        { label: 'Requester', value: w => w.requester },
        { label: 'Approvers', value: w => people(w.approvers) },
        { label: 'Decided by', value: w => w.decidedBy || html`<span class="muted">—</span>` },
        { label: 'Updated', value: w => when(w.updatedAt) },
      ], closed, 'None.', { label: 'Decided workflows', key: w => `${w.appId}/${w.workflowId}` })}` : nothing}`;
}

function openCard(w, ctx) {
  return html`<section class="card workflow" aria-label=${`Workflow ${w.workflowId} of ${w.appId}`}>
    <div class="approval-head">
      <h3>${link(`/apps/${seg(w.appId)}`, w.appName || w.appId)} <code class="muted">${w.appId}</code> <span class="muted">· ${link(workflowPath(w), w.workflowId)}</span></h3>
      ${stateBadge(w.state)} ${verdict(w.recommendation)}
    </div>
    <dl class="approval-facts">
      <div><dt>Requester</dt><dd>${w.requester}</dd></div>
      <div><dt>Approvers</dt><dd>${people(w.approvers)}</dd></div>
      <div><dt>Escalates to</dt><dd>${people(w.escalateTo)}</dd></div>
      <div><dt>May decide now</dt><dd>${people(w.mayDecide)}</dd></div>
      <div><dt>${w.state === 'escalated' ? 'Escalation deadline' : 'Deadline'}</dt><dd>${when(w.deadline)}</dd></div>
      <div><dt>Started</dt><dd>${when(w.createdAt)}</dd></div>
    </dl>
    ${w.requestText ? html`<h4>Request</h4><p class="request-text">${w.requestText}</p>` : nothing}
    ${w.recommendation ? html`<h4>Recommendation</h4><pre class="recommendation">${w.recommendation}</pre>` : nothing}
    ${decisionFor(w, ctx, () => ctx.refresh())}
  </section>`;
}

async function detailView(ctx) {
  const { appId, workflowId } = ctx.params;
  const w = await api.get(`/apps/${seg(appId)}/workflows/${seg(workflowId)}`);
  const open = w.mayDecide.length > 0;
  return html`${pageHeader(`Workflow ${w.workflowId}`, html`${link(`/apps/${seg(w.appId)}`, w.appId)} version ${w.version} · run <code>${w.runId}</code>`,
      html`<a class="button secondary" href="/console/workflows" data-route>All workflows</a>`)}
    <div class="grid four queue-stats">
      ${stat('State', stateBadge(w.state))}
      ${stat('Requester', w.requester)}
      ${stat(w.state === 'escalated' ? 'Escalation deadline' : 'Deadline', when(w.deadline), open ? 'the workflow escalates or times out then' : 'final')}
      ${stat('Started', when(w.createdAt))}
    </div>
    <div class="grid two">
      <div class="card"><h2>Request</h2><p class="request-text">${w.requestText}</p></div>
      <div class="card"><h2>Recommendation ${verdict(w.recommendation)}</h2><pre class="recommendation">${w.recommendation}</pre></div>
    </div>
    <div class="card">
      <dl class="approval-facts">
        <div><dt>Approvers</dt><dd>${people(w.approvers)}</dd></div>
        <div><dt>Escalates to</dt><dd>${people(w.escalateTo)}</dd></div>
        <div><dt>May decide now</dt><dd>${people(w.mayDecide)}</dd></div>
      </dl>
      ${w.decision ? html`<div class=${`alert ${w.decision.approve ? 'success' : 'error'}`} role="status">
          <strong>${w.decision.approve ? 'Approved' : 'Rejected'}</strong> by ${w.decision.by}, ${when(w.decision.at)}: ${w.decision.comment}</div>`
        : nothing}
      ${open ? decisionFor(w, ctx, () => ctx.refresh()) : nothing}
    </div>
    <h2>Notifications of the requester</h2>
    ${dataTable([
      { label: 'Event', value: n => n.event },
      { label: 'Delivery', value: n => badge(n.state) },
      { label: 'Attempts', value: n => n.attempts, num: true },
      { label: 'Last error', value: n => n.lastError || html`<span class="muted">—</span>` },
      { label: 'Created', value: n => when(n.createdAt) },
      { label: 'Delivered', value: n => when(n.deliveredAt) },
    ], w.notifications, 'No notifications (nothing decided yet, or the app names no notify connector).', { label: 'Notifications' })}
    <h2>History</h2>
    ${dataTable([
      { label: 'At', value: h => when(h.at) },
      { label: 'Event', value: h => badge(h.event, h.event === 'started' ? 'info' : undefined) },
      { label: 'By', value: h => h.actor },
      { label: 'Detail', value: h => html`<span class="gate-detail">${h.detail}</span>` },
    ], w.history, 'No history.', { label: 'History' })}`;
}
