// #/jobs/<id> : one job (GetJob), why it is not running (ExplainJob), its
// payload, result and error history; Cancel, Retry now (scheduled jobs) and
// (dead jobs) Redrive.
import { h, mount } from '../dom.js';
import { rpc } from '../api.js';
import { enumWord, formatDuration, isId, jobState, num, parseDuration, parseTime } from '../format.js';
import { bytesView } from '../payload.js';
import {
  actionButton, badge, cellTime, errorBox, facts, jobLink, loading, pageHeader, queueLink, section, table, time,
} from '../ui.js';

export const name = 'job';
export const title = 'Job';

const LIVE = ['scheduled', 'available', 'running'];

function code(text) {
  return text ? h('code', { class: 'wrap' }, text) : null;
}

function summary(j) {
  return facts([
    ['State', badge(jobState(j.state)), 'state'],
    ['Queue', queueLink(j.queue), 'queue'],
    ['Job type', code(j.jobType), 'jobType'],
    ['Attempts', `${num(j.attempts)} of ${num(j.maxAttempts)}`, 'attempts'],
    ['Priority', String(num(j.priority)), 'priority'],
    ['Concurrency key', code(j.concurrencyKey), 'concurrencyKey'],
    ['Idempotency key', code(j.idempotencyKey), 'idempotencyKey'],
    j.uniqueKey ? ['Unique key', code(j.uniqueKey), 'uniqueKey'] : null,
    ['Worker', code(j.workerId), 'workerId'],
    ['Fencing token', num(j.fencingToken) ? String(j.fencingToken) : null, 'fencingToken'],
    isId(j.workflowId) ? ['Workflow', h('a', { href: `#/workflows/${j.workflowId}` }, `workflow ${j.workflowId}`), 'workflowId'] : null,
    j.scheduleId ? ['Schedule', h('a', { href: '#/schedules' }, j.scheduleId), 'scheduleId'] : null,
    ['Created', time(j.createdAt), 'createdAt'],
    ['Run at', time(j.runAt), 'runAt'],
    parseTime(j.attemptStartedAt) ? ['Attempt started', time(j.attemptStartedAt), 'attemptStartedAt'] : null,
    parseTime(j.leaseDeadline) ? ['Lease deadline', time(j.leaseDeadline), 'leaseDeadline'] : null,
    parseTime(j.finishedAt) ? ['Finished', time(j.finishedAt), 'finishedAt'] : null,
    parseTime(j.expiresAt) ? ['Expires', time(j.expiresAt), 'expiresAt'] : null,
    parseDuration(j.attemptTimeout) ? ['Attempt timeout', formatDuration(j.attemptTimeout), 'attemptTimeout'] : null,
    ['Visibility timeout', parseDuration(j.visibilityTimeout) ? formatDuration(j.visibilityTimeout) : 'queue default', 'visibilityTimeout'],
    j.cancelRequested ? ['Cancel requested', 'yes: the worker stops at its next heartbeat', 'cancelRequested'] : null,
    j.cancelReason ? ['Cancel reason', j.cancelReason, 'cancelReason'] : null,
    j.traceparent ? ['Trace', code(j.traceparent), 'traceparent'] : null,
  ], { id: 'job-facts' });
}

function progressView(j) {
  if (j.progress === undefined || j.progress === null) return null;
  const fraction = Math.min(1, Math.max(0, Number(j.progress) || 0));
  return section('Progress',
    h('div', { class: 'progress-row', id: 'job-progress' },
      h('progress', { max: 1, value: fraction }),
      h('span', { class: 'progress-pct' }, `${Math.round(fraction * 100)}%`)),
    j.progressMessage ? h('p', { id: 'job-progress-message', class: 'wrap' }, j.progressMessage) : null,
    parseTime(j.progressUpdatedAt) ? h('p', { class: 'muted small' }, 'Updated ', time(j.progressUpdatedAt)) : null);
}

function causeView(c) {
  const reason = enumWord(c.reason, 'WAIT_');
  const holders = Array.isArray(c.holders) ? c.holders : [];
  return h('li', { class: 'cause', 'data-reason': c.reason || '' },
    badge(reason, 'cause-badge'), ' ',
    h('span', { class: 'cause-message' }, c.message || reason),
    parseTime(c.until) ? h('div', { class: 'muted small' }, 'Until ', time(c.until)) : null,
    num(c.limit) ? h('div', { class: 'muted small' }, `Limit ${num(c.limit)}`) : null,
    holders.length ? h('div', { class: 'small' }, 'Held by ', holders.map((id, i) => [i ? ', ' : '', jobLink(id)])) : null,
    c.detail ? h('pre', { class: 'detail' }, c.detail) : null,
    parseDuration(c.idle) ? h('div', { class: 'muted small' }, `Nothing leased for ${formatDuration(c.idle)}`) : null);
}

function explainView(result) {
  if (result.status === 'rejected') return section("Why isn't it running?", errorBox(result.reason));
  const e = result.value;
  const causes = Array.isArray(e.causes) ? e.causes : [];
  return section("Why isn't it running?",
    h('ul', { class: 'causes', id: 'explain' }, causes.length ? causes.map(causeView) : h('li', { class: 'muted' }, 'No causes reported.')),
    num(e.aheadInKey) ? h('p', { class: 'small' }, `${num(e.aheadInKey)} available jobs of its key are ahead of it.`) : null,
    parseTime(e.expiresAt) ? h('p', { class: 'small' }, 'Cancelled if not started by ', time(e.expiresAt)) : null);
}

function errorsView(j) {
  const errors = Array.isArray(j.errors) ? j.errors : [];
  if (!errors.length) return section('Error history', h('p', { class: 'muted', id: 'job-errors' }, 'No failed attempts.'));
  return section(`Error history (${errors.length})`,
    table([{ label: 'Attempt', class: 'num' }, { label: 'At' }, { label: 'Error' }],
      [...errors].reverse().map((e) => h('tr', { 'data-attempt': num(e.attempt) },
        h('td', { class: 'num' }, String(num(e.attempt))),
        h('td', null, cellTime(e.at)),
        h('td', null, h('pre', { class: 'error-text' }, e.message || '')))),
      { id: 'job-errors', empty: 'No failed attempts.' }));
}

export async function render(ctx) {
  const id = ctx.params[0];
  mount(ctx.root, pageHeader(`Job ${id}`), loading());
  if (!isId(id)) {
    mount(ctx.root, pageHeader('Job'), errorBox(`"${id}" is not a job id.`));
    return;
  }
  const [j, explain] = await Promise.all([
    rpc('JobService', 'GetJob', { jobId: id }, { signal: ctx.signal }),
    rpc('JobService', 'ExplainJob', { jobId: id }, { signal: ctx.signal }).then(
      (value) => ({ status: 'fulfilled', value }), (reason) => ({ status: 'rejected', reason })),
  ]);
  const st = jobState(j.state);
  const actions = [];
  if (LIVE.includes(st) && !j.cancelRequested) {
    actions.push(actionButton({ queues: [j.queue],
      action: 'cancel', label: 'Cancel job', danger: true,
      confirm: {
        title: `Cancel job ${id}?`,
        lines: [`Job ${id} (${j.jobType}) in queue ${j.queue} is ${st}.`,
          st === 'running' ? 'It is running: its worker is asked to stop at its next heartbeat.' : 'It will not run.'],
      },
      run: async () => {
        const r = await rpc('JobService', 'CancelJob', { jobId: id });
        return `Job ${id} is now ${jobState(r.state)}${r.state === 'JOB_STATE_RUNNING' ? ' (cancel requested)' : ''}.`;
      },
      after: ctx.refresh,
    }));
  }
  if (st === 'scheduled' && j.workflowId === '0') {
    actions.push(actionButton({ queues: [j.queue],
      action: 'retry', label: 'Retry now',
      confirm: {
        title: `Retry job ${id} now?`,
        lines: [`Job ${id} (${j.jobType}) in queue ${j.queue} waits until ${new Date(parseTime(j.runAt)).toLocaleString()}.`,
          'It becomes available at once; its attempts and limits stay.'],
      },
      run: async () => {
        const r = await rpc('JobService', 'RetryJob', { jobId: id });
        return `Job ${id} is now ${jobState(r.state)}.`;
      },
      after: ctx.refresh,
    }));
  }
  if (st === 'dead') {
    actions.push(actionButton({ queues: [j.queue],
      action: 'redrive', label: 'Redrive',
      confirm: {
        title: `Redrive job ${id}?`,
        lines: [`Job ${id} (${j.jobType}) leaves the dead-letter queue of ${j.queue} and becomes available again, keeping its attempt count.`],
      },
      run: async () => {
        const r = await rpc('QueueService', 'RedriveDeadLetters', { filter: { queue: j.queue, jobId: id } });
        return `Redrove ${num(r.count)} job${num(r.count) === 1 ? '' : 's'} (job ${id}).`;
      },
      after: ctx.refresh,
    }));
  }
  mount(ctx.root,
    pageHeader(h('span', null, 'Job ', h('span', { class: 'mono', id: 'job-id' }, id), ' ', badge(st, 'job-state')),
      h('span', null, 'Queue ', queueLink(j.queue), ' · type ', h('code', null, j.jobType)),
      actions),
    h('div', { class: 'grid-2' },
      section('Details', summary(j)),
      h('div', null, explainView(explain), progressView(j))),
    section('Payload', bytesView(j.payload, { id: 'job-payload' })),
    (j.result || st === 'completed') ? section('Result', bytesView(j.result, { id: 'job-result' })) : null,
    errorsView(j));
}
