// #/workers : the workers seen recently and the jobs each one holds.
import { h, mount } from '../dom.js';
import { rpc } from '../api.js';
import { formatCount, num } from '../format.js';
import { jobLink, loading, pageHeader, queueLink, section, table, cellTime } from '../ui.js';

export const name = 'workers';
export const title = 'Workers';

const SHOWN_JOBS = 12;

function draw(ctx, r) {
  const list = Array.isArray(r.workers) ? r.workers : [];
  const held = list.reduce((n, w) => n + num(w.jobsHeld), 0);
  mount(ctx.root,
    pageHeader('Workers', `${list.length} seen recently · ${formatCount(held)} job${held === 1 ? '' : 's'} held · refreshed every 5 s`),
    section(null, table([{ label: 'Worker' }, { label: 'Queues' }, { label: 'Jobs held', class: 'num' },
      { label: 'Running' }, { label: 'Last seen' }],
    list.map((w) => {
      const ids = Array.isArray(w.jobIds) ? w.jobIds : [];
      const more = num(w.jobsHeld) - Math.min(ids.length, SHOWN_JOBS);
      return h('tr', { 'data-worker': w.workerId },
        h('td', null, w.workerId ? h('code', { class: 'wrap' }, w.workerId) : h('span', { class: 'muted' }, '(no id)')),
        h('td', null, (w.queues || []).map((q, i) => [i ? ', ' : '', queueLink(q)])),
        h('td', { class: 'num' }, formatCount(w.jobsHeld)),
        h('td', { class: 'job-list' }, ids.length ? ids.slice(0, SHOWN_JOBS).map((id, i) => [i ? ' ' : '', jobLink(id)])
          : h('span', { class: 'muted' }, 'idle'),
          more > 0 ? h('span', { class: 'muted' }, ` … ${formatCount(more)} more`) : null),
        h('td', null, cellTime(w.lastSeen)));
    }), { id: 'workers-table', empty: 'No worker has called in recently.' })));
}

export async function render(ctx) {
  mount(ctx.root, pageHeader('Workers'), loading());
  const load = async () => {
    const r = await rpc('WorkerService', 'ListWorkers', {}, { signal: ctx.signal });
    if (!ctx.signal.aborted) draw(ctx, r);
  };
  await load();
  ctx.every(5000, () => load().catch(() => {}));
}
