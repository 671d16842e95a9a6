// #/ : every queue with its counts, state, limits and recent throughput, and
// the server's start latency. Refreshed every 5 s.
import { h, mount } from '../dom.js';
import { rpc, samples as fetchSamples } from '../api.js';
import { lineChart, sparkline } from '../charts.js';
import {
  JOB_STATES, formatCount, formatRate, formatRateLimit, formatSeconds, num, parseTime,
} from '../format.js';
import { badge, errorBox, errorText, loading, pageHeader, section, table } from '../ui.js';

export const name = 'overview';
export const title = 'Overview';

const POLL_MS = 5000;

function limitsOf(settings = {}) {
  const parts = [];
  const c = num(settings.concurrencyLimit);
  parts.push(h('span', { class: 'limit', 'data-limit': 'concurrency' }, c ? `concurrency ${c}` : 'concurrency ∞'));
  const kc = num(settings.keyConcurrencyLimit);
  if (kc) parts.push(h('span', { class: 'limit', 'data-limit': 'key-concurrency' }, `per key ${kc}`));
  const rate = formatRateLimit(settings.rateLimit);
  if (rate) parts.push(h('span', { class: 'limit', 'data-limit': 'rate' }, `rate ${rate}`));
  const keyRate = formatRateLimit(settings.keyRateLimit);
  if (keyRate) parts.push(h('span', { class: 'limit', 'data-limit': 'key-rate' }, `key rate ${keyRate}`));
  const named = Object.keys(settings.keyLimits || {}).length;
  if (named) parts.push(h('span', { class: 'limit' }, `${named} key limit${named === 1 ? '' : 's'}`));
  return h('div', { class: 'limits' }, parts);
}

function series(sampleList, queueName, field) {
  return sampleList.map((smp) => {
    const q = smp && smp.queues && Object.prototype.hasOwnProperty.call(smp.queues, queueName)
      ? smp.queues[queueName] : null;
    // A queue missing from a sample had no activity then.
    const v = q ? Number(q[field]) : 0;
    return Number.isFinite(v) ? v : null;
  });
}

function queueRow(q, sampleList) {
  const settings = q.settings || {};
  const paused = Boolean(settings.paused);
  return h('tr', { 'data-queue': q.name },
    h('td', { class: 'name' }, h('a', { href: `#/queues/${encodeURIComponent(q.name)}`, 'data-testid': 'queue-link' }, q.name),
      ' ', paused ? badge('paused', 'queue-state') : null),
    JOB_STATES.map((st) => h('td', { class: ['num', num(q[st]) ? '' : 'zero'], 'data-count': st },
      st === 'dead' && num(q.dead)
        ? h('a', { href: `#/dead-letters/${encodeURIComponent(q.name)}` }, formatCount(q.dead))
        : formatCount(q[st]))),
    h('td', null, limitsOf(settings)),
    h('td', { class: 'chart-cell' }, sparkline(series(sampleList, q.name, 'completedPerSecond'),
      { label: 'completed per second', format: formatRate, cls: 'spark-throughput' })),
    h('td', { class: 'chart-cell' }, sparkline(series(sampleList, q.name, 'oldestAvailableAgeSeconds'),
      { label: 'oldest available job age', format: formatSeconds, cls: 'spark-age' })));
}

function totals(queues) {
  return h('div', { class: 'stat-cards', 'data-testid': 'totals' }, JOB_STATES.map((st) =>
    h('div', { class: ['stat-card', `stat-${st}`], 'data-total': st },
      h('div', { class: 'stat-value' }, formatCount(queues.reduce((sum, q) => sum + num(q[st]), 0))),
      h('div', { class: 'stat-label' }, st))));
}

function latencyChart(result) {
  if (result.status === 'rejected') {
    return section('Start latency (enqueue to start)', errorBox(result.reason));
  }
  const list = Array.isArray(result.value.samples) ? result.value.samples : [];
  // 0 means no job started in that interval: a gap, not a latency of 0.
  const field = (k) => list.map((x) => (Number(x[k]) > 0 ? Number(x[k]) : null));
  return section('Start latency (enqueue to start), all queues',
    h('div', { id: 'latency-chart' }, lineChart([
      { name: 'p50', values: field('startLatencyP50Seconds'), cls: 'series-p50' },
      { name: 'p99', values: field('startLatencyP99Seconds'), cls: 'series-p99' },
    ], list.map((x) => parseTime(x.time)), { format: formatSeconds, title: 'Start latency p50 and p99', emptyText: 'No job started in this window' })),
    h('p', { class: 'muted small' }, `Last ${list.length} samples, every ${num(result.value.intervalSeconds) || 5} s.`));
}

export async function render(ctx) {
  mount(ctx.root, pageHeader('Overview'), loading());
  let firstError = null;
  const draw = async () => {
    const [queuesResult, samplesResult] = await Promise.allSettled([
      // The first 1,000 queues by name (one page of ListQueues).
      rpc('QueueService', 'ListQueues', { limit: 1000 }, { signal: ctx.signal }),
      fetchSamples({ signal: ctx.signal }),
    ]);
    if (ctx.signal.aborted) return;
    if (queuesResult.status === 'rejected') {
      if (queuesResult.reason.httpStatus === 401) return;
      if (!firstError) firstError = queuesResult.reason;
      mount(ctx.root, pageHeader('Overview'), errorBox(queuesResult.reason));
      return;
    }
    const queues = [...(queuesResult.value.queues || [])].sort((a, b) => (a.name < b.name ? -1 : 1));
    const sampleList = samplesResult.status === 'fulfilled' && Array.isArray(samplesResult.value.samples)
      ? samplesResult.value.samples : [];
    mount(ctx.root,
      pageHeader('Overview', `${queues.length} queue${queues.length === 1 ? '' : 's'}${queuesResult.value.nextCursor ? ' shown (the first by name; more exist)' : ''} · refreshed every 5 s`),
      totals(queues),
      latencyChart(samplesResult),
      section('Queues',
        table([
          { label: 'Queue' },
          ...JOB_STATES.map((st) => ({ label: st, class: 'num' })),
          { label: 'Limits' }, { label: 'Throughput' }, { label: 'Oldest waiting' },
        ], queues.map((q) => queueRow(q, sampleList)), { id: 'queues-table', empty: 'No queues yet.' })));
  };
  await draw();
  ctx.every(POLL_MS, () => draw().catch((err) => {
    if (!ctx.signal.aborted && err.name !== 'AbortError') console.warn('refresh failed', errorText(err));
  }));
}
