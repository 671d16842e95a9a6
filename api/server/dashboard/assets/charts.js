// Small SVG charts: sparklines and a multi-series line chart. Values are
// numbers (null for gaps); they come from /ui/samples.
import { h, s } from './dom.js';

function extent(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (!finite.length) return [0, 1];
  const max = Math.max(...finite);
  return [0, max > 0 ? max : 1];
}

// Path through the points, broken at gaps.
function linePath(values, x, y) {
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  return d;
}

// A tiny chart of one series, with its latest value beside it.
export function sparkline(values, { width = 80, height = 26, format = String, label = '', cls = '' } = {}) {
  const [lo, hi] = extent(values);
  const n = Math.max(values.length, 2);
  const x = (i) => 1 + (i * (width - 2)) / (n - 1);
  const y = (v) => height - 2 - ((v - lo) * (height - 4)) / (hi - lo);
  const line = linePath(values, x, y);
  const last = [...values].reverse().find((v) => Number.isFinite(v));
  const svg = s('svg', {
    class: ['sparkline', cls], width, height, viewBox: `0 0 ${width} ${height}`,
    role: 'img', 'aria-label': `${label}: ${last === undefined ? 'no data' : format(last)}`,
  },
  s('title', null, `${label} over the last ${values.length} samples; max ${format(hi)}`),
  s('line', { x1: 0, x2: width, y1: height - 1.5, y2: height - 1.5, class: 'spark-base' }),
  line ? s('path', { d: `${line}L${x(values.length - 1).toFixed(1)},${height - 1.5}L${x(values.findIndex(Number.isFinite)).toFixed(1)},${height - 1.5}Z`, class: 'spark-area' }) : null,
  line ? s('path', { d: line, class: 'spark-line' }) : null,
  last === undefined ? null : s('circle', {
    cx: x(values.length - 1 - [...values].reverse().findIndex((v) => Number.isFinite(v))).toFixed(1),
    cy: y(last).toFixed(1), r: 2, class: 'spark-dot',
  }));
  return h('span', { class: 'spark' }, svg,
    h('span', { class: 'spark-value' }, last === undefined ? '–' : format(last)));
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// series: [{name, values, cls}], times: Date per index.
export function lineChart(series, times, { width = 1000, height = 220, format = String, title = '', emptyText = '' } = {}) {
  const pad = { l: 64, r: 12, t: 12, b: 26 };
  const all = series.flatMap((x) => x.values);
  const hi = niceMax(extent(all)[1]);
  const n = Math.max(times.length, 2);
  const x = (i) => pad.l + (i * (width - pad.l - pad.r)) / (n - 1);
  const y = (v) => height - pad.b - (v * (height - pad.t - pad.b)) / hi;
  const grid = [];
  for (let k = 0; k <= 4; k++) {
    const v = (hi * k) / 4;
    grid.push(s('line', { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: pad.l - 6, y: y(v) + 4, class: 'axis-label', 'text-anchor': 'end' }, format(v)));
  }
  const ticks = [];
  if (times.length) {
    for (const i of [0, Math.floor((times.length - 1) / 2), times.length - 1]) {
      const t = times[i];
      if (!t) continue;
      ticks.push(s('text', {
        x: x(i), y: height - 8, class: 'axis-label',
        'text-anchor': i === 0 ? 'start' : i === times.length - 1 ? 'end' : 'middle',
      }, t.toLocaleTimeString()));
    }
  }
  const svg = s('svg', {
    class: 'line-chart', viewBox: `0 0 ${width} ${height}`,
    role: 'img', 'aria-label': title,
  },
  s('title', null, title),
  grid, ticks,
  series.map((x1) => [
    s('path', { d: linePath(x1.values, x, y), class: ['series', x1.cls] }),
    // Points without a neighbour draw no line: mark them.
    x1.values.map((v, i) => (Number.isFinite(v) && !Number.isFinite(x1.values[i - 1]) && !Number.isFinite(x1.values[i + 1])
      ? s('circle', { cx: x(i), cy: y(v), r: 3, class: ['point', x1.cls] }) : null)),
  ]),
  all.some((v) => Number.isFinite(v)) ? null : s('text', {
    x: (pad.l + width - pad.r) / 2, y: (pad.t + height - pad.b) / 2, 'text-anchor': 'middle', class: 'axis-label',
  }, times.length ? (emptyText || 'No data in this window') : 'No samples yet'));
  const legend = h('div', { class: 'legend' }, series.map((x1) => {
    const last = [...x1.values].reverse().find((v) => Number.isFinite(v));
    return h('span', { class: 'legend-item' }, h('span', { class: ['swatch', x1.cls] }),
      `${x1.name}: ${last === undefined ? '–' : format(last)}`);
  }));
  return h('div', { class: 'chart' }, svg, legend);
}
