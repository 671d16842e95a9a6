// #/workflows/<id> : a workflow (GetWorkflow), its DAG, steps and Cancel.
import { h, mount } from '../dom.js';
import { rpc } from '../api.js';
import { isId, jobState, num } from '../format.js';
import { dagView, stepState } from '../dag.js';
import { bytesView } from '../payload.js';
import {
  actionButton, badge, errorBox, facts, jobLink, loading, pageHeader, queueLink, section, table, time,
} from '../ui.js';
import { workflowState } from './workflows.js';

export const name = 'workflow';
export const title = 'Workflow';

function stepsTable(steps) {
  return table([{ label: 'Step' }, { label: 'Type' }, { label: 'State' }, { label: 'Job' }, { label: 'Job state' },
    { label: 'Attempts', class: 'num' }, { label: 'Queue' }, { label: 'Depends on' }],
  steps.map((st) => h('tr', { 'data-step': st.name },
    h('td', null, h('code', null, st.name)),
    h('td', null, h('code', null, st.jobType)),
    h('td', null, badge(stepState(st.state))),
    h('td', null, isId(st.jobId) ? jobLink(st.jobId) : h('span', { class: 'muted' }, '–')),
    h('td', null, st.jobState && st.jobState !== 'JOB_STATE_UNSPECIFIED' ? badge(jobState(st.jobState)) : h('span', { class: 'muted' }, '–')),
    h('td', { class: 'num' }, String(num(st.attempts))),
    h('td', null, st.queue ? queueLink(st.queue) : '–'),
    h('td', null, (st.dependsOn || []).length ? (st.dependsOn || []).map((d, i) => [i ? ', ' : '', h('code', null, d)])
      : h('span', { class: 'muted' }, '–'),
    st.continueOnFailure ? h('span', { class: 'muted small' }, ' (continues on failure)') : null))),
  { id: 'workflow-steps', empty: 'No steps.' });
}

export async function render(ctx) {
  const id = ctx.params[0];
  mount(ctx.root, pageHeader(`Workflow ${id}`), loading());
  if (!isId(id)) {
    mount(ctx.root, pageHeader('Workflow'), errorBox(`"${id}" is not a workflow id.`));
    return;
  }
  const w = await rpc('WorkflowService', 'GetWorkflow', { workflowId: id }, { signal: ctx.signal });
  const state = workflowState(w.state);
  const steps = Array.isArray(w.steps) ? w.steps : [];
  const cancel = state === 'running' ? actionButton({ queues: [w.queue, ...steps.map((st) => st.queue)],
    action: 'cancel-workflow', label: 'Cancel workflow', danger: true,
    confirm: {
      title: `Cancel workflow ${id}?`,
      lines: [`Workflow ${id} (${w.name || w.kind}) stops: its pending steps never run and its waiting jobs are cancelled.`],
    },
    run: async () => {
      const r = await rpc('WorkflowService', 'CancelWorkflow', { workflowId: id });
      return `Workflow ${id} is now ${workflowState(r.state)}.`;
    },
    after: ctx.refresh,
  }) : null;
  const counts = {};
  for (const st of steps) counts[stepState(st.state)] = (counts[stepState(st.state)] || 0) + 1;
  mount(ctx.root,
    pageHeader(h('span', null, 'Workflow ', h('span', { class: 'mono', id: 'workflow-id' }, id), ' ', badge(state, 'workflow-state')),
      h('span', null, h('a', { href: '#/workflows' }, 'Workflows'), ' / ', w.name || id),
      cancel),
    h('div', { class: 'grid-2' },
      section('Details', facts([
        ['Name', w.name, 'name'],
        ['Kind', w.kind === 'code' ? 'code-first' : 'DAG', 'kind'],
        ['State', badge(state), 'state'],
        ['Queue', w.queue ? queueLink(w.queue) : null, 'queue'],
        ['Idempotency key', w.idempotencyKey ? h('code', { class: 'wrap' }, w.idempotencyKey) : null, 'idempotencyKey'],
        ['Created', time(w.createdAt), 'createdAt'],
        ['Finished', time(w.finishedAt), 'finishedAt'],
        isId(w.mainJobId) ? ['Main job', jobLink(w.mainJobId), 'mainJobId'] : null,
        (w.events || []).length ? ['Events', (w.events || []).map((e, i) => [i ? ', ' : '', h('code', null, e)]), 'events'] : null,
        ['Steps', steps.length ? Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') : '–', 'steps'],
      ], { id: 'workflow-facts' })),
      w.error ? section('Error', h('pre', { class: 'error-text', id: 'workflow-error' }, w.error)) : null),
    // A code-first run's steps are its journal, in the order it recorded
    // them: no dependencies to draw.
    steps.length && w.kind !== 'code' ? section('Graph', dagView(steps)) : null,
    steps.length ? section(w.kind === 'code' ? 'Journal' : 'Steps', stepsTable(steps)) : null,
    w.result ? section('Result', bytesView(w.result, { id: 'workflow-result' })) : null);
}
