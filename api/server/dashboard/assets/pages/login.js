// #/login: sign in with a bearer token (POST /ui/session), then back to
// where the user was (?next=<hash>).
import { h, mount } from '../dom.js';
import { signIn } from '../api.js';
import { errorText } from '../ui.js';

export const name = 'login';
export const title = 'Sign in';

// Only in-app routes, never this page again.
function nextHash(query) {
  const next = query.get('next') || '';
  return /^#\/(?!login)/.test(next) ? next : '#/';
}

export function render(ctx) {
  const error = h('p', { class: 'login-error', id: 'login-error', role: 'alert', hidden: true });
  const token = h('input', {
    type: 'password', id: 'login-token', name: 'token', autocomplete: 'current-password',
    placeholder: 'Bearer token', required: false, autofocus: true,
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'login-submit' }, 'Sign in');
  const form = h('form', { class: 'login-form', id: 'login-form' },
    h('label', { for: 'login-token' }, 'Access token'),
    token,
    h('p', { class: 'hint' }, 'The token you use with the ratchet CLI (RATCHET_TOKEN). It is sent once; the session lives in a cookie.'),
    error,
    submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      await signIn(token.value);
      location.hash = nextHash(ctx.query);
    } catch (err) {
      error.textContent = err.httpStatus === 401 ? 'That token is not valid.' : `Sign in failed: ${errorText(err)}`;
      error.hidden = false;
      submit.disabled = false;
      token.select();
    }
  });
  mount(ctx.root, h('div', { class: 'login-card card' },
    h('div', { class: 'login-brand' }, h('img', { src: 'favicon.svg', alt: '', width: 36, height: 36 }), h('h1', null, 'Ratchet')),
    h('p', { class: 'muted' }, 'Sign in to the dashboard'),
    form));
  token.focus();
}
