// Any hash the router does not know.
import { h, mount } from '../dom.js';

export const name = 'not-found';
export const title = 'Not found';

export function render(ctx) {
  mount(ctx.root, h('div', { class: 'card' },
    h('h1', null, 'Page not found'),
    h('p', null, 'Nothing lives at this address. ', h('a', { href: '#/' }, 'Go to the overview'), '.')));
}
