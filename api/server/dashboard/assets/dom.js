// DOM building without HTML parsing. Every string becomes a text node or an
// attribute value; nothing is ever interpreted as markup. Event handlers are
// attached with addEventListener (the CSP forbids inline handlers), and the
// `style` attribute is refused (use classes, or el.style.x from code).

const SVG_NS = 'http://www.w3.org/2000/svg';

// Link targets we build: in-app hash routes and same-origin paths only
// (no backslash or control character, which browsers fold into "//host").
function safeHref(value) {
  const s = String(value);
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(s)) throw new Error('refusing href with \\ or a control character');
  if (s.startsWith('#') || (s.startsWith('/') && !s.startsWith('//'))) return s;
  throw new Error('refusing href ' + JSON.stringify(s.slice(0, 40)));
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'style' || key === 'srcdoc' || key === 'innerHTML') {
      throw new Error('refusing attribute ' + key);
    }
    if (key.startsWith('on')) {
      if (typeof value !== 'function') throw new Error('handler ' + key + ' must be a function');
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : String(value));
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) {
        if (v !== undefined && v !== null) el.dataset[k] = String(v);
      }
    } else if (key === 'href' || key === 'xlink:href') {
      el.setAttribute('href', safeHref(value));
    } else if (key === 'value' && 'value' in el) {
      el.value = String(value);
    } else if (key === 'checked' || key === 'disabled' || key === 'selected') {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function appendChildren(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) appendChildren(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

// h('a', {href: '#/x', class: 'link'}, 'text', otherNode, [more, nodes])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  appendChildren(el, children);
  return el;
}

// The same for SVG elements.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  appendChildren(el, children);
  return el;
}

// Replaces el's children.
export function mount(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
  return el;
}
