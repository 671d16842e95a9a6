// Formatting of API values for display: times, durations, counts, states.

// "2026-12-03T16:00:05.123Z" -> Date, or null when unset/invalid.
export function parseTime(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) || d.getTime() <= 0 ? null : d;
}

// "1.500s" -> 1.5 (seconds), or null.
export function parseDuration(value) {
  if (value === undefined || value === null || value === '') return null;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(String(value));
  return m ? Number(m[1]) : null;
}

export function formatSeconds(sec) {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return '–';
  const a = Math.abs(sec);
  if (a === 0) return '0 s';
  if (a < 1) return `${+(sec * 1000).toPrecision(3)} ms`;
  if (a < 60) return `${+sec.toPrecision(3)} s`;
  if (a < 3600) return `${+(sec / 60).toPrecision(3)} min`;
  if (a < 86400) return `${+(sec / 3600).toPrecision(3)} h`;
  return `${+(sec / 86400).toPrecision(3)} d`;
}

export function formatDuration(value) {
  const sec = parseDuration(value);
  return sec === null ? '–' : formatSeconds(sec);
}

// "3 min ago" / "in 2 h".
export function relative(date, now = Date.now()) {
  if (!date) return '';
  const diff = (date.getTime() - now) / 1000;
  const a = Math.abs(diff);
  let text;
  if (a < 5) return 'just now';
  if (a < 60) text = `${Math.round(a)} s`;
  else if (a < 3600) text = `${Math.round(a / 60)} min`;
  else if (a < 86400) text = `${Math.round(a / 3600)} h`;
  else text = `${Math.round(a / 86400)} d`;
  return diff < 0 ? `${text} ago` : `in ${text}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});

const shortFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

export function localTime(date) {
  return date ? dateFormat.format(date) : '–';
}

// Without the year: for table cells.
export function shortTime(date) {
  return date ? shortFormat.format(date) : '–';
}

// int64 JSON strings -> numbers for display and sums.
export function num(value) {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

export function formatCount(value) {
  return num(value).toLocaleString();
}

export function formatRate(perSecond) {
  if (!Number.isFinite(perSecond)) return '–';
  if (perSecond === 0) return '0/s';
  if (perSecond < 1) return `${+(perSecond * 60).toPrecision(3)}/min`;
  return `${+perSecond.toPrecision(3)}/s`;
}

// "JOB_STATE_DEAD" -> "dead", "STEP_COMPLETED" -> "completed".
export function enumWord(value, prefix) {
  if (!value) return 'unspecified';
  const v = String(value);
  return (v.startsWith(prefix) ? v.slice(prefix.length) : v).toLowerCase().replace(/_/g, ' ');
}

export const JOB_STATES = ['scheduled', 'available', 'running', 'completed', 'cancelled', 'dead'];

export function jobState(value) {
  return enumWord(value, 'JOB_STATE_');
}

export function jobStateEnum(word) {
  return 'JOB_STATE_' + String(word).toUpperCase();
}

// A RateLimit message -> "100 / 1 s", or null when unset.
export function formatRateLimit(rl) {
  if (!rl || !num(rl.limit)) return null;
  return `${formatCount(rl.limit)} / ${formatDuration(rl.period)}`;
}

export function isId(value) {
  return /^[0-9]{1,20}$/.test(String(value)) && String(value) !== '0';
}
