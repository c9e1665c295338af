// Approvals queue: submitted versions waiting for an approver (GET /admin/approvals), each with its gates and their
// results, and approve / reject with a comment (POST /admin/apps/{appId}/versions/{version}/approve|reject). Every
// rule (comment required, nobody decides on their own version, the version must still be submitted) is the admin
// API's: its refusals are shown next to the form that caused them.
import {
  html, nothing, render, ref, repeat, api, seg, ApiError, pageHeader, stat, emptyState, errorView, dataTable, badge, when,
  link, actionButton, notify, session, can,
} from '../js/core.js';

export const nav = { label: 'Approvals', path: '/approvals', order: 30 };

/** Roles the admin API lets approve or reject a submitted version. */
const deciders = ['approver', 'admin'];

export const routes = [
  { path: '/approvals', title: 'Approvals', view: approvalsView },
];

async function approvalsView(ctx) {
  let queue;
  try {
    queue = await api.get('/approvals');
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      return html`${pageHeader('Approvals')}${errorView(error)}
        <p class="muted">The queue is for approvers, admins and viewers; an author follows their own versions on the app's page.</p>`;
    }
    throw error;
  }

  const header = pageHeader('Approvals', 'Submitted versions waiting for an approver, with the results of their gates.',
    html`<button class="secondary" @click=${() => ctx.refresh()}>Refresh</button>`);
  if (queue.length === 0) {
    return html`${header}${emptyState('Nothing is waiting for approval.',
      html`<span class="muted">A version appears here when its author submits it, its gates pass and it needs an approver (external apps, or a policy that asks for one).</span>`)}`;
  }

  // The queue gives the gates; the version gives the regression tests the author declared (their results are in the
  // regression_tests gate). A version that cannot be read only loses that list.
  const versions = await Promise.all(queue.map(item =>
    api.get(`/apps/${seg(item.appId)}/versions/${seg(item.version)}`).catch(() => null)));
  const failing = queue.filter(item => item.gates.some(g => !g.passed)).length;
  const oldest = queue.reduce((a, b) => (a.submittedAt <= b.submittedAt ? a : b));

  return html`${header}
    <div class="grid three queue-stats">
      ${stat('Waiting', queue.length, queue.length === 1 ? 'version' : 'versions')}
      ${stat('With a failed gate', failing, 'look at the details before approving')}
      ${stat('Oldest submission', when(oldest.submittedAt), `${oldest.appId} v${oldest.version}`)}
    </div>
    ${!can(...deciders) ? html`<div class="alert info" role="note">Your role (${session.role}) sees the queue but cannot approve or reject; that needs ${deciders.join(' or ')}.</div>` : nothing}
    ${repeat(queue, item => `${item.appId}/${item.version}`, (item, i) => pendingCard(item, versions[i], ctx))}`;
}

function pendingCard(item, version, ctx) {
  const name = `${item.appId} v${item.version}`;
  const tests = version?.manifest?.tests ?? [];
  const ownVersion = item.author === session.name;
  return html`<section class="card approval" aria-label=${`Approval of ${name}`}>
    <div class="approval-head">
      <h2>${link(`/apps/${seg(item.appId)}`, item.appId)} <span class="muted">version ${item.version}</span></h2>
      ${badge('submitted', 'warn')}
    </div>
    <dl class="approval-facts">
      <div><dt>Author</dt><dd>${item.author}</dd></div>
      <div><dt>Team</dt><dd>${item.team}</dd></div>
      <div><dt>Audience</dt><dd>${badge(item.audience, item.audience === 'external' ? 'warn' : 'info')}</dd></div>
      <div><dt>Submitted</dt><dd>${when(item.submittedAt)}</dd></div>
    </dl>
    <h3>Gates</h3>
    ${gatesTable(item.gates, `Gates of ${name}`)}
    ${tests.length ? html`<h3>Regression tests</h3>
      <p class="muted">Declared by the author; their results are in the <code>regression_tests</code> gate above.</p>
      ${dataTable([
        { label: 'Test', value: t => html`<code>${t.name}</code>` },
        { label: 'Model', value: t => t.model || html`<span class="muted">app default</span>` },
        { label: 'Assertions', value: t => html`${(t.assertions || []).map(a => html`<div><code>${a.kind}</code> ${a.value}</div>`)}` },
      ], tests, 'No regression tests.', { label: `Regression tests of ${name}` })}` : nothing}
    ${decisionPanel({
      key: `version:${item.appId}/${item.version}`,
      label: name,
      roles: deciders,
      hint: ownVersion ? `You wrote this version: the API refuses your own decision; another approver must decide.` : null,
      decide: (approve, comment) => api.post(`/apps/${seg(item.appId)}/versions/${seg(item.version)}/${approve ? 'approve' : 'reject'}`, { comment }),
      done: (result, approve) => {
        notify(`${name} ${approve ? 'approved' : 'rejected'} (now ${result.state}).`);
        ctx.refresh();
      },
    })}
  </section>`;
}

/** A version's gate results as a table: gate, passed / failed, details, when. */
export function gatesTable(gates, label) {
  return dataTable([
    { label: 'Gate', value: g => html`<code>${g.gate}</code>` },
    { label: 'Result', value: g => badge(g.passed ? 'passed' : 'failed', g.passed ? 'ok' : 'bad') },
    { label: 'Details', value: g => html`<span class="gate-detail">${g.detail || '—'}</span>` },
    { label: 'At', value: g => when(g.at) },
  ], gates, 'No gate results recorded.', { label });
}

// ---- The decision form (also used by the workflows page) -----------------------------------------------------

const panels = new WeakMap();

/**
 * A comment box with Approve and Reject buttons that keeps its own state (the comment typed, the refusal shown)
 * between renders of the page. options: key (what it decides on), label (for accessible names), roles (who may;
 * others see it disabled; null: any role may call), hint (a note shown above the buttons), decide(approve, comment)
 * → the API call's promise, done(result, approve) after a success. A refusal is shown under the buttons.
 */
export function decisionPanel(options) {
  return html`<div class="decision" ${ref(host => {
    if (!host) return;
    let state = panels.get(host);
    if (!state || state.key !== options.key) {
      state = { key: options.key, error: null, busy: false };
      panels.set(host, state);
    }
    state.options = options;
    drawPanel(host, state);
  })}></div>`;
}

function drawPanel(host, state) {
  const { label, roles, hint, decide, done } = state.options;
  const allowed = !roles || can(...roles);
  const submit = async approve => {
    const textarea = host.querySelector('textarea');
    state.busy = true;
    state.error = null;
    drawPanel(host, state);
    try {
      const result = await decide(approve, textarea.value);
      state.busy = false;
      textarea.value = '';
      drawPanel(host, state);
      done(result, approve);
    } catch (error) {
      state.busy = false;
      state.error = error;
      drawPanel(host, state);
    }
  };
  render(html`<h3>Decision</h3>
    <label>Comment <span class="help">Required: it is kept with the decision and in the audit log (at most 1000 characters).</span>
      <textarea name="comment" maxlength="1000" rows="3" aria-label=${`Comment on ${label}`} ?disabled=${!allowed}></textarea></label>
    ${hint ? html`<p class="muted decision-hint">${hint}</p>` : nothing}
    <div class="row decision-actions">
      ${actionButton(`Approve`, () => submit(true), roles, { disabled: state.busy, title: `Approve ${label}` })}
      ${actionButton(`Reject`, () => submit(false), roles, { kind: 'danger', disabled: state.busy, title: `Reject ${label}` })}
      ${state.busy ? html`<span class="muted">Sending…</span>` : nothing}
    </div>
    ${state.error ? errorView(state.error) : nothing}`, host);
}
