// The JSON API and the dashboard session (see the HTTP contract):
// POST /v1/<Service>/<Method> with the session cookie and X-CSRF-Token.

let session = null;  // {principal, csrfToken, permissions}
const listeners = new Set();

export class ApiError extends Error {
  constructor(httpStatus, code, message, reason) {
    super(message);
    this.httpStatus = httpStatus;
    this.code = code;      // google.rpc.Code number, or 0 when unknown
    this.reason = reason;  // ErrorInfo.reason, or ''
  }

  toString() {
    const what = this.reason || (this.httpStatus ? `HTTP ${this.httpStatus}` : 'error');
    return `${what}: ${this.message}`;
  }
}

export function getSession() {
  return session;
}

export function can(permission) {
  return Boolean(session && session.permissions.includes(permission));
}

// A grant's queue pattern (docs/operations.md, "Authorization"): "*" is
// every queue, "prefix*" every queue starting with prefix, else one queue.
function patternMatches(pattern, queue) {
  if (pattern.endsWith('*')) return queue.startsWith(pattern.slice(0, -1));
  return pattern === queue;
}

// Whether the session holds `permission` on every queue of `queues` (the
// server decides anyway: this only hides what it would refuse).
export function canOn(permission, queues) {
  if (!session) return false;
  return queues.every((q) => session.grants.some(
    (g) => g.permissions.includes(permission) && patternMatches(g.queues, String(q))));
}

export function onSessionChange(fn) {
  listeners.add(fn);
}

function setSession(value) {
  if (value) {
    session = {
      principal: String(value.principal ?? ''),
      csrfToken: String(value.csrfToken ?? ''),
      permissions: Array.isArray(value.permissions) ? value.permissions.map(String) : [],
      grants: Array.isArray(value.grants) ? value.grants.map((g) => ({
        queues: String(g.queues ?? ''),
        permissions: Array.isArray(g.permissions) ? g.permissions.map(String) : [],
      })) : [],
    };
  } else {
    session = null;
  }
  for (const fn of listeners) fn(session);
}

// Turns a non-2xx answer into an ApiError, reading google.rpc.Status JSON.
async function errorOf(res) {
  let code = 0;
  let message = res.statusText || 'request failed';
  let reason = '';
  try {
    const body = await res.json();
    if (body && typeof body === 'object') {
      if (Number.isInteger(body.code)) code = body.code;
      if (typeof body.message === 'string' && body.message) message = body.message;
      for (const d of Array.isArray(body.details) ? body.details : []) {
        if (d && typeof d.reason === 'string') reason = d.reason;
      }
    }
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(res.status, code, message, reason);
}

// Sent on 401: the app shows the sign-in page.
function unauthenticated() {
  setSession(null);
  window.dispatchEvent(new CustomEvent('ratchet:signin-needed'));
}

async function send(method, path, body, signal) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session && session.csrfToken) headers['X-CSRF-Token'] = session.csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 14, 'cannot reach the server', 'UNAVAILABLE');
  }
  return res;
}

// Calls a unary RPC: rpc('QueueService', 'ListQueues', {}).
export async function rpc(service, method, request = {}, { signal } = {}) {
  const res = await send('POST', `/v1/${service}/${method}`, request, signal);
  if (res.status === 401) {
    const err = await errorOf(res);
    unauthenticated();
    throw err;
  }
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

// The overview charts' samples.
export async function samples({ signal } = {}) {
  const res = await send('GET', '/ui/samples', undefined, signal);
  if (res.status === 401) {
    unauthenticated();
    throw await errorOf(res);
  }
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

// Restores the session from the cookie; null when signed out.
export async function loadSession() {
  const res = await send('GET', '/ui/session');
  if (res.status === 401) {
    setSession(null);
    return null;
  }
  if (!res.ok) throw await errorOf(res);
  setSession(await res.json());
  return session;
}

export async function signIn(token) {
  const res = await send('POST', '/ui/session', { token });
  if (!res.ok) throw await errorOf(res);
  setSession(await res.json());
  return session;
}

export async function signOut() {
  try {
    const res = await send('DELETE', '/ui/session');
    if (!res.ok && res.status !== 401) throw await errorOf(res);
  } finally {
    setSession(null);
  }
}
