// Catalog: the building blocks apps are made of (templates, connectors, shared prompts and chains) with their usage,
// the reuse rate and retirement candidates; one entry's versions and parameters; and creating an app from a template
// through a form generated from the template's parameter specs. Every figure, rule and error is the admin API's:
// GET /admin/catalog, /admin/catalog/usage, /admin/catalog/retirement, /admin/catalog/{kind}/{name},
// POST /admin/manifests/validate, POST /admin/apps and POST /admin/apps/{appId}/versions/1/submit.
import {
  html, nothing, render, ref, api, ApiError, seg, link, pageHeader, stat, emptyState, errorView, dataTable, badge,
  actionButton, money, number, percent, when, notify, session, can,
} from '../js/core.js';

export const nav = { label: 'Catalog', path: '/catalog', order: 40 };

const kinds = ['template', 'connector', 'prompt', 'chain'];
const creators = ['author', 'admin'];
const validators = ['author', 'approver', 'admin'];

/** Console path of an entry: kinds are plural in the console's paths (/catalog/templates/summarizer). */
const entryPath = (kind, name, version) => `/catalog/${kind}s/${seg(name)}${version ? `?version=${encodeURIComponent(version)}` : ''}`;

/** The singular kind of a console path segment ('templates' → 'template'), or null. */
function kindOf(segment) {
  const text = String(segment || '').toLowerCase();
  const singular = text.endsWith('s') ? text.slice(0, -1) : text;
  return kinds.includes(singular) ? singular : null;
}

/** A query string of the non-empty values. */
function queryOf(values) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== null && String(value).trim() !== '') search.set(key, String(value).trim());
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * A part of a page that redraws itself on its own state changes (a form and its results), so typing is kept when an
 * answer comes back. draw(update) returns the part's template; update() redraws it.
 */
function island(draw) {
  let host = null;
  const update = () => { if (host) render(draw(update), host); };
  return html`<div ${ref(element => { if (element && element !== host) { host = element; update(); } })}></div>`;
}

// ---- The catalog list ----------------------------------------------------------------------------------------

async function catalogView(ctx) {
  const filters = { search: ctx.query.get('search') || '', kind: ctx.query.get('kind') || '', tag: ctx.query.get('tag') || '' };
  const retirementQuery = { days: ctx.query.get('days') || '', maxCallsPerDay: ctx.query.get('maxCallsPerDay') || '', minCostUsd: ctx.query.get('minCostUsd') || '' };
  // A bad filter typed into the URL is shown next to the filters, not instead of the page.
  const [entries, usage, retirement] = await Promise.all([
    api.get('/catalog', filters).catch(error => error),
    api.get('/catalog/usage', { days: retirementQuery.days }).catch(error => error),
    api.get('/catalog/retirement', retirementQuery).catch(error => error),
  ]);
  const go = values => ctx.navigate(`/catalog${queryOf({ ...filters, ...retirementQuery, ...values })}`);
  const filtered = filters.search || filters.kind || filters.tag;

  const onFilter = event => {
    event.preventDefault();
    const form = event.target;
    go({ search: form.elements.search.value, kind: form.elements.kind.value, tag: form.elements.tag.value });
  };
  const onCriteria = event => {
    event.preventDefault();
    const form = event.target;
    go({ days: form.elements.days.value, maxCallsPerDay: form.elements.maxCallsPerDay.value, minCostUsd: form.elements.minCostUsd.value });
  };

  const reuse = usage instanceof Error ? null : usage.reuse;
  const candidates = retirement instanceof Error ? null : retirement.candidates;

  return html`
    ${pageHeader('Catalog', 'Templates, connectors, shared prompts and chains apps are built from — with who uses them.')}
    <div class="grid four catalog-stats">
      ${stat('Entries', entries instanceof Error ? '—' : number(entries.length), filtered ? 'matching the filters' : 'latest version of each')}
      ${stat('Reuse rate (apps)', reuse ? percent(reuse.appsShare) : '—', reuse ? `${number(reuse.appsOnCatalog)} of ${number(reuse.apps)} apps built on the catalog` : nothing)}
      ${stat('Reuse rate (calls)', reuse ? percent(reuse.callsShare) : '—', reuse ? `${number(reuse.callsOnCatalog)} of ${number(reuse.calls)} calls` : nothing)}
      ${stat('Retirement candidates', candidates ? number(candidates.length) : '—', candidates ? `of ${number(retirement.appsConsidered)} apps` : nothing)}
    </div>

    <section class="card" aria-labelledby="catalog-entries">
      <h2 id="catalog-entries">Entries</h2>
      <form class="inline-form catalog-filters" role="search" aria-label="Filter the catalog" @submit=${onFilter}>
        <label>Search<input name="search" type="search" .value=${filters.search} placeholder="name, description or tag"></label>
        <label>Kind<select name="kind">
          <option value="" ?selected=${!filters.kind}>Every kind</option>
          ${kinds.map(k => html`<option value=${k} ?selected=${kindOf(filters.kind) === k}>${k}</option>`)}
        </select></label>
        <label>Tag<input name="tag" .value=${filters.tag} placeholder="e.g. documents"></label>
        <button type="submit">Filter</button>
        ${filtered ? html`<a class="button secondary" href="/console/catalog" data-route>Clear</a>` : nothing}
      </form>
      ${entries instanceof Error ? errorView(entries) : dataTable([
        { label: 'Name', value: e => html`${link(entryPath(e.kind, e.name), e.name)}${e.certified ? html` ${badge('certified', 'ok')}` : nothing}` },
        { label: 'Kind', value: e => badge(e.kind, 'info') },
        { label: 'Version', value: e => html`<code>${e.version}</code>` },
        { label: 'Owner', value: e => e.owner },
        { label: 'What it is for', value: e => html`<span class="catalog-description">${e.description}</span>` },
        { label: 'Tags', value: e => tagLinks(e.tags, filters) },
        { label: 'Apps', num: true, value: e => number(e.usage?.apps) },
        { label: 'Calls', num: true, value: e => number(e.usage?.calls) },
      ], entries, filtered ? 'Nothing in the catalog matches these filters.' : 'The catalog is empty.', { label: 'Catalog entries', key: e => `${e.kind}/${e.name}@${e.version}` })}
    </section>

    <div class="grid two">
      <section class="card" aria-labelledby="catalog-usage">
        <h2 id="catalog-usage">Most used</h2>
        ${usage instanceof Error ? errorView(usage) : html`
          <details class="muted"><summary>How usage and reuse are counted</summary><p>${usage.definition}</p></details>
          ${dataTable([
            { label: 'Entry', value: u => link(entryPath(u.kind, u.name), u.name) },
            { label: 'Kind', value: u => badge(u.kind, 'info') },
            { label: 'Apps', num: true, value: u => number(u.apps) },
            { label: 'Calls', num: true, value: u => number(u.calls) },
          ], [...usage.byName].sort((a, b) => b.apps - a.apps || b.calls - a.calls).slice(0, 10),
          'No app references the catalog yet — create one from a template.', { label: 'Catalog usage' })}`}
      </section>

      <section class="card" aria-labelledby="catalog-retirement">
        <h2 id="catalog-retirement">Retirement candidates</h2>
        ${retirement instanceof Error ? errorView(retirement) : html`
          <p class="muted">Apps with at most ${number(retirement.criteria.maxCallsPerDay, 2)} calls a day that cost at least
            ${money(retirement.criteria.minCostUsd)} over the last ${number(retirement.criteria.days)} days.</p>
          <form class="inline-form" aria-label="Retirement criteria" @submit=${onCriteria}>
            <label>Days<input name="days" type="number" min="1" max="366" step="1" .value=${String(retirement.criteria.days)}></label>
            <label>Max calls a day<input name="maxCallsPerDay" type="number" min="0" step="any" .value=${String(retirement.criteria.maxCallsPerDay)}></label>
            <label>Min cost (USD)<input name="minCostUsd" type="number" min="0" step="any" .value=${String(retirement.criteria.minCostUsd)}></label>
            <button type="submit" class="secondary">Apply</button>
          </form>
          ${dataTable([
            { label: 'App', value: c => html`${link(`/apps/${seg(c.appId)}`, c.appId)}<div class="muted">${c.name}</div>` },
            { label: 'Owner', value: c => html`${c.owner}<div class="muted">${c.team}</div>` },
            { label: 'Calls', num: true, value: c => html`${number(c.calls)}<div class="muted">${number(c.callsPerDay, 2)}/day</div>` },
            { label: 'Cost', num: true, value: c => html`${money(c.costUsd)}<div class="muted">${c.costPerCallUsd === null ? 'no calls' : `${money(c.costPerCallUsd)}/call`}</div>` },
            { label: 'Why', value: c => c.reason },
          ], candidates, 'No retirement candidates: every app is either used or cheap.', { label: 'Retirement candidates', key: c => c.appId })}`}
      </section>
    </div>`;
}

function tagLinks(tags, filters) {
  if (!tags || tags.length === 0) return html`<span class="muted">—</span>`;
  return html`<span class="catalog-tags">${tags.map(t => html`<a class="badge" href=${`/console/catalog${queryOf({ ...filters, tag: t })}`} data-route>${t}</a>`)}</span>`;
}

// ---- One entry -----------------------------------------------------------------------------------------------

async function loadEntry(kindSegment, name) {
  const kind = kindOf(kindSegment);
  if (!kind) throw new ApiError(404, { title: 'Not found', detail: `'${kindSegment}' is not a catalog kind: use templates, connectors, prompts or chains.` });
  return api.get(`/catalog/${kind}/${seg(name)}`);
}

function chosenVersion(entry, wanted) {
  return entry.versions.find(v => v.version === wanted) ?? entry.versions[entry.versions.length - 1];
}

/** A parameter's type in words, with its bounds or choices. */
function typeOf(p) {
  const bounds = [];
  if (p.min !== null && p.min !== undefined) bounds.push(`min ${p.min}`);
  if (p.max !== null && p.max !== undefined) bounds.push(`max ${p.max}`);
  const unit = p.kind === 'text' ? ' characters' : p.kind === 'list' ? ' items' : p.kind === 'duration' ? ' seconds' : '';
  const choices = p.kind === 'choice' && p.choices?.length ? ` (${p.choices.join(', ')})` : '';
  return `${p.kind}${choices}${bounds.length ? ` — ${bounds.join(', ')}${unit}` : ''}`;
}

function parametersTable(parameters, empty) {
  return dataTable([
    { label: 'Parameter', value: p => html`<code>${p.name}</code>` },
    { label: 'Type', value: p => typeOf(p) },
    { label: 'Required', value: p => p.required ? badge('required', 'warn') : html`<span class="muted">optional</span>` },
    { label: 'Default', value: p => p.default === null || p.default === undefined ? html`<span class="muted">—</span>` : html`<code>${p.default}</code>` },
    { label: 'Description', value: p => p.description },
  ], parameters, empty, { label: 'Parameters', key: p => p.name });
}

async function entryView(ctx) {
  const entry = await loadEntry(ctx.params.kind, ctx.params.name);
  const shown = chosenVersion(entry, ctx.query.get('version'));
  const isTemplate = entry.kind === 'template';
  const create = isTemplate
    ? actionButton('Create an app from this template', () => ctx.navigate(`/catalog/templates/${seg(entry.name)}/new?version=${encodeURIComponent(shown.version)}`), creators)
    : nothing;

  return html`
    ${pageHeader(entry.name, shown.description, create)}
    <p class="muted">${link('/catalog', 'Catalog')} › ${link(`/catalog${queryOf({ kind: entry.kind })}`, `${entry.kind}s`)} › ${entry.name}</p>
    <div class="grid four catalog-stats">
      ${stat('Kind', entry.kind, shown.certified ? 'certified by the platform team' : 'published by a team')}
      ${stat('Version', html`<code>${shown.version}</code>`, shown.reference === entry.latest ? 'latest' : `latest is ${entry.latest}`)}
      ${stat('Apps using it', number(entry.usage.apps), `${number(shown.usage.apps)} on this version`)}
      ${stat('Calls (30 days)', number(entry.usage.calls), `${number(shown.usage.calls)} by apps on this version`)}
    </div>

    <section class="card" aria-labelledby="entry-about">
      <h2 id="entry-about">What it is for</h2>
      <p>${shown.description}</p>
      <dl class="catalog-facts">
        <dt>Reference</dt><dd><code>${shown.reference}</code></dd>
        <dt>Owner</dt><dd>${shown.owner}</dd>
        <dt>Published</dt><dd>${when(shown.publishedAt)} by ${shown.publishedBy}</dd>
        <dt>Tags</dt><dd>${tagLinks(shown.tags, {})}</dd>
        ${shown.safeUpgrade ? html`<dt>Upgrade</dt><dd>${badge('safe patch', 'ok')} apps on an earlier patch run it automatically</dd>` : nothing}
      </dl>
      <p class="muted">${usageHint(entry.kind, shown.reference)}</p>
    </section>

    ${entry.kind === 'prompt' ? html`<section class="card" aria-labelledby="entry-text"><h2 id="entry-text">Prompt text</h2><pre>${shown.text}</pre></section>` : nothing}
    ${entry.kind === 'chain' ? html`<section class="card" aria-labelledby="entry-steps"><h2 id="entry-steps">Steps</h2>
      ${dataTable([
        { label: 'Step', value: s => html`<code>${s.name}</code>` },
        { label: 'Prompt', value: s => html`<span class="catalog-description">${s.prompt}</span>` },
      ], shown.steps || [], 'This chain has no steps.', { label: 'Chain steps' })}</section>` : nothing}

    <section class="card" aria-labelledby="entry-parameters">
      <h2 id="entry-parameters">Parameters</h2>
      ${parametersTable(shown.parameters, entry.kind === 'prompt' || entry.kind === 'chain' ? 'No placeholders to fill.' : 'It takes no parameters.')}
    </section>

    <section class="card" aria-labelledby="entry-versions">
      <h2 id="entry-versions">Versions</h2>
      ${dataTable([
        { label: 'Version', value: v => v.version === shown.version ? html`<strong><code>${v.version}</code></strong> ${badge('shown', 'info')}` : link(entryPath(entry.kind, entry.name, v.version), v.version) },
        { label: 'Published', value: v => html`${when(v.publishedAt)} <span class="muted">by ${v.publishedBy}</span>` },
        { label: 'Safe patch', value: v => v.safeUpgrade ? badge('safe', 'ok') : html`<span class="muted">no</span>` },
        { label: 'Apps', num: true, value: v => number(v.usage.apps) },
        { label: 'Calls', num: true, value: v => number(v.usage.calls) },
      ], [...entry.versions].reverse(), 'No versions.', { label: 'Versions', key: v => v.version })}
    </section>`;
}

function usageHint(kind, reference) {
  switch (kind) {
    case 'template': return `An app runs it with "template": "${reference}" and its parameters in the manifest.`;
    case 'connector': return `An app reads or sends through it with a connector whose "use" is "${reference}" and whose settings are the parameters below.`;
    default: return `An app uses it by listing "${reference}" in its manifest's components; it fills the placeholders below.`;
  }
}

// ---- Create an app from a template ---------------------------------------------------------------------------

const split = text => String(text || '').split(',').map(s => s.trim()).filter(Boolean);

/** A parameter value as the manifest takes it: numbers, booleans and lists typed, text as is; undefined when empty. */
function parameterValue(spec, raw) {
  const text = String(raw ?? '');
  if (text.trim() === '') return undefined;
  switch (spec.kind) {
    case 'integer':
    case 'number': {
      const n = Number(text.trim());
      return Number.isFinite(n) ? n : text.trim(); // the API names what is wrong with a non-number
    }
    case 'boolean': return text === 'true' ? true : text === 'false' ? false : text;
    case 'list': return text.split(/\r?\n/).map(s => s.trim()).filter(Boolean);
    default: return text;
  }
}

/** The create body (the manifest document of POST /admin/apps) the form describes. */
function bodyOf(form, template) {
  const value = name => form.elements.namedItem(name)?.value ?? '';
  const parameters = {};
  for (const spec of template.parameters) {
    const v = parameterValue(spec, value(`parameters.${spec.name}`));
    if (v !== undefined) parameters[spec.name] = v;
  }
  const body = {
    appId: value('appId').trim(),
    name: value('name').trim(),
    owner: value('owner').trim(),
    team: value('team').trim(),
    audience: value('audience'),
    allowedTiers: split(value('allowedTiers')),
    dataClasses: split(value('dataClasses')),
    template: template.reference,
    parameters,
  };
  if (value('defaultTier').trim()) body.defaultTier = value('defaultTier').trim();
  // One optional regression test: a promotion needs at least one, and it runs through the template.
  const testInput = value('tests[0].input');
  const expected = value('tests[0].assertions[0].value').trim();
  if (testInput.trim() || expected) {
    body.tests = [{ name: value('tests[0].name').trim(), input: testInput, assertions: expected ? [{ kind: 'contains', value: expected }] : [] }];
  }
  const expectedCalls = value('expectedCallsPerMonth').trim();
  if (expectedCalls) body.expectedCallsPerMonth = Number.isFinite(Number(expectedCalls)) ? Number(expectedCalls) : expectedCalls;
  const limit = value('budget.limitUsd').trim();
  if (limit) body.budget = { limitUsd: Number.isFinite(Number(limit)) ? Number(limit) : limit, period: value('budget.period') };
  return body;
}

/** The API's messages for a field: exact name, or an item of it (parameters.approvers[0]). */
function messagesFor(error, field) {
  if (!(error instanceof ApiError)) return [];
  return Object.entries(error.errors || {})
    .filter(([key]) => key === field || key.startsWith(`${field}[`))
    .flatMap(([, messages]) => [].concat(messages));
}

/**
 * A form field: its label (with a required marker), the input, its help and the API's errors for it. The input is
 * described by the help and the errors, so a screen reader reads them with it.
 */
function field(state, name, label, input, { required = false, help = null } = {}) {
  const messages = messagesFor(state.error, name);
  const id = `field-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  const describedBy = [help ? `${id}-help` : '', messages.length ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class=${`field${messages.length ? ' invalid' : ''}`} data-field=${name}>
    <div class="field-label"><label for=${id}>${label}</label>${required ? html`<span class="req" title="required">*</span>` : nothing}</div>
    ${input({ id, invalid: messages.length > 0, required, describedBy: describedBy || undefined })}
    ${help ? html`<span class="help" id=${`${id}-help`}>${help}</span>` : nothing}
    ${messages.length ? html`<div class="field-error" id=${`${id}-error`}>${messages.join(' ')}</div>` : nothing}
  </div>`;
}

function describe(spec) {
  const parts = [spec.description];
  if (spec.default !== null && spec.default !== undefined && spec.default !== '') parts.push(`Default: ${spec.default}${/[.!?]$/.test(spec.default) ? '' : '.'}`);
  if (spec.kind === 'tier') parts.push("One of the app's allowed tiers.");
  if (spec.kind === 'list') parts.push('One per line.');
  if (spec.kind === 'duration') parts.push('e.g. 90s, 15m, 2h, 3d or PT2H.');
  const bounds = [spec.min, spec.max].some(b => b !== null && b !== undefined);
  if (bounds && (spec.kind === 'integer' || spec.kind === 'number')) parts.push(`From ${spec.min ?? '…'} to ${spec.max ?? '…'}.`);
  if (bounds && spec.kind === 'text' && spec.max) parts.push(`Up to ${number(spec.max)} characters.`);
  return parts.join(' ');
}

/** The input for one parameter, by its type. */
function parameterInput(spec) {
  const name = `parameters.${spec.name}`;
  const placeholder = spec.default ?? '';
  return ({ id, invalid, required, describedBy }) => {
    const aria = { required: required ? 'true' : 'false', invalid: invalid ? 'true' : 'false', describedBy: describedBy ?? nothing };
    switch (spec.kind) {
      case 'integer':
      case 'number':
        return html`<input id=${id} name=${name} type="number" inputmode=${spec.kind === 'integer' ? 'numeric' : 'decimal'}
          step=${spec.kind === 'integer' ? '1' : 'any'} min=${spec.min ?? nothing} max=${spec.max ?? nothing} placeholder=${placeholder}
          aria-required=${aria.required} aria-invalid=${aria.invalid} aria-describedby=${aria.describedBy}>`;
      case 'boolean':
        return html`<select id=${id} name=${name} aria-required=${aria.required} aria-invalid=${aria.invalid} aria-describedby=${aria.describedBy}>
          <option value="">${spec.default ? `Default (${spec.default})` : 'Not set'}</option><option value="true">true</option><option value="false">false</option></select>`;
      case 'choice':
        return html`<select id=${id} name=${name} aria-required=${aria.required} aria-invalid=${aria.invalid} aria-describedby=${aria.describedBy}>
          <option value="">${spec.default ? `Default (${spec.default})` : 'Choose…'}</option>${(spec.choices || []).map(c => html`<option value=${c}>${c}</option>`)}</select>`;
      case 'list':
        return html`<textarea id=${id} name=${name} rows="3" placeholder=${placeholder || 'one per line'}
          aria-required=${aria.required} aria-invalid=${aria.invalid} aria-describedby=${aria.describedBy}></textarea>`;
      case 'url':
        return html`<input id=${id} name=${name} type="url" inputmode="url" placeholder=${placeholder || 'https://'}
          aria-required=${aria.required} aria-invalid=${aria.invalid} aria-describedby=${aria.describedBy}>`;
      case 'text':
        if ((spec.max ?? 0) > 200) {
          return html`<textarea id=${id} name=${name} rows="4" placeholder=${placeholder}
            aria-required=${aria.required} aria-invalid=${aria.invalid} aria-describedby=${aria.describedBy}></textarea>`;
        }
        // short text is one line, like any other kind
        return html`<input id=${id} name=${name} placeholder=${placeholder}
          aria-required=${aria.required} aria-invalid=${aria.invalid} aria-describedby=${aria.describedBy}>`;
      default:
        return html`<input id=${id} name=${name} placeholder=${placeholder}
          aria-required=${aria.required} aria-invalid=${aria.invalid} aria-describedby=${aria.describedBy}>`;
    }
  };
}

/** A plain input for an app field. */
function textInput(name, { value = '', type = 'text', readonly = false, placeholder = '', extra = {} } = {}) {
  return ({ id, invalid, required, describedBy }) => html`<input id=${id} name=${name} type=${type} value=${value} ?readonly=${readonly}
    placeholder=${placeholder} step=${extra.step ?? nothing} min=${extra.min ?? nothing} inputmode=${extra.inputmode ?? nothing} autocomplete="off"
    aria-required=${required ? 'true' : 'false'} aria-invalid=${invalid ? 'true' : 'false'} aria-describedby=${describedBy ?? nothing}>`;
}

/** A select for an app field. */
function selectInput(name, options) {
  return ({ id, invalid, describedBy }) => html`<select id=${id} name=${name} aria-invalid=${invalid ? 'true' : 'false'} aria-describedby=${describedBy ?? nothing}>
    ${options.map((o, i) => html`<option value=${o} ?selected=${i === 0}>${o}</option>`)}</select>`;
}

function gatesView(submission) {
  if (!submission) return nothing;
  const { result, error } = submission;
  const gates = result?.gates ?? error?.problem?.gates ?? [];
  const tests = result?.tests ?? error?.problem?.tests ?? [];
  const outcome = result
    ? result.outcome === 'autoApproved' ? html`<div class="alert success" role="status">Every gate passed and the version was approved automatically (state ${badge(result.state)}).</div>`
      : result.outcome === 'awaitingApproval' ? html`<div class="alert info" role="status">Every gate passed; the version waits for an approver (state ${badge(result.state)}).</div>`
      : html`<div class="alert info" role="status">Submitted: ${result.outcome} (state ${badge(result.state)}).</div>`
    : errorView(error);
  return html`<section aria-labelledby="gate-results"><h3 id="gate-results">Gate results</h3>${outcome}
    ${gates.length ? dataTable([
      { label: 'Gate', value: g => html`<code>${g.gate}</code>` },
      { label: 'Result', value: g => g.passed ? badge('passed', 'ok') : badge('failed', 'bad') },
      { label: 'Detail', value: g => g.detail },
    ], gates, 'No gates ran.', { label: 'Gate results', key: g => g.gate }) : nothing}
    ${tests.length ? dataTable([
      { label: 'Test', value: t => t.name },
      { label: 'Result', value: t => t.passed ? badge('passed', 'ok') : badge('failed', 'bad') },
      { label: 'Model', value: t => t.model },
      { label: 'Error', value: t => t.error ?? '' },
    ], tests, 'No regression tests ran.', { label: 'Regression tests', key: t => t.name }) : nothing}</section>`;
}

function createdView(state, template, update) {
  const app = state.created;
  const submit = async () => {
    state.submitting = true;
    update();
    try {
      state.submission = { result: await api.post(`/apps/${seg(app.appId)}/versions/1/submit`) };
      notify(`Submitted ${app.appId} version 1.`);
    } catch (error) {
      state.submission = { error };
    } finally {
      state.submitting = false;
      update();
    }
  };
  return html`<section class="card" aria-labelledby="created-app">
    <h2 id="created-app">App created</h2>
    <div class="alert success" role="status">Created draft app <code>${app.appId}</code> (“${app.name}”), version 1, from <code>${template.reference}</code>.</div>
    <p>Next: try it with a test key on its page, then submit version 1 for approval — the gates (policies, regression tests, budget) run and
      either approve it, queue it for an approver, or return it to draft with their reasons.</p>
    <div class="row">
      ${actionButton(state.submitting ? 'Submitting…' : 'Submit for approval', submit, creators,
        { disabled: state.submitting || Boolean(state.submission?.result) })}
      ${link(`/apps/${seg(app.appId)}`, `Open ${app.appId}`)}
      <a href=${`/console/catalog/templates/${seg(template.name)}/new?version=${encodeURIComponent(template.version)}`}
        @click=${event => { event.preventDefault(); state.created = null; state.submission = null; state.error = null; state.validated = null; update(); }}>Create another</a>
    </div>
    ${gatesView(state.submission)}
  </section>`;
}

function createForm(state, template, update) {
  const author = session.role === 'author';
  const run = async (event, validateOnly) => {
    event.preventDefault();
    const form = event.target.closest('form');
    const body = bodyOf(form, template);
    state.busy = true;
    state.validated = null;
    update();
    try {
      if (validateOnly) {
        state.validated = await api.post('/manifests/validate', body);
        state.error = null;
      } else {
        state.created = await api.post('/apps', body);
        state.error = null;
        notify(`Created ${state.created.appId}.`);
      }
    } catch (error) {
      state.error = error;
    } finally {
      state.busy = false;
      update();
    }
    // The first field the API names gets the focus, so the reader lands on what to fix.
    if (state.error instanceof ApiError) form?.querySelector('[aria-invalid="true"]')?.focus();
  };

  return html`<form class="stack catalog-create" novalidate aria-label="Create an app" @submit=${event => run(event, false)}>
    ${state.error ? errorView(state.error) : nothing}
    ${state.validated ? html`<div class="alert success" role="status">The manifest is valid: creating it would succeed.
      <details><summary>Normalised manifest (defaults filled in)</summary><pre>${JSON.stringify(state.validated.manifest, null, 2)}</pre></details></div>` : nothing}

    <fieldset><legend>The app</legend>
      ${field(state, 'appId', 'App id', textInput('appId', { placeholder: 'e.g. invoice-summaries' }),
        { required: true, help: "3–40 lower-case letters, digits and '-'. It is in the app's keys and URLs and cannot change." })}
      ${field(state, 'name', 'Name', textInput('name', { placeholder: 'e.g. Invoice summaries' }), { required: true, help: 'What people call it.' })}
      ${field(state, 'owner', 'Owner', textInput('owner', { value: session.name, readonly: author }),
        { required: true, help: author ? 'You: authors create apps they own.' : 'The principal accountable for it (an author may only act on apps they own).' })}
      ${field(state, 'team', 'Team', textInput('team', { placeholder: 'e.g. finance' }), { required: true, help: 'The team it belongs to (team budgets and reports).' })}
      ${field(state, 'audience', 'Audience', selectInput('audience', ['internal', 'external']),
        { help: 'External apps always wait for an approver.' })}
      ${field(state, 'dataClasses', 'Data classes', textInput('dataClasses', { placeholder: 'e.g. email, phone' }),
        { help: 'Comma-separated kinds of personal data it handles (email, phone, ssn, card_number, iban, ip_address); policies use them.' })}
    </fieldset>

    <fieldset><legend>Models and budget</legend>
      ${field(state, 'allowedTiers', 'Allowed tiers', textInput('allowedTiers', { value: 'standard' }),
        { required: true, help: 'Comma-separated model tiers it may use, e.g. local, standard, premium.' })}
      ${field(state, 'defaultTier', 'Default tier', textInput('defaultTier', { placeholder: 'the first allowed tier' }),
        { help: 'The tier a call uses when it asks for none.' })}
      <div class="inline-form">
        ${field(state, 'budget.limitUsd', 'Budget limit (USD)', textInput('budget.limitUsd', { type: 'number', extra: { step: 'any', min: '0', inputmode: 'decimal' }, placeholder: 'no own budget' }),
          { help: "Leave empty to set no budget of the app's own." })}
        ${field(state, 'budget.period', 'Budget period', selectInput('budget.period', ['month', 'day']))}
      </div>
      ${field(state, 'expectedCallsPerMonth', 'Expected calls a month', textInput('expectedCallsPerMonth', { type: 'number', extra: { step: '1', min: '0', inputmode: 'numeric' }, placeholder: 'e.g. 1000' }),
        { help: "The cost gate multiplies the tests' cost per call by it and checks the result against the budget." })}
    </fieldset>

    <fieldset><legend>Template parameters — <code>${template.reference}</code></legend>
      ${template.parameters.length === 0 ? html`<p class="muted">This template takes no parameters.</p>` : nothing}
      ${template.parameters.map(spec => field(state, `parameters.${spec.name}`, spec.name, parameterInput(spec), { required: spec.required, help: describe(spec) }))}
    </fieldset>

    <fieldset><legend>Regression test</legend>
      <p class="muted">Submitting runs the app's regression tests through the template; a promotion needs at least one. Add more in a later version.</p>
      ${field(state, 'tests[0].name', 'Test name', textInput('tests[0].name', { value: 'smoke' }))}
      ${field(state, 'tests[0].input', 'Test input', ({ id, invalid, describedBy }) => html`<textarea id=${id} name="tests[0].input" rows="3"
          placeholder="What a user would send" aria-invalid=${invalid ? 'true' : 'false'} aria-describedby=${describedBy ?? nothing}></textarea>`,
        { help: 'Leave empty to add tests later.' })}
      ${field(state, 'tests[0].assertions[0].value', 'The answer must contain', textInput('tests[0].assertions[0].value', { placeholder: 'e.g. invoice' }))}
    </fieldset>

    <div class="row">
      ${actionButton(state.busy ? 'Working…' : 'Create app', null, creators, { type: 'submit', disabled: state.busy })}
      ${actionButton('Validate', event => run(event, true), validators, { kind: 'secondary', disabled: state.busy })}
      <span class="muted">Creates version 1 as a draft; nothing runs until it is submitted and approved.</span>
    </div>
  </form>`;
}

async function createView(ctx) {
  const entry = await loadEntry('template', ctx.params.name);
  const template = chosenVersion(entry, ctx.query.get('version'));
  const state = { error: null, validated: null, created: null, submission: null, busy: false, submitting: false };
  return html`
    ${pageHeader(`New app from ${template.name}`, template.description)}
    <p class="muted">${link('/catalog', 'Catalog')} › ${link(entryPath('template', template.name, template.version), `${template.name} ${template.version}`)} › new app</p>
    ${can(...creators) ? nothing : html`<div class="alert info" role="note">Your role (${session.role}) can look at this form${can(...validators) ? ' and validate it' : ''}, but creating an app needs author or admin.</div>`}
    ${island(update => state.created ? createdView(state, template, update) : createForm(state, template, update))}`;
}

export const routes = [
  { path: '/catalog', title: 'Catalog', view: catalogView },
  { path: '/catalog/templates/:name/new', title: 'New app from a template', view: createView },
  { path: '/catalog/:kind/:name', title: 'Catalog entry', view: entryView },
];
