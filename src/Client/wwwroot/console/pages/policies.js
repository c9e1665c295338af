// Policies: the active policy set (YAML) in an editor with line numbers, saving a new version (admins; refusals are
// shown at their lines), the version history, and a dry run of a request against the active version.
// Everything comes from the admin API: GET/PUT /admin/policies, GET /admin/policies/versions, POST /admin/policies/dry-run.
import {
  html, nothing, render, api, ApiError, pageHeader, errorView, dataTable, actionButton, badge, when,
  notify, can, session, classMap, live, ref, createRef, link, seg,
} from '../js/core.js';

export const nav = { label: 'Policies', path: '/policies', order: 70 };

export const routes = [
  { path: '/policies', title: 'Policies', view: policiesView },
];

/** Roles the admin API lets publish a policy set (PUT /admin/policies: AllowRoles(Admin)). */
const PUBLISH_ROLES = ['admin'];

const STARTER = `policies:
  - id: prevent_external_llm_for_pii
    description: Block calls to premium external LLMs if app accesses PII
    condition:
      - app.data_contains: [email, ssn, phone]
      - model.tier: premium
    action: block
`;

async function policiesView(ctx) {
  const [active, versions] = await Promise.all([
    api.get('/policies').catch(error => { if (error instanceof ApiError && error.status === 404) return null; throw error; }),
    api.get('/policies/versions'),
  ]);

  const state = {
    active,
    versions,
    text: active?.yaml ?? STARTER,
    comment: '',
    errors: [],            // [{ line, column, message }] of the last refused save
    saveError: null,       // an ApiError that is not a list of line errors (415, 403, …)
    saving: false,
    viewing: null,         // an older version whose text is shown
    dryRun: null,          // the last dry-run answer
    dryRunError: null,
    dryRunning: false,
  };

  const host = document.createElement('div');
  const textarea = createRef();
  const gutter = createRef();
  const draw = () => render(template(), host);

  const lineCount = () => state.text.split('\n').length;
  const errorLines = () => new Set(state.errors.map(e => e.line));

  function syncScroll() {
    if (textarea.value && gutter.value) gutter.value.style.transform = `translateY(${-textarea.value.scrollTop}px)`;
  }

  function goToLine(line, column) {
    const area = textarea.value;
    if (!area) return;
    const lines = area.value.split('\n');
    const index = Math.min(Math.max(line, 1), lines.length) - 1;
    let offset = 0;
    for (let i = 0; i < index; i++) offset += lines[i].length + 1;
    const caret = offset + Math.min(Math.max((column || 1) - 1, 0), lines[index].length);
    area.focus();
    area.setSelectionRange(caret, caret);
    const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 18;
    area.scrollTop = Math.max(0, (index - 3) * lineHeight);
    syncScroll();
  }

  async function save() {
    state.saving = true;
    state.saveError = null;
    draw();
    try {
      const published = await api.put('/policies', state.text, { contentType: 'application/yaml', query: { comment: state.comment } });
      const sameVersion = state.active && published.version === state.active.version;
      state.errors = [];
      state.comment = '';
      state.active = published;
      state.text = published.yaml;
      state.versions = await api.get('/policies/versions');
      notify(sameVersion ? `Unchanged: version ${published.version} stays active.` : `Saved: version ${published.version} is active.`);
    } catch (error) {
      const lineErrors = error instanceof ApiError && Array.isArray(error.problem?.errors) ? error.problem.errors : null;
      if (lineErrors) {
        state.errors = lineErrors;
        state.saveError = new ApiError(error.status, { title: error.title, detail: error.detail });
      } else {
        state.errors = [];
        state.saveError = error;
      }
    } finally {
      state.saving = false;
      draw();
    }
  }

  async function dryRun(event) {
    event.preventDefault();
    const form = event.target;
    const values = Object.fromEntries(new FormData(form).entries());
    const body = {
      appId: values.appId.trim(),
      model: values.model.trim(),
      messages: [{ role: values.role || 'user', content: values.content }],
      user: values.user.trim() || null,
      maxTokens: values.maxTokens ? Number(values.maxTokens) : null,
    };
    state.dryRunning = true;
    state.dryRunError = null;
    draw();
    try {
      state.dryRun = await api.post('/policies/dry-run', body);
    } catch (error) {
      state.dryRun = null;
      state.dryRunError = error;
    } finally {
      state.dryRunning = false;
      draw();
    }
  }

  function editorCard() {
    const marked = errorLines();
    const count = lineCount();
    const digits = String(count).length;
    const canSave = can(...PUBLISH_ROLES);
    return html`<section class="card" aria-labelledby="policy-editor-title">
      <h2 id="policy-editor-title">${state.active ? html`Active policy set · version ${state.active.version}` : 'No policy set published yet'}</h2>
      ${state.active
        ? html`<p class="muted policy-meta">Version <strong>${state.active.version}</strong> by <strong>${state.active.author}</strong>,
            ${when(state.active.createdAt)}${state.active.comment ? html` — “${state.active.comment}”` : nothing}</p>`
        : html`<p class="muted">Every call is allowed by default. ${canSave ? 'Edit the example below and save it to publish version 1.' : ''}</p>`}
      <div class="editor policy-editor">
        <div class="gutter" aria-hidden="true" style=${`width:calc(${digits}ch + 18px)`}>
          <div class="gutter-lines" ${ref(gutter)}>${Array.from({ length: count }, (_, i) =>
            html`<span class=${classMap({ 'error-line': marked.has(i + 1) })} data-line=${i + 1}>${i + 1}</span>`)}</div>
        </div>
        <textarea aria-label="Policy YAML" spellcheck="false" wrap="off" autocapitalize="off" autocomplete="off"
          ?readonly=${!canSave} ${ref(textarea)} .value=${live(state.text)}
          @input=${e => { state.text = e.target.value; draw(); }} @scroll=${syncScroll}></textarea>
      </div>
      ${state.errors.length ? html`<div class="alert error policy-errors" role="alert">
          <strong>${state.saveError?.title || 'Invalid policy document'}</strong>
          <div>${state.saveError?.detail || ''}</div>
          <ul aria-label="Policy errors">${state.errors.map(e => html`<li><button type="button" class="link-button"
              @click=${() => goToLine(e.line, e.column)}>Line ${e.line}, column ${e.column}: ${e.message}</button></li>`)}</ul>
        </div>` : state.saveError ? errorView(state.saveError) : nothing}
      <div class="inline-form policy-save">
        <label>Comment <span class="help">why this change (kept in the version and the audit log)</span>
          <input name="comment" maxlength="500" .value=${live(state.comment)} ?disabled=${!canSave}
            @input=${e => { state.comment = e.target.value; }}></label>
        ${actionButton(state.saving ? 'Saving…' : 'Save', save, PUBLISH_ROLES, { disabled: state.saving })}
        ${state.active && state.text !== state.active.yaml
          ? html`<button type="button" class="secondary" @click=${() => { state.text = state.active.yaml; state.errors = []; state.saveError = null; draw(); }}>Discard changes</button>`
          : nothing}
      </div>
      ${canSave ? nothing : html`<p class="muted">Your role (${session.role}) can read and dry-run policies; publishing needs admin.</p>`}
    </section>`;
  }

  function historyCard() {
    const rows = [...state.versions].reverse();
    return html`<section class="card" aria-labelledby="policy-history-title">
      <h2 id="policy-history-title">Version history</h2>
      ${dataTable([
        { label: 'Version', value: v => html`v${v.version} ${v.active ? badge('active', 'ok') : nothing}` },
        { label: 'Author', value: v => v.author },
        { label: 'Published', value: v => when(v.createdAt) },
        { label: 'Comment', value: v => v.comment || html`<span class="muted">—</span>` },
        { label: '', value: v => html`<button type="button" class="secondary" aria-label=${`View version ${v.version}`}
            @click=${() => { state.viewing = v; draw(); }}>View</button>` },
      ], rows, 'No versions yet: nothing has been published.', { label: 'Policy versions', key: v => v.version })}
      ${state.viewing ? html`<div class="policy-version-view">
          <h3>Version ${state.viewing.version}${state.viewing.active ? ' (active)' : ''} by ${state.viewing.author}</h3>
          <pre aria-label=${`Policy version ${state.viewing.version}`}>${state.viewing.yaml}</pre>
          <div class="row">
            ${can(...PUBLISH_ROLES) && !state.viewing.active ? html`<button type="button" class="secondary" @click=${() => {
              state.text = state.viewing.yaml; state.comment = `restore version ${state.viewing.version}`; state.errors = []; state.viewing = null; draw();
              textarea.value?.focus();
            }}>Copy into editor</button>` : nothing}
            <button type="button" class="secondary" @click=${() => { state.viewing = null; draw(); }}>Close</button>
          </div></div>` : nothing}
    </section>`;
  }

  function dryRunCard() {
    const result = state.dryRun;
    return html`<section class="card" aria-labelledby="policy-dryrun-title">
      <h2 id="policy-dryrun-title">Dry run</h2>
      <p class="muted">What the <strong>active</strong> version${state.active ? ` (v${state.active.version})` : ''} would do to a request of an app.
        The app's facts (team, audience, declared data classes) come from its manifest; the message is scanned for PII and counted,
        never stored or sent. ${state.active && state.text !== state.active.yaml ? html`<strong>The editor has unsaved changes: they are not evaluated.</strong>` : nothing}</p>
      <form class="stack policy-dryrun" @submit=${dryRun} aria-label="Dry run">
        <div class="inline-form">
          <label>App id<input name="appId" required autocomplete="off"></label>
          <label>Model or tier <span class="help">e.g. premium, gpt-4o; empty = app's default tier</span><input name="model" autocomplete="off"></label>
        </div>
        <div class="inline-form">
          <label>User <span class="help">sticky key for samples</span><input name="user" autocomplete="off"></label>
          <label>Max tokens<input name="maxTokens" type="number" min="1" step="1"></label>
          <label>Role<select name="role"><option>user</option><option>system</option><option>assistant</option></select></label>
        </div>
        <label>Message<textarea name="content" required rows="3"></textarea></label>
        <div><button type="submit" ?disabled=${state.dryRunning}>${state.dryRunning ? 'Evaluating…' : 'Dry run'}</button></div>
      </form>
      ${errorView(state.dryRunError)}
      ${result ? dryRunResult(result) : nothing}
    </section>`;
  }

  function dryRunResult(result) {
    const d = result.decision;
    return html`<div class="policy-dryrun-result" aria-label="Dry-run result" role="region">
      <h3>Decision for ${link(`/apps/${seg(result.appId)}`, result.appId)}</h3>
      <p class="row"><span>Result:</span> ${badge(d.blocked ? 'block' : 'allow', d.blocked ? 'bad' : 'ok')}
        <code class="decision-summary">${d.summary}</code>
        <span class="muted">policy version ${d.policyVersion}</span></p>
      <ul class="decision-facts">
        ${d.blocked ? html`<li>Blocked by <code>${d.blockedBy}</code>: the call would be refused (403 policy_blocked).</li>` : nothing}
        ${d.routeTier ? html`<li>Routed to tier <code>${d.routeTier}</code>.</li>` : nothing}
        ${d.redact ? html`<li>PII is redacted before the model sees the request.</li>` : nothing}
        ${d.requiresApproval ? html`<li>A promotion needs a named approver.</li>` : nothing}
        <li>PII found in the message: ${result.piiClasses.length ? result.piiClasses.join(', ') : 'none'}.</li>
      </ul>
      ${dataTable([
        { label: 'Policy', value: m => html`<code>${m.policyId}</code>${m.description ? html`<div class="muted">${m.description}</div>` : nothing}` },
        { label: 'Action', value: m => html`${badge(m.action, m.action === 'block' ? 'bad' : m.action === 'allow' ? 'ok' : 'info')}${m.tier ? html` → ${m.tier}` : nothing}` },
        { label: 'Applied', value: m => m.applied ? badge('applied', 'ok') : badge('overridden', 'warn') },
        { label: 'Why', value: m => m.why },
      ], result.matches, 'No policy matched: the call is allowed by default.', { label: 'Matching policies' })}
      <details><summary>Facts evaluated</summary>
        ${dataTable([
          { label: 'Fact', value: ([name]) => html`<code>${name}</code>` },
          { label: 'Value', value: ([, value]) => value === null || value === undefined ? html`<span class="muted">not available</span>`
              : Array.isArray(value) ? (value.length ? value.join(', ') : html`<span class="muted">none</span>`) : String(value) },
        ], Object.entries(result.facts || {}), 'No facts.', { label: 'Facts' })}
      </details>
      ${result.redactedMessages ? html`<h3>As the model would see it</h3>
        ${result.redactedMessages.map(m => html`<pre><strong>${m.role}:</strong> ${m.content}</pre>`)}` : nothing}
    </div>`;
  }

  function template() {
    return html`${pageHeader('Policies', 'Policy-as-code: the rules every model call is judged by. Saving validates the whole document; an invalid one changes nothing.')}
      ${editorCard()}
      <div class="grid two policy-lower">${dryRunCard()}${historyCard()}</div>`;
  }

  draw();
  requestAnimationFrame(syncScroll);
  return html`${host}`;
}
