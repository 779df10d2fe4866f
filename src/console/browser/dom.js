// @ts-check
// DOM building and formatting for the console: elements from data with textContent only (never HTML from the API), exact money.

/**
 * An element: `h('td', { class: 'num' }, '12')`. Attributes starting with "on" are listeners; `false`/`null` ones are left out.
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...(Node | string | number | null | undefined | false | Array<Node | string | null | undefined | false>)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = String(value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

/**
 * @param {HTMLElement} el
 * @param {Array<any>} children
 */
function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Replaces the children of `el`.
 * @param {Element} el
 * @param {...(Node | string)} children
 */
export function fill(el, ...children) {
  el.replaceChildren(...children);
}

/**
 * 1250000 -> "1.25", 5 -> "0.000005", -100 -> "-0.0001": integer arithmetic on the digits, no float.
 * @param {number} micro integer micro-USD
 */
export function usd(micro) {
  if (!Number.isSafeInteger(micro)) return '—';
  const digits = String(Math.abs(micro)).padStart(7, '0');
  const whole = digits.slice(0, -6).replace(/\B(?=(\d{3})+$)/g, ',');
  const frac = digits.slice(-6).replace(/0+$/, '').padEnd(2, '0');
  return `${micro < 0 ? '-' : ''}$${whole}.${frac}`;
}

/**
 * "1.25" -> 1250000; at most 6 decimals; anything else (negative, exponent, empty) -> null.
 * @param {string} text
 * @returns {number | null}
 */
export function parseUsd(text) {
  const m = /^\s*\$?(\d{1,9})(?:\.(\d{1,6}))?\s*$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
}

/** @param {number} n */
export const int = (n) => (Number.isFinite(n) ? n.toLocaleString('en-US') : '—');

/**
 * An ISO time as "2026-12-06 13:05 UTC" (UTC: the buckets and the free-call day are UTC), or "—".
 * @param {string | null | undefined} iso
 */
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * A <time> element for an ISO instant.
 * @param {string | null | undefined} iso
 */
export const time = (iso) => (iso ? h('time', { datetime: iso }, when(iso)) : '—');

/**
 * Says `text` to screen readers (the page's polite live region).
 * @param {string} text
 */
export function announce(text) {
  const region = document.getElementById('announce');
  if (!region) return;
  region.textContent = '';
  // A new text node after a tick, so that the same message twice is read twice.
  setTimeout(() => (region.textContent = text), 50);
}

/**
 * A message box: role="alert" for errors (read at once), role="status" otherwise.
 * @param {'error' | 'ok'} kind
 * @param {string} text
 */
export const notice = (kind, text) => h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);

/**
 * A table with a caption; `rows` are arrays of cells (strings, nodes, or `{ num: value }` for right-aligned figures).
 * @param {string} caption
 * @param {Array<string | Node>} head
 * @param {Array<Array<any>>} rows
 * @param {{ empty?: string, numeric?: number[], captionHidden?: boolean }} [opts]
 */
export function table(caption, head, rows, opts = {}) {
  const numeric = new Set(opts.numeric ?? []);
  const cls = (/** @type {number} */ i) => (numeric.has(i) ? 'num' : null);
  return h('div', { class: 'table-wrap' },
    h('table', null,
      h('caption', { class: opts.captionHidden ? 'sr-only' : null }, caption),
      h('thead', null, h('tr', null, head.map((cell, i) => (cell instanceof Node && cell.nodeName === 'TH' ? cell : h('th', { scope: 'col', class: cls(i) }, cell))))),
      h('tbody', null,
        rows.length
          ? rows.map((row) => h('tr', null, row.map((cell, i) => (i === 0 ? h('th', { scope: 'row', class: cls(i) }, cell) : h('td', { class: cls(i) }, cell)))))
          : h('tr', null, h('td', { colspan: head.length, class: 'empty' }, opts.empty ?? 'Nothing yet.')))));
}

/**
 * A labelled form field.
 * @param {string} id
 * @param {string} label
 * @param {Record<string, any>} attrs attributes of the <input>
 * @param {string} [hint]
 */
export function field(id, label, attrs, hint) {
  const hintId = hint ? `${id}-hint` : null;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name: id, ...attrs, 'aria-describedby': hintId }),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}

/**
 * Runs `work` with `button` disabled and marked busy, so a double click does not create two keys.
 * @template T
 * @param {HTMLButtonElement} button
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
