// Shared widgets: state badges, times, tables, the flash message, the
// confirm dialog and action buttons (shown only with the "manage" permission).
import { h } from './dom.js';
import { can, canOn, ApiError } from './api.js';
import { localTime, parseTime, relative, shortTime } from './format.js';

export function badge(word, extraClass) {
  const cls = String(word).replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  return h('span', { class: ['badge', `badge-${cls}`, extraClass] }, word);
}

// A timestamp: local time, with the relative age beside it and ISO as a tooltip.
export function time(value) {
  const d = parseTime(value);
  if (!d) return h('span', { class: 'muted' }, '–');
  return h('time', { datetime: d.toISOString(), title: d.toISOString(), class: 'ts' },
    localTime(d), ' ', h('span', { class: 'muted' }, `(${relative(d)})`));
}

// The same for table cells: short local time over the relative age.
export function cellTime(value) {
  const d = parseTime(value);
  if (!d) return h('span', { class: 'muted' }, '–');
  return h('time', { datetime: d.toISOString(), title: `${localTime(d)} (${d.toISOString()})`, class: 'ts ts-cell' },
    shortTime(d), h('span', { class: 'ts-rel' }, relative(d)));
}

export function jobLink(id) {
  return h('a', { href: `#/jobs/${encodeURIComponent(id)}`, class: 'mono' }, String(id));
}

export function queueLink(name) {
  return h('a', { href: `#/queues/${encodeURIComponent(name)}` }, name);
}

// columns: [{label, class?}], rows: array of <tr> elements (or null).
export function table(columns, rows, { id, empty = 'Nothing here.', testid } = {}) {
  const body = rows.filter(Boolean);
  return h('div', { class: 'table-wrap' },
    h('table', { id, 'data-testid': testid },
      h('thead', null, h('tr', null, columns.map((c) =>
        h('th', { class: c.class }, c.label)))),
      h('tbody', null, body.length ? body
        : h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, empty)))));
}

// A definition list of [label, value] pairs (value: string or node).
export function facts(pairs, attrs) {
  return h('dl', { class: 'facts', ...attrs }, pairs.filter(Boolean).map(([k, v, key]) => [
    h('dt', null, k),
    h('dd', { 'data-field': key }, v === undefined || v === null || v === '' ? h('span', { class: 'muted' }, '–') : v),
  ]));
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', null, title) : null, ...children);
}

export function pageHeader(title, subtitle, ...actions) {
  return h('div', { class: 'page-header' },
    h('div', null, h('h1', { id: 'page-title' }, title),
      subtitle ? h('p', { class: 'subtitle' }, subtitle) : null),
    h('div', { class: 'actions' }, actions));
}

export function loading() {
  return h('p', { class: 'loading muted' }, 'Loading…');
}

export function errorText(err) {
  if (err instanceof ApiError) return err.toString();
  return String(err && err.message ? err.message : err);
}

export function errorBox(err) {
  return h('div', { class: 'error-box', role: 'alert' }, errorText(err));
}

// ---- flash message --------------------------------------------------------

let flashEl = null;

export function setFlashElement(el) {
  flashEl = el;
}

// kind: 'ok' | 'error' | 'info'; extra: nodes after the text (e.g. a button).
export function flash(message, kind = 'ok', ...extra) {
  if (!flashEl) return;
  flashEl.replaceChildren();
  flashEl.className = `flash flash-${kind}`;
  flashEl.dataset.kind = kind;
  flashEl.append(h('span', { class: 'flash-text' }, message, extra));
  flashEl.append(h('button', {
    class: 'flash-close', type: 'button', title: 'Dismiss', 'aria-label': 'Dismiss',
    onclick: () => clearFlash(),
  }, '×'));
  flashEl.hidden = false;
}

export function clearFlash() {
  if (!flashEl) return;
  flashEl.replaceChildren();
  flashEl.hidden = true;
  flashEl.className = 'flash';
  delete flashEl.dataset.kind;
}

// ---- confirm dialog --------------------------------------------------------

let dialog = null;

function ensureDialog() {
  if (dialog) return dialog;
  dialog = h('dialog', { id: 'confirm-dialog', class: 'dialog', 'aria-labelledby': 'confirm-title' });
  document.body.append(dialog);
  return dialog;
}

// Resolves true when the user presses OK. `lines`: what will be touched.
export function confirmAction({ title, lines = [], ok = 'OK', danger = false }) {
  const d = ensureDialog();
  return new Promise((resolve) => {
    const stop = new AbortController();
    const done = (value) => {
      if (stop.signal.aborted) return;
      stop.abort();
      if (d.open) d.close();
      resolve(value);
    };
    d.replaceChildren(
      h('h2', { id: 'confirm-title' }, title),
      h('div', { class: 'dialog-body', id: 'confirm-message' },
        lines.filter(Boolean).map((line) => h('p', null, line))),
      h('div', { class: 'dialog-buttons' },
        h('button', { type: 'button', class: 'btn', 'data-action': 'cancel-dialog', onclick: () => done(false) }, 'Cancel'),
        h('button', {
          type: 'button', class: ['btn', danger ? 'btn-danger' : 'btn-primary'],
          'data-action': 'confirm', id: 'confirm-ok', onclick: () => done(true),
        }, ok)));
    d.addEventListener('cancel', () => done(false), { signal: stop.signal });
    // A late close event of an earlier use may arrive while this one is open.
    d.addEventListener('close', () => { if (!d.open) done(false); }, { signal: stop.signal });
    d.showModal();
    d.querySelector('[data-action="confirm"]').focus();
  });
}

// ---- mutations -------------------------------------------------------------

export function canManage() {
  return can('manage');
}

// A button that mutates: null (not rendered at all) without "manage" on
// every queue of `queues` (the queues the action touches; omitted: any).
// run: async () => result message (string or [string, ...nodes]).
export function actionButton({ action, label, confirm, run, after, danger = false, attrs = {}, queues = null }) {
  if (!(queues ? canOn('manage', queues) : canManage())) return null;
  const button = h('button', {
    type: 'button', class: ['btn', danger ? 'btn-danger-outline' : 'btn-secondary'],
    'data-action': action, ...attrs,
  }, label);
  button.addEventListener('click', async () => {
    const spec = typeof confirm === 'function' ? confirm() : confirm;
    if (!spec) return;
    if (!(await confirmAction({ ok: label, danger, ...spec }))) return;
    button.disabled = true;
    try {
      const message = await run();
      if (message) flash(...(Array.isArray(message) ? [message[0], 'ok', ...message.slice(1)] : [message, 'ok']));
      if (after) await after();
    } catch (err) {
      flash(`${label} failed: ${errorText(err)}`, 'error');
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

// "Next page" / "First page" controls for cursor paging.
export function pager({ hasPrevious, nextCursor, onFirst, onNext, count }) {
  return h('div', { class: 'pager', 'data-testid': 'pager' },
    h('span', { class: 'muted' }, `${count} shown`),
    h('button', { type: 'button', class: 'btn btn-small', 'data-page': 'first', disabled: !hasPrevious, onclick: onFirst }, '⟨ First page'),
    h('button', { type: 'button', class: 'btn btn-small', 'data-page': 'next', disabled: !nextCursor, onclick: onNext }, 'Next page ⟩'));
}
