// The dashboard: layout, sign-in state and a router on location.hash.
import { mount } from './dom.js';
import { getSession, loadSession, onSessionChange, signOut } from './api.js';
import { clearFlash, errorBox, flash, errorText, setFlashElement } from './ui.js';
import * as login from './pages/login.js';
import * as overview from './pages/overview.js';
import * as queue from './pages/queue.js';
import * as job from './pages/job.js';
import * as deadLetters from './pages/dead_letters.js';
import * as workflows from './pages/workflows.js';
import * as workflow from './pages/workflow.js';
import * as schedules from './pages/schedules.js';
import * as workers from './pages/workers.js';
import * as notFound from './pages/not_found.js';

// [pattern, page, nav section]; patterns match the path of the hash.
const ROUTES = [
  [/^\/?$/, overview, 'overview'],
  [/^\/login$/, login, null],
  [/^\/queues\/([^/]+)$/, queue, 'overview'],
  [/^\/jobs\/([^/]+)$/, job, null],
  [/^\/dead-letters(?:\/([^/]+))?$/, deadLetters, 'dead-letters'],
  [/^\/workflows$/, workflows, 'workflows'],
  [/^\/workflows\/([^/]+)$/, workflow, 'workflows'],
  [/^\/schedules$/, schedules, 'schedules'],
  [/^\/workers$/, workers, 'workers'],
];

const main = document.getElementById('main');
const appEl = document.getElementById('app');
setFlashElement(document.getElementById('flash'));

// "#/queues/a%20b?state=dead" -> {path: '/queues/a%20b', query}
function parseHash(hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  return {
    path: q < 0 ? raw : raw.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
  };
}

function match(path) {
  for (const [pattern, page, nav] of ROUTES) {
    const m = pattern.exec(path);
    if (m) {
      let params;
      try {
        params = m.slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p)));
      } catch {
        return { page: notFound, params: [], nav: null };
      }
      return { page, params, nav };
    }
  }
  return { page: notFound, params: [], nav: null };
}

export function navigate(hash) {
  if (location.hash === hash) render({ keepFlash: true });
  else location.hash = hash;
}

function goToLogin() {
  const { path } = parseHash(location.hash);
  if (path === '/login') return;
  const next = location.hash && location.hash !== '#' ? location.hash : '#/';
  location.hash = `#/login?next=${encodeURIComponent(next)}`;
}

let controller = null;
let lastPath = null;

function render({ keepFlash = false } = {}) {
  const { path, query } = parseHash(location.hash);
  const route = match(path);
  if (controller) controller.abort();
  controller = new AbortController();
  const { signal } = controller;
  if (!keepFlash && path !== lastPath) clearFlash();
  lastPath = path;

  if (route.page !== login && !getSession()) {
    goToLogin();
    return;
  }
  for (const a of document.querySelectorAll('#nav [data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === route.nav);
  }
  appEl.classList.toggle('login-page', route.page === login);

  const container = document.createElement('div');
  container.className = 'page';
  container.dataset.page = route.page.name;
  container.dataset.route = location.hash || '#/';
  mount(main, container);
  const ctx = {
    root: container,
    params: route.params,
    query,
    signal,
    navigate,
    // Re-renders the current page (after an action), keeping the flash.
    refresh: () => render({ keepFlash: true }),
    // Calls fn every ms while this page is shown.
    // A tick is skipped while the previous one is still running, so a
    // slow answer never overwrites a newer one.
    every(ms, fn) {
      if (signal.aborted) return;  // left before its first draw ended
      let running = false;
      const timer = setInterval(async () => {
        if (signal.aborted || running) return;
        running = true;
        try { await fn(); } finally { running = false; }
      }, ms);
      signal.addEventListener('abort', () => clearInterval(timer));
    },
  };
  document.title = `${route.page.title || 'Ratchet'} · Ratchet`;
  Promise.resolve()
    .then(() => route.page.render(ctx))
    .then(() => { container.dataset.ready = 'true'; })
    .catch((err) => {
      if (signal.aborted || err.name === 'AbortError') return;
      if (err.httpStatus === 401) return;  // on its way to the sign-in page
      mount(container, errorBox(err));
      container.dataset.ready = 'error';
    });
}

function updateHeader(session) {
  appEl.classList.toggle('signed-out', !session);
  document.getElementById('principal').textContent = session ? session.principal : '';
  document.getElementById('read-only').hidden = !session || session.permissions.includes('manage');
}

onSessionChange(updateHeader);
window.addEventListener('ratchet:signin-needed', goToLogin);
window.addEventListener('hashchange', () => render());

document.getElementById('sign-out').addEventListener('click', async (event) => {
  event.preventDefault();
  try {
    await signOut();
  } catch (err) {
    flash(`Sign out failed: ${errorText(err)}`, 'error');
  }
  location.hash = '#/login';
});

async function start() {
  try {
    await loadSession();
  } catch (err) {
    mount(main, errorBox(err));
    return;
  }
  render();
}

start();
