// #/queues/<name>?state=available&type=T&key=K : a queue's settings and its
// jobs in one state (cursor paging), with Pause / Resume.
import { h, mount } from '../dom.js';
import { rpc } from '../api.js';
import {
  JOB_STATES, formatCount, formatDuration, formatRateLimit, jobStateEnum, num,
} from '../format.js';
import {
  actionButton, badge, errorBox, facts, jobLink, loading, pageHeader, pager, section, table, cellTime,
} from '../ui.js';

export const name = 'queue';
export const title = 'Queue';

function jitterName(value) {
  const word = String(value || 'JITTER_UNSPECIFIED').replace(/^JITTER_/, '').toLowerCase();
  return word === 'unspecified' ? 'full' : word;
}

export function settingsFacts(settings = {}) {
  const retry = settings.retryPolicy || {};
  const keyLimits = Object.entries(settings.keyLimits || {});
  return facts([
    ['Concurrency limit', num(settings.concurrencyLimit) ? formatCount(settings.concurrencyLimit) : 'unlimited', 'concurrencyLimit'],
    ['Per-key concurrency', num(settings.keyConcurrencyLimit) ? formatCount(settings.keyConcurrencyLimit) : 'unlimited', 'keyConcurrencyLimit'],
    ['Rate limit', formatRateLimit(settings.rateLimit) || 'none', 'rateLimit'],
    ['Per-key rate limit', formatRateLimit(settings.keyRateLimit) || 'none', 'keyRateLimit'],
    ['Max attempts', formatCount(settings.maxAttempts), 'maxAttempts'],
    ['Retry backoff', `${formatDuration(retry.initialBackoff)} → ${formatDuration(retry.maxBackoff)}, ×${Number(retry.multiplier || 0)}, ${jitterName(retry.jitter)} jitter`, 'retryPolicy'],
    ['Visibility timeout', formatDuration(settings.visibilityTimeout), 'visibilityTimeout'],
    ['Completed retention', formatDuration(settings.completedRetention), 'completedRetention'],
    ['Dead retention', formatDuration(settings.deadRetention), 'deadRetention'],
    keyLimits.length ? ['Named key limits', h('ul', { class: 'plain' },
      keyLimits.slice(0, 50).map(([k, v]) => h('li', null, h('code', null, k), ` ${formatCount(v)}`)),
      keyLimits.length > 50 ? h('li', { class: 'muted' }, `… ${keyLimits.length - 50} more`) : null), 'keyLimits'] : null,
  ], { id: 'queue-settings' });
}

export function lastError(j) {
  const errors = Array.isArray(j.errors) ? j.errors : [];
  const last = errors.length ? errors[errors.length - 1] : null;
  if (!last) return h('span', { class: 'muted' }, '–');
  const text = String(last.message || '');
  return h('span', { class: 'error-text', title: text.slice(0, 500) }, text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function jobRow(j) {
  return h('tr', { 'data-job-id': j.id },
    h('td', null, jobLink(j.id)),
    h('td', null, h('code', null, j.jobType)),
    h('td', { class: 'num' }, `${num(j.attempts)} / ${num(j.maxAttempts)}`),
    h('td', { class: 'num' }, String(num(j.priority))),
    h('td', null, cellTime(j.runAt)),
    h('td', null, cellTime(j.createdAt)),
    h('td', null, j.concurrencyKey ? h('code', null, j.concurrencyKey) : h('span', { class: 'muted' }, '–')),
    h('td', null, j.workerId ? h('code', null, j.workerId) : h('span', { class: 'muted' }, '–')),
    h('td', null, lastError(j)));
}

export const JOB_COLUMNS = [
  { label: 'ID' }, { label: 'Type' }, { label: 'Attempts', class: 'num' },
  { label: 'Priority', class: 'num' }, { label: 'Run at' }, { label: 'Created' },
  { label: 'Key' }, { label: 'Worker' }, { label: 'Last error' },
];

function stateTabs(queueName, info, current, query) {
  return h('div', { class: 'tabs', role: 'tablist', id: 'state-tabs' }, JOB_STATES.map((st) => {
    const q = new URLSearchParams(query);
    q.set('state', st);
    return h('a', {
      href: `#/queues/${encodeURIComponent(queueName)}?${q}`, role: 'tab',
      class: ['tab', st === current ? 'active' : ''], 'data-state': st,
      'aria-selected': st === current ? 'true' : 'false',
    }, st, h('span', { class: 'tab-count' }, formatCount(info[st])));
  }));
}

function filterForm(ctx, queueName, state) {
  const type = h('input', { type: 'text', id: 'filter-type', placeholder: 'any job type', value: ctx.query.get('type') || '' });
  const key = h('input', { type: 'text', id: 'filter-key', placeholder: 'any concurrency key', value: ctx.query.get('key') || '' });
  const form = h('form', { class: 'filters', id: 'job-filters' },
    h('label', null, 'Job type ', type),
    h('label', null, 'Concurrency key ', key),
    h('button', { type: 'submit', class: 'btn btn-small' }, 'Filter'),
    (ctx.query.get('type') || ctx.query.get('key'))
      ? h('a', { href: `#/queues/${encodeURIComponent(queueName)}?state=${state}`, class: 'small' }, 'clear') : null);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = new URLSearchParams({ state });
    if (type.value) q.set('type', type.value);
    if (key.value) q.set('key', key.value);
    ctx.navigate(`#/queues/${encodeURIComponent(queueName)}?${q}`);
  });
  return form;
}

// The jobs list, with its own cursor paging.
function jobsSection(ctx, queueName, state) {
  const holder = h('div', { id: 'jobs' }, loading());
  const cursors = [''];  // cursors of the pages shown so far
  const load = async () => {
    const page = await rpc('JobService', 'ListJobs', {
      queue: queueName,
      state: jobStateEnum(state),
      limit: 50,
      cursor: cursors[cursors.length - 1],
      jobType: ctx.query.get('type') || '',
      concurrencyKey: ctx.query.get('key') || '',
    }, { signal: ctx.signal });
    const jobs = Array.isArray(page.jobs) ? page.jobs : [];
    const filtered = Boolean(ctx.query.get('type') || ctx.query.get('key'));
    mount(holder,
      table(JOB_COLUMNS, jobs.map(jobRow), {
        id: 'jobs-table',
        empty: filtered && page.nextCursor ? 'No matching jobs in this slice; more may follow (next page).' : `No ${state} jobs.`,
      }),
      pager({
        count: jobs.length,
        hasPrevious: cursors.length > 1,
        nextCursor: page.nextCursor,
        onFirst: () => { cursors.length = 1; load().catch(show); },
        onNext: () => { cursors.push(page.nextCursor); load().catch(show); },
      }));
  };
  const show = (err) => { if (!ctx.signal.aborted) mount(holder, errorBox(err)); };
  return { holder, load: () => load().catch(show) };
}

export async function render(ctx) {
  const queueName = ctx.params[0];
  const state = JOB_STATES.includes(ctx.query.get('state')) ? ctx.query.get('state') : 'available';
  mount(ctx.root, pageHeader(queueName), loading());
  const info = await rpc('QueueService', 'GetQueue', { queue: queueName }, { signal: ctx.signal });
  const paused = Boolean(info.settings && info.settings.paused);
  const jobs = jobsSection(ctx, queueName, state);
  const toggle = paused
    ? actionButton({ queues: [queueName],
      action: 'resume', label: 'Resume',
      confirm: { title: `Resume queue ${queueName}?`, lines: [`Workers will lease jobs from ${queueName} again.`] },
      run: async () => { await rpc('QueueService', 'ResumeQueue', { queue: queueName }); return `Queue ${queueName} resumed.`; },
      after: ctx.refresh,
    })
    : actionButton({ queues: [queueName],
      action: 'pause', label: 'Pause', danger: true,
      confirm: { title: `Pause queue ${queueName}?`, lines: [`No job of ${queueName} will start until it is resumed. Running jobs continue.`] },
      run: async () => { await rpc('QueueService', 'PauseQueue', { queue: queueName }); return `Queue ${queueName} paused.`; },
      after: ctx.refresh,
    });
  mount(ctx.root,
    pageHeader(h('span', null, 'Queue ', h('span', { class: 'mono', id: 'queue-name' }, queueName), ' ',
      paused ? badge('paused', 'queue-state') : badge('active', 'queue-state')),
    h('span', null, h('a', { href: '#/' }, 'Overview'), ' / ', queueName,
      num(info.dead) ? [' · ', h('a', { href: `#/dead-letters/${encodeURIComponent(queueName)}` }, `${formatCount(info.dead)} dead letters`)] : null),
    toggle),
    section('Jobs', stateTabs(queueName, info, state, ctx.query), filterForm(ctx, queueName, state), jobs.holder),
    section('Settings', settingsFacts(info.settings)));
  await jobs.load();
}
