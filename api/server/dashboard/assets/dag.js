// Draws a workflow's steps as an SVG graph: layered by dependency depth,
// one column per layer, edges from each dependency to its dependent.
import { h, s } from './dom.js';
import { enumWord, isId, jobState } from './format.js';

const W = 180;
const H = 54;
const COL_GAP = 80;
const ROW_GAP = 22;
const PAD = 16;

export function stepState(value) {
  return enumWord(value, 'STEP_').replace(/^state /, '');
}

function truncate(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

// name -> depth (longest path from a step without dependencies).
function depths(steps) {
  const byName = new Map(steps.map((st) => [st.name, st]));
  const depth = new Map();
  const visiting = new Set();
  const walk = (st) => {
    if (depth.has(st.name)) return depth.get(st.name);
    if (visiting.has(st.name)) return 0;  // a cycle: should not happen
    visiting.add(st.name);
    let d = 0;
    for (const dep of st.dependsOn || []) {
      const parent = byName.get(dep);
      if (parent) d = Math.max(d, walk(parent) + 1);
    }
    visiting.delete(st.name);
    depth.set(st.name, d);
    return d;
  };
  steps.forEach(walk);
  return depth;
}

export function dagView(steps) {
  if (!steps.length) return h('p', { class: 'muted' }, 'This workflow has no steps.');
  const depth = depths(steps);
  const layers = [];
  for (const st of steps) {
    const d = depth.get(st.name);
    (layers[d] = layers[d] || []).push(st);
  }
  // Order each layer by the mean row of its dependencies (fewer crossings).
  const pos = new Map();
  layers.forEach((layer, col) => {
    if (col > 0) {
      const key = (st) => {
        const rows = (st.dependsOn || []).map((d) => pos.get(d)).filter((p) => p).map((p) => p.row);
        return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : 0;
      };
      layer.sort((a, b) => key(a) - key(b));
    }
    layer.forEach((st, row) => pos.set(st.name, { col, row }));
  });
  const tallest = Math.max(...layers.map((l) => l.length));
  // Edges that skip a layer arc over the boxes between: room for them on top.
  const LIFT = H / 2 + 22;
  const skips = steps.some((st) => (st.dependsOn || []).some((d) => pos.has(d) && pos.get(st.name).col - pos.get(d).col > 1));
  const top = PAD + (skips ? LIFT : 0);
  const width = PAD * 2 + layers.length * W + (layers.length - 1) * COL_GAP;
  const height = top + PAD + tallest * H + (tallest - 1) * ROW_GAP;
  // Center each layer vertically.
  const xy = (name) => {
    const p = pos.get(name);
    const n = layers[p.col].length;
    const offset = ((tallest - n) * (H + ROW_GAP)) / 2;
    return { x: PAD + p.col * (W + COL_GAP), y: top + offset + p.row * (H + ROW_GAP) };
  };
  const edges = [];
  for (const st of steps) {
    const to = xy(st.name);
    for (const dep of st.dependsOn || []) {
      if (!pos.has(dep)) continue;
      const from = xy(dep);
      const x1 = from.x + W;
      const y1 = from.y + H / 2;
      const x2 = to.x - 2;
      const y2 = to.y + H / 2;
      const mx = (x1 + x2) / 2;
      const skip = pos.get(st.name).col - pos.get(dep).col > 1;
      // A cubic's middle reaches 3/4 of its control points' offset.
      const up = Math.min(y1, y2) - (LIFT * 4) / 3;
      const d = skip
        ? `M${x1},${y1} C${x1 + COL_GAP},${up} ${x2 - COL_GAP},${up} ${x2},${y2}`
        : `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
      edges.push(s('path', {
        d,
        class: ['edge', st.continueOnFailure ? 'edge-soft' : ''], 'marker-end': 'url(#dag-arrow)',
        'data-from': dep, 'data-to': st.name,
      }));
    }
  }
  const nodes = steps.map((st) => {
    const { x, y } = xy(st.name);
    const state = stepState(st.state);
    const js = st.jobState && st.jobState !== 'JOB_STATE_UNSPECIFIED' ? jobState(st.jobState) : '';
    // Released steps: their job's state says more (available, running...).
    const sub = state === 'released' && js ? `job ${js}` : state;
    const g = s('g', { class: ['step', `step-${state.replace(/\s+/g, '-')}`], 'data-step': st.name, transform: `translate(${x},${y})` },
      s('title', null, `${st.name} (${st.jobType}): ${state}${js ? `, job ${js}` : ''}${(st.dependsOn || []).length ? `; after ${st.dependsOn.join(', ')}` : ''}`),
      s('rect', { width: W, height: H, rx: 8, ry: 8 }),
      s('text', { x: 12, y: 22, class: 'step-name' }, truncate(st.name, 22)),
      s('text', { x: 12, y: 40, class: 'step-sub' }, truncate(sub, 28)));
    return isId(st.jobId) ? s('a', { href: `#/jobs/${st.jobId}` }, g) : g;
  });
  const svg = s('svg', {
    class: 'dag', id: 'workflow-dag', width, height, viewBox: `0 0 ${width} ${height}`,
    role: 'img', 'aria-label': `Workflow graph with ${steps.length} steps`,
  },
  s('defs', null, s('marker', {
    id: 'dag-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
  }, s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' }))),
  edges, nodes);
  const legend = h('div', { class: 'legend' }, ['pending', 'released', 'completed', 'failed', 'cancelled'].map((st) =>
    h('span', { class: 'legend-item' }, h('span', { class: ['swatch', `swatch-step-${st}`] }), st)));
  return h('div', null, h('div', { class: 'dag-wrap' }, svg), legend);
}
