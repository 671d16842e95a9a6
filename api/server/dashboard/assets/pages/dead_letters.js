// #/dead-letters[/<queue>] : a queue's dead-letter queue (paged), with
// redrive / purge of one job, of one job type, or of everything.
import { h, mount } from '../dom.js';
import { rpc } from '../api.js';
import { formatCount, num } from '../format.js';
import {
  actionButton, badge, canManage, errorBox, flash, jobLink, loading, pageHeader, pager, queueLink,
  section, table, cellTime,
} from '../ui.js';
import { lastError } from './queue.js';

export const name = 'dead-letters';
export const title = 'Dead letters';

const typeFilter = new Map();  // queue -> the job type last typed in the bulk form
const batchSize = new Map();   // queue -> the bulk form's jobs per call

function plural(n, word) {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
}

function queuePicker(ctx, queues, current) {
  const select = h('select', { id: 'dlq-queue', 'aria-label': 'Queue' },
    current ? null : h('option', { value: '' }, 'Choose a queue…'),
    queues.map((q) => h('option', { value: q.name, selected: q.name === current },
      `${q.name} (${formatCount(q.dead)} dead)`)));
  select.addEventListener('change', () => {
    if (select.value) ctx.navigate(`#/dead-letters/${encodeURIComponent(select.value)}`);
  });
  return h('label', { class: 'picker' }, 'Queue ', select);
}

function overviewTable(queues) {
  return section('Dead letters by queue', table([{ label: 'Queue' }, { label: 'Dead', class: 'num' }, { label: '' }],
    queues.map((q) => h('tr', { 'data-queue': q.name },
      h('td', null, queueLink(q.name)),
      h('td', { class: ['num', num(q.dead) ? '' : 'zero'] }, formatCount(q.dead)),
      h('td', null, h('a', { href: `#/dead-letters/${encodeURIComponent(q.name)}` }, 'Open dead letters')))),
    { id: 'dlq-queues', empty: 'No queues.' }));
}

// Runs a bulk redrive/purge and reports its count; offers to go on if `more`.
async function bulk(ctx, { queueName, kind, jobType, resetAttempts, limit }) {
  const filter = { queue: queueName, jobType: jobType || '', limit };
  const r = kind === 'redrive'
    ? await rpc('QueueService', 'RedriveDeadLetters', { filter, resetAttempts: Boolean(resetAttempts) })
    : await rpc('QueueService', 'PurgeDeadLetters', { filter });
  const what = jobType ? ` of type ${jobType}` : '';
  const verb = kind === 'redrive' ? 'Redrove' : 'Purged';
  const text = `${verb} ${plural(num(r.count), 'job')}${what} from ${queueName}.`;
  if (!r.more) return text;
  const more = actionButton({ queues: [queueName],
    action: 'continue', label: 'Continue', danger: kind === 'purge',
    confirm: { title: `Continue: ${kind} more dead letters${what} in ${queueName}?`, lines: ['More dead letters match; each call handles a bounded number.'] },
    run: () => bulk(ctx, { queueName, kind, jobType, resetAttempts, limit }),
    after: ctx.refresh,
  });
  return [`${text} More match: `, more];
}

function bulkForm(ctx, queueName, deadCount) {
  if (!canManage()) return null;
  const type = h('input', { type: 'text', id: 'dlq-job-type', placeholder: 'all job types', value: typeFilter.get(queueName) || '' });
  const reset = h('input', { type: 'checkbox', id: 'dlq-reset-attempts' });
  const batch = h('input', {
    type: 'number', id: 'dlq-batch', min: 1, max: 10000, step: 1, value: batchSize.get(queueName) || 1000,
    class: 'narrow', title: 'Jobs handled per call (1..10000); when more match you can continue.',
  });
  const limit = () => {
    const n = Math.trunc(Number(batch.value));
    return n >= 1 && n <= 10000 ? n : 1000;
  };
  batch.addEventListener('change', () => batchSize.set(queueName, limit()));
  const scope = () => (type.value
    ? `the dead letters of job type "${type.value}" in queue ${queueName}`
    : `all ${plural(deadCount, 'dead letter')} of queue ${queueName}`);
  const redrive = actionButton({ queues: [queueName],
    action: 'redrive-filter', label: 'Redrive',
    confirm: () => ({
      title: type.value ? `Redrive job type ${type.value}?` : `Redrive every dead letter of ${queueName}?`,
      lines: [`This redrives ${scope()}: they become available again${reset.checked ? ', starting over at attempt 0' : ', keeping their attempt counts'}.`,
        `At most ${limit()} in this call.`],
    }),
    run: () => bulk(ctx, { queueName, kind: 'redrive', jobType: type.value, resetAttempts: reset.checked, limit: limit() }),
    after: ctx.refresh,
  });
  const purge = actionButton({ queues: [queueName],
    action: 'purge-filter', label: 'Purge', danger: true,
    confirm: () => ({
      title: type.value ? `Purge job type ${type.value}?` : `Purge every dead letter of ${queueName}?`,
      lines: [`This deletes ${scope()} for good. It cannot be undone.`, `At most ${limit()} in this call.`],
    }),
    run: () => bulk(ctx, { queueName, kind: 'purge', jobType: type.value, limit: limit() }),
    after: ctx.refresh,
  });
  const label = () => {
    if (redrive) redrive.textContent = type.value ? 'Redrive this type' : 'Redrive all';
    if (purge) purge.textContent = type.value ? 'Purge this type' : 'Purge all';
    typeFilter.set(queueName, type.value);
  };
  type.addEventListener('input', label);
  label();
  return h('div', { class: 'toolbar', id: 'dlq-bulk' },
    h('label', null, 'Job type ', type),
    h('label', { class: 'check' }, reset, ' reset attempts'),
    h('label', null, 'At most ', batch, ' per call'),
    redrive, purge);
}

function rowActions(ctx, queueName, j) {
  if (!canManage()) return null;
  const desc = `job ${j.id} (${j.jobType})`;
  return h('div', { class: 'row-actions' },
    actionButton({ queues: [queueName],
      action: 'redrive', label: 'Redrive', attrs: { 'data-job-id': j.id, class: 'btn btn-small btn-secondary' },
      confirm: { title: `Redrive job ${j.id}?`, lines: [`Redrive ${desc} from the dead-letter queue of ${queueName}: it becomes available again.`] },
      run: async () => {
        const r = await rpc('QueueService', 'RedriveDeadLetters', { filter: { queue: queueName, jobId: j.id } });
        return `Redrove ${plural(num(r.count), 'job')} (job ${j.id}) from ${queueName}.`;
      },
      after: ctx.refresh,
    }),
    actionButton({ queues: [queueName],
      action: 'purge', label: 'Purge', danger: true, attrs: { 'data-job-id': j.id, class: 'btn btn-small btn-danger-outline' },
      confirm: { title: `Purge job ${j.id}?`, lines: [`Delete ${desc} from the dead-letter queue of ${queueName} for good.`] },
      run: async () => {
        const r = await rpc('QueueService', 'PurgeDeadLetters', { filter: { queue: queueName, jobId: j.id } });
        return `Purged ${plural(num(r.count), 'job')} (job ${j.id}) from ${queueName}.`;
      },
      after: ctx.refresh,
    }));
}

function lettersSection(ctx, queueName) {
  const holder = h('div', { id: 'dead-letters' }, loading());
  const cursors = [''];
  const show = (err) => { if (!ctx.signal.aborted) mount(holder, errorBox(err)); };
  const load = async () => {
    const page = await rpc('QueueService', 'ListDeadLetters',
      { queue: queueName, limit: 50, cursor: cursors[cursors.length - 1] }, { signal: ctx.signal });
    const jobs = Array.isArray(page.jobs) ? page.jobs : [];
    const columns = [{ label: 'ID' }, { label: 'Type' }, { label: 'State' }, { label: 'Attempts', class: 'num' },
      { label: 'Died' }, { label: 'Last error' }];
    if (canManage()) columns.push({ label: '' });
    mount(holder,
      table(columns, jobs.map((j) => h('tr', { 'data-job-id': j.id },
        h('td', null, jobLink(j.id)),
        h('td', null, h('code', null, j.jobType)),
        h('td', null, badge('dead')),
        h('td', { class: 'num' }, `${num(j.attempts)} / ${num(j.maxAttempts)}`),
        h('td', null, cellTime(j.finishedAt)),
        h('td', { class: 'error-cell' }, lastError(j)),
        canManage() ? h('td', null, rowActions(ctx, queueName, j)) : null)),
      { id: 'dead-letters-table', empty: `No dead letters in ${queueName}.` }),
      pager({
        count: jobs.length,
        hasPrevious: cursors.length > 1,
        nextCursor: page.nextCursor,
        onFirst: () => { cursors.length = 1; load().catch(show); },
        onNext: () => { cursors.push(page.nextCursor); load().catch(show); },
      }));
  };
  return { holder, load: () => load().catch(show) };
}

export async function render(ctx) {
  const queueName = ctx.params[0];
  mount(ctx.root, pageHeader('Dead letters'), loading());
  // The first 1,000 queues by name (one page of ListQueues).
  const list = await rpc('QueueService', 'ListQueues', { limit: 1000 }, { signal: ctx.signal });
  const queues = [...(list.queues || [])].sort((a, b) => (a.name < b.name ? -1 : 1));
  if (!queueName) {
    const scope = list.nextCursor ? 'in the first 1,000 queues by name' : 'in all queues';
    mount(ctx.root,
      pageHeader('Dead letters', `${formatCount(queues.reduce((n, q) => n + num(q.dead), 0))} ${scope}`, queuePicker(ctx, queues, '')),
      overviewTable(queues));
    return;
  }
  // A queue past the first page is read on its own.
  let info = queues.find((q) => q.name === queueName);
  if (!info && list.nextCursor) {
    info = await rpc('QueueService', 'GetQueue', { queue: queueName }, { signal: ctx.signal })
      .catch((e) => { if (ctx.signal.aborted) throw e; return undefined; });  // NOT_FOUND: no such queue
    if (info) {
      queues.push(info);
      queues.sort((a, b) => (a.name < b.name ? -1 : 1));
    }
  }
  const dead = info ? num(info.dead) : 0;
  const letters = lettersSection(ctx, queueName);
  mount(ctx.root,
    pageHeader(h('span', null, 'Dead letters of ', h('span', { class: 'mono', id: 'dlq-name' }, queueName)),
      h('span', null, h('a', { href: '#/dead-letters' }, 'Dead letters'), ' / ', queueLink(queueName), ` · ${plural(dead, 'dead letter')}`),
      queuePicker(ctx, queues, queueName)),
    section(null, bulkForm(ctx, queueName, dead), letters.holder));
  await letters.load();
  if (!info) flash(`There is no queue named ${queueName}.`, 'info');
}
