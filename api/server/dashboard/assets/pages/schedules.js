// #/schedules : every schedule with its ticks and counts; Pause, Resume, Trigger.
import { h, mount } from '../dom.js';
import { rpc } from '../api.js';
import { enumWord, formatCount, isId, num } from '../format.js';
import { actionButton, badge, canManage, jobLink, loading, pageHeader, queueLink, section, table, cellTime } from '../ui.js';

export const name = 'schedules';
export const title = 'Schedules';

function actions(ctx, spec) {
  if (!canManage()) return null;
  const id = spec.id;
  const attrs = { 'data-schedule': id, class: 'btn btn-small btn-secondary' };
  return h('div', { class: 'row-actions' },
    spec.paused
      ? actionButton({ queues: [spec.queue],
        action: 'resume', label: 'Resume', attrs,
        confirm: { title: `Resume schedule ${id}?`, lines: [`Schedule ${id} fires again; missed ticks follow its missed-run policy (${enumWord(spec.missed, 'MISSED_')}).`] },
        run: async () => { await rpc('ScheduleService', 'ResumeSchedule', { id }); return `Schedule ${id} resumed.`; },
        after: ctx.refresh,
      })
      : actionButton({ queues: [spec.queue],
        action: 'pause', label: 'Pause', attrs,
        confirm: { title: `Pause schedule ${id}?`, lines: [`Schedule ${id} stops firing until resumed.`] },
        run: async () => { await rpc('ScheduleService', 'PauseSchedule', { id }); return `Schedule ${id} paused.`; },
        after: ctx.refresh,
      }),
    actionButton({ queues: [spec.queue],
      action: 'trigger', label: 'Trigger', attrs,
      confirm: { title: `Trigger schedule ${id} now?`, lines: [`Enqueues one ${spec.jobType} job in queue ${spec.queue} now (its jitter, if any, applies), outside its ticks.`] },
      run: async () => {
        const r = await rpc('ScheduleService', 'TriggerSchedule', { id });
        return [`Triggered schedule ${id}: enqueued job `, isId(r.jobId) ? jobLink(r.jobId) : String(r.jobId), '.'];
      },
      after: ctx.refresh,
    }));
}

export async function render(ctx) {
  mount(ctx.root, pageHeader('Schedules'), loading());
  // The first page of schedules by id (up to 1,000, fewer if their payloads
  // fill the server's message limit).
  const r = await rpc('ScheduleService', 'ListSchedules', { limit: 1000 }, { signal: ctx.signal });
  const list = [...(r.schedules || [])].sort((a, b) => ((a.spec || {}).id < (b.spec || {}).id ? -1 : 1));
  const columns = [{ label: 'ID' }, { label: 'Spec' }, { label: 'State' }, { label: 'Queue / type' },
    { label: 'Next tick' }, { label: 'Last tick' }, { label: 'Last job' }, { label: 'Fired', class: 'num' },
    { label: 'Skipped', class: 'num' }];
  if (canManage()) columns.push({ label: '' });
  mount(ctx.root,
    pageHeader('Schedules', `${list.length} schedule${list.length === 1 ? '' : 's'}${r.nextCursor ? ' shown; more exist (ratchet schedules list --cursor)' : ''}`),
    section(null, table(columns, list.map((info) => {
      const spec = info.spec || {};
      const skipped = num(info.skippedMissed) + num(info.skippedOverlap);
      return h('tr', { 'data-schedule': spec.id },
        h('td', null, h('code', null, spec.id)),
        h('td', null, h('code', null, spec.spec), spec.timeZone && spec.timeZone !== 'UTC' ? h('div', { class: 'muted small' }, spec.timeZone) : null),
        h('td', null, spec.paused ? badge('paused') : badge('active')),
        h('td', null, spec.queue ? queueLink(spec.queue) : '–', h('div', { class: 'small' }, h('code', null, spec.jobType))),
        h('td', { 'data-field': 'nextTick' }, info.nextTick ? cellTime(info.nextTick) : h('span', { class: 'muted' }, spec.paused ? 'paused' : 'never')),
        h('td', { 'data-field': 'lastTick' }, cellTime(info.lastTick)),
        h('td', { 'data-field': 'lastJobId' }, isId(info.lastJobId) ? jobLink(info.lastJobId) : h('span', { class: 'muted' }, '–')),
        h('td', { class: 'num', 'data-field': 'fired' }, formatCount(info.fired)),
        h('td', { class: 'num', 'data-field': 'skipped', title: `${num(info.skippedMissed)} missed, ${num(info.skippedOverlap)} overlapping` }, formatCount(skipped)),
        canManage() ? h('td', null, actions(ctx, spec)) : null);
    }), { id: 'schedules-table', empty: 'No schedules.' })));
}
