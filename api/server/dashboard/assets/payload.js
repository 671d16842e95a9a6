// Shows proto `bytes` (base64 in JSON) safely: UTF-8 text in a <pre> (as a
// text node), JSON as sent (labelled JSON), anything else as a hex dump.
import { h } from './dom.js';

const MAX_SHOWN = 64 * 1024;

export function decodeBase64(b64) {
  const bin = atob(String(b64 || '').replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

export function hexDump(bytes) {
  const lines = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0'));
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    const left = hex.slice(0, 8).join(' ');
    const right = hex.slice(8).join(' ');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  return lines.join('\n');
}

// {kind: 'empty'|'text'|'json'|'binary'|'invalid', text, size}
export function describeBytes(b64) {
  let bytes;
  try {
    bytes = decodeBase64(b64);
  } catch {
    return { kind: 'invalid', text: String(b64), size: 0 };
  }
  if (!bytes.length) return { kind: 'empty', text: '', size: 0 };
  const shown = bytes.subarray(0, MAX_SHOWN);
  try {
    let text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (/^\s*[[{]/.test(text) && bytes.length <= MAX_SHOWN) {
      try {
        // Checked as JSON, shown as sent: re-printing would round big
        // numbers to doubles and drop duplicate keys.
        JSON.parse(text);
        return { kind: 'json', text, size: bytes.length };
      } catch {
        // not JSON after all
      }
    }
    if (text.length > MAX_SHOWN) text = text.slice(0, MAX_SHOWN);
    return { kind: 'text', text, size: bytes.length, truncated: bytes.length > MAX_SHOWN };
  } catch {
    return { kind: 'binary', text: hexDump(shown), size: bytes.length, truncated: bytes.length > MAX_SHOWN };
  }
}

export function bytesView(b64, { id } = {}) {
  const d = describeBytes(b64);
  if (d.kind === 'empty') return h('p', { class: 'muted', id, 'data-kind': 'empty' }, 'Empty.');
  const label = { text: 'UTF-8 text', json: 'JSON', binary: 'binary (hex dump)', invalid: 'not base64' }[d.kind];
  return h('div', { class: 'bytes', id, 'data-kind': d.kind },
    h('div', { class: 'bytes-meta muted small' }, `${d.size.toLocaleString()} bytes · ${label}`,
      d.truncated ? ` · first ${MAX_SHOWN.toLocaleString()} bytes shown` : ''),
    h('pre', { class: ['payload', d.kind === 'binary' ? 'hex' : ''] }, d.text));
}
