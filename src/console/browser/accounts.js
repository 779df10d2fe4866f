// @ts-check
// The accounts table: pages of GET /admin/accounts (next_cursor), sortable by any column within the page shown.
import { admin } from './api.js';
import { fill, h, int, notice, usd, when } from './dom.js';

/**
 * @typedef {{ account_id: string, created_at: string, balance_micro_usd: number, keys_active: number, keys_total: number, calls_today: number, spent_today_micro_usd: number }} Account
 * @typedef {{ key: keyof Account, label: string, numeric?: boolean, cell: (a: Account) => Node | string }} Column
 */

/** @type {Column[]} */
const COLUMNS = [
  { key: 'account_id', label: 'Account', cell: (a) => h('a', { href: `#/account/${encodeURIComponent(a.account_id)}` }, a.account_id) },
  { key: 'created_at', label: 'Created', cell: (a) => when(a.created_at) },
  { key: 'balance_micro_usd', label: 'Balance', numeric: true, cell: (a) => usd(a.balance_micro_usd) },
  { key: 'keys_active', label: 'Active keys', numeric: true, cell: (a) => `${int(a.keys_active)} of ${int(a.keys_total)}` },
  { key: 'calls_today', label: 'Calls today', numeric: true, cell: (a) => int(a.calls_today) },
  { key: 'spent_today_micro_usd', label: 'Spent today', numeric: true, cell: (a) => usd(a.spent_today_micro_usd) },
];

const PAGE_SIZES = [10, 25, 50, 100];
/** The activity filter: days back from today (UTC) an account must have made a call or received credit in; 0 = every account. */
const ACTIVE = [[0, 'All accounts'], [1, 'Active today'], [7, 'Active in the last 7 days'], [30, 'Active in the last 30 days']];

/** @param {number} days @returns {string | undefined} the start of the UTC day `days - 1` days ago */
function activeFrom(days) {
  if (!days) return undefined;
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  return new Date(today - (days - 1) * 86_400_000).toISOString();
}

/**
 * @param {{ toolbar?: Node }} [opts] controls shown above the table (the "new account" action)
 * @returns {HTMLElement}
 */
export function accountsPanel(opts = {}) {
  /** Cursors of the pages seen so far: `cursors[i]` opens page i (null: the first). */
  /** @type {Array<string | null>} */
  let cursors = [null];
  let page = 0;
  let limit = 25;
  /** @type {string | null} */
  let next = null;
  /** @type {Account[]} */
  let rows = [];
  /** @type {{ key: keyof Account, dir: 1 | -1 }} */
  let sort = { key: 'created_at', dir: 1 }; // the API's order: oldest first

  const body = h('div', { class: 'accounts-body', 'aria-live': 'polite' }, h('p', null, 'Loading accounts…'));
  let activeDays = 0;
  const restart = () => { cursors = [null]; page = 0; load(); };
  const size = /** @type {HTMLSelectElement} */ (h('select', { id: 'accounts-page-size', onchange: () => { limit = Number(size.value); restart(); } },
    PAGE_SIZES.map((n) => h('option', { value: n, selected: n === limit }, String(n)))));
  const activity = /** @type {HTMLSelectElement} */ (h('select', { id: 'accounts-active', onchange: () => { activeDays = Number(activity.value); restart(); } },
    ACTIVE.map(([days, text]) => h('option', { value: days, selected: days === activeDays }, String(text)))));
  const section = h('section', { class: 'panel', id: 'accounts', 'aria-labelledby': 'accounts-title' },
    h('div', { class: 'panel-head' },
      h('h2', { id: 'accounts-title' }, 'Accounts'),
      h('div', { class: 'inline-field' }, h('label', { for: 'accounts-active' }, 'Show'), activity),
      h('div', { class: 'inline-field' }, h('label', { for: 'accounts-page-size' }, 'Per page'), size),
      opts.toolbar ?? null),
    body);

  async function load() {
    body.setAttribute('aria-busy', 'true');
    try {
      const r = await admin.accounts({ limit, cursor: cursors[page], active_from: activeFrom(activeDays) });
      rows = r.accounts ?? [];
      next = r.next_cursor ?? null;
      draw();
    } catch (e) {
      fill(body, notice('error', `Accounts could not be read: ${/** @type {Error} */ (e).message}`));
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
  }

  function draw() {
    const sorted = [...rows].sort((a, b) => compare(a[sort.key], b[sort.key]) * sort.dir);
    const head = COLUMNS.map((c) => {
      const active = sort.key === c.key;
      const dir = active ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none';
      return h('th', { scope: 'col', class: c.numeric ? 'num' : null, 'aria-sort': dir },
        h('button', { type: 'button', class: 'sort', onclick: () => { sort = { key: c.key, dir: active ? /** @type {1 | -1} */ (-sort.dir) : c.numeric || c.key === 'created_at' ? -1 : 1 }; draw(); refocus(c.key); }, 'data-key': c.key },
          c.label, h('span', { class: 'arrow', 'aria-hidden': 'true' }, active ? (sort.dir === 1 ? ' ▲' : ' ▼') : '')));
    });
    const table = h('table', { id: 'accounts-table' },
      h('caption', null, `Page ${page + 1} of the accounts (pages in creation order, ${rows.length} shown), sorted by ${label(sort.key)}, ${sort.dir === 1 ? 'ascending' : 'descending'}: a column header sorts this page.`),
      h('thead', null, h('tr', null, head)),
      h('tbody', null, sorted.length
        ? sorted.map((a) => h('tr', { 'data-account': a.account_id }, COLUMNS.map((c, i) => h(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : null, class: c.numeric ? 'num' : null }, c.cell(a)))))
        : h('tr', null, h('td', { colspan: COLUMNS.length, class: 'empty' }, page === 0 ? 'No accounts yet: create the first key.' : 'No more accounts.'))));
    const pager = h('nav', { class: 'pager', 'aria-label': 'Account pages' },
      h('button', { type: 'button', class: 'quiet', id: 'accounts-prev', disabled: page === 0, onclick: () => { page--; load(); } }, 'Previous page'),
      h('span', null, `Page ${page + 1}`),
      h('button', { type: 'button', class: 'quiet', id: 'accounts-next', disabled: next === null, onclick: () => { cursors[page + 1] = next; page++; load(); } }, 'Next page'));
    fill(body, h('div', { class: 'table-wrap' }, table), pager);
  }

  /** Keeps the keyboard on the header just used (the table was drawn again). @param {string} key */
  function refocus(key) {
    /** @type {HTMLElement | null} */ (body.querySelector(`button.sort[data-key="${key}"]`))?.focus();
  }

  load();
  return Object.assign(section, { reload: load });
}

/** @param {keyof Account} key */
const label = (key) => COLUMNS.find((c) => c.key === key)?.label.toLowerCase() ?? key;

/**
 * @param {unknown} a
 * @param {unknown} b
 */
function compare(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a ?? '').localeCompare(String(b ?? ''));
}
