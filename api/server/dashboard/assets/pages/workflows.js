// #/workflows?state=running : workflows (ListWorkflows), paged.
import { h, mount } from '../dom.js';
import { rpc } from '../api.js';
import { enumWord } from '../format.js';
import { badge, errorBox, jobLink, loading, pageHeader, pager, queueLink, section, table, cellTime } from '../ui.js';

export const name = 'workflows';
export const title = 'Workflows';

const STATES = ['all', 'running', 'completed', 'failed', 'cancelled'];

export function workflowState(value) {
  return enumWord(value, 'WORKFLOW_');
}

function stateSelect(ctx, current) {
  const select = h('select', { id: 'workflow-state', 'aria-label': 'State' },
    STATES.map((st) => h('option', { value: st, selected: st === current }, st)));
  select.addEventListener('change', () => ctx.navigate(select.value === 'all' ? '#/workflows' : `#/workflows?state=${select.value}`));
  return h('label', { class: 'picker' }, 'State ', select);
}

export async function render(ctx) {
  const state = STATES.includes(ctx.query.get('state')) ? ctx.query.get('state') : 'all';
  const holder = h('div', { id: 'workflows' }, loading());
  mount(ctx.root, pageHeader('Workflows', 'DAG and code-first workflows', stateSelect(ctx, state)), section(null, holder));
  const cursors = [''];
  const show = (err) => { if (!ctx.signal.aborted) mount(holder, errorBox(err)); };
  const load = async () => {
    const page = await rpc('WorkflowService', 'ListWorkflows', {
      state: state === 'all' ? 'WORKFLOW_STATE_UNSPECIFIED' : `WORKFLOW_${state.toUpperCase()}`,
      limit: 50,
      cursor: cursors[cursors.length - 1],
    }, { signal: ctx.signal });
    const list = Array.isArray(page.workflows) ? page.workflows : [];
    mount(holder,
      table([{ label: 'ID' }, { label: 'Name' }, { label: 'Kind' }, { label: 'State' }, { label: 'Queue' },
        { label: 'Created' }, { label: 'Finished' }, { label: 'Main job' }, { label: 'Error' }],
      list.map((w) => h('tr', { 'data-workflow-id': w.id },
        h('td', null, h('a', { href: `#/workflows/${encodeURIComponent(w.id)}`, class: 'mono' }, String(w.id))),
        h('td', null, w.name || h('span', { class: 'muted' }, '–')),
        h('td', null, w.kind),
        h('td', null, badge(workflowState(w.state))),
        h('td', null, w.queue ? queueLink(w.queue) : '–'),
        h('td', null, cellTime(w.createdAt)),
        h('td', null, cellTime(w.finishedAt)),
        h('td', null, w.mainJobId && w.mainJobId !== '0' ? jobLink(w.mainJobId) : h('span', { class: 'muted' }, '–')),
        h('td', { class: 'error-cell' }, w.error ? h('span', { class: 'error-text' }, w.error.length > 80 ? `${w.error.slice(0, 80)}…` : w.error) : null))),
      { id: 'workflows-table', empty: 'No workflows.' }),
      pager({
        count: list.length,
        hasPrevious: cursors.length > 1,
        nextCursor: page.nextCursor,
        onFirst: () => { cursors.length = 1; load().catch(show); },
        onNext: () => { cursors.push(page.nextCursor); load().catch(show); },
      }));
  };
  await load();
}
