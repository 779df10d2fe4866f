// @ts-check
// One account: balance, keys (status, scopes, last use; create, rotate, revoke), credit, usage chart, ledger, wallets.
import { admin } from './api.js';
import { fill, h, int, notice, table, time, usd } from './dom.js';
import { SCOPES, createKeyForm, grantForm, revokeKey, rotateKey } from './key-actions.js';
import { usagePanel } from './usage.js';

/**
 * @param {string} accountId
 * @returns {Promise<HTMLElement[]>}
 */
export async function accountView(accountId) {
  const summary = h('div', { id: 'account-summary' });
  const keys = h('div', { id: 'account-keys' });
  const ledger = h('div', { id: 'account-ledger' });
  const wallets = h('div', { id: 'account-wallets' });
  const usage = usagePanel({ id: 'usage-account', heading: 'Usage', level: 2, accountId });

  /** Reads the account again and redraws what an action changes (balance, keys, ledger). */
  async function reload() {
    const account = await admin.account(accountId);
    drawSummary(summary, account);
    drawKeys(keys, account.keys ?? [], act);
    drawLedger(ledger, account.ledger ?? []);
    drawWallets(wallets, account.wallets ?? []);
  }

  /**
   * Runs a key action, then redraws; an error is shown above the keys table.
   * @param {() => Promise<boolean>} action
   */
  async function act(action) {
    try {
      if (await action()) await Promise.all([reload(), usage.reload()]);
    } catch (e) {
      keys.prepend(notice('error', `That did not work: ${/** @type {Error} */ (e).message}`));
    }
  }

  await reload();
  return [
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Overview'), ' › ', 'Account'),
    h('h1', null, 'Account ', h('code', null, accountId)),
    summary,
    h('section', { class: 'panel', 'aria-labelledby': 'keys-title' },
      h('h2', { id: 'keys-title' }, 'API keys'),
      keys,
      h('details', { class: 'form-box' }, h('summary', null, 'Create another key'),
        createKeyForm({ id: 'create-key', accountId, submitLabel: 'Create the key', onCreated: () => reload() }))),
    h('section', { class: 'panel', 'aria-labelledby': 'credit-title' },
      h('h2', { id: 'credit-title' }, 'Grant credit'),
      grantForm({ accountId, onGranted: () => reload() })),
    usage,
    h('section', { class: 'panel', 'aria-labelledby': 'ledger-title' },
      h('div', { class: 'panel-head' },
        h('h2', { id: 'ledger-title' }, 'Ledger'),
        h('button', { type: 'button', class: 'quiet', id: 'ledger-refresh', onclick: () => reload().catch((e) => ledger.prepend(notice('error', e.message))) }, 'Refresh')),
      ledger),
    h('section', { class: 'panel', 'aria-labelledby': 'wallets-title' }, h('h2', { id: 'wallets-title' }, 'Linked wallets'), wallets),
  ];
}

/**
 * @param {HTMLElement} el
 * @param {any} a the answer of GET /admin/accounts/:account_id
 */
function drawSummary(el, a) {
  const active = (a.keys ?? []).filter((/** @type {any} */ k) => k.status === 'active').length;
  const today = a.usage_today ?? {};
  fill(el, h('dl', { class: 'figures' },
    item('balance', 'Balance', usd(a.balance_micro_usd), 'prepaid credit'),
    item('created', 'Created', a.created_at ? h('time', { datetime: a.created_at }, String(a.created_at).slice(0, 10)) : '—', a.created_at ? `${String(a.created_at).slice(11, 16)} UTC` : ''),
    item('keys', 'Keys', `${int(active)} active`, `${int((a.keys ?? []).length)} in all`),
    item('today', 'Today (UTC)', `${int(today.calls ?? 0)} calls`, `${usd(Number(today.spent_micro_usd ?? 0))} spent`)));
}

/**
 * @param {string} name
 * @param {string} label
 * @param {Node | string} value
 * @param {string} detail
 */
const item = (name, label, value, detail) => h('div', { class: 'figure', 'data-figure': name }, h('dt', null, label), h('dd', null, h('span', { class: 'big' }, value), h('span', { class: 'detail' }, detail)));

/**
 * @param {HTMLElement} el
 * @param {any[]} keys
 * @param {(action: () => Promise<boolean>) => Promise<void>} act
 */
function drawKeys(el, keys, act) {
  const rows = keys.map((k) => [
    h('span', null, h('code', null, k.key_id), k.label ? h('span', { class: 'detail' }, k.label) : null),
    k.prefix ? h('code', null, `${k.prefix}…`) : '—',
    h('span', { class: `badge ${k.status}` }, k.status),
    scopesText(k.scopes),
    time(k.created_at),
    time(k.last_used_at),
    k.status === 'revoked' ? h('span', null, 'revoked ', time(k.revoked_at)) : time(k.expires_at),
    // A rotated key works until its grace ends: it can still be revoked, not rotated again.
    h('div', { class: 'row-actions' },
      k.status === 'active' && !k.rotated_to ? h('button', { type: 'button', class: 'quiet', 'aria-label': `Rotate ${k.key_id}`, onclick: () => act(() => rotateKey(k)) }, 'Rotate') : null,
      k.status === 'active' ? h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${k.key_id}`, onclick: () => act(() => revokeKey(k)) }, 'Revoke') : null,
      k.rotated_to ? h('span', { class: 'detail' }, `replaced by ${k.rotated_to}`) : null),
  ]);
  const t = table('The account\'s API keys (never their secrets)', ['Key', 'Prefix', 'Status', 'Scopes', 'Created', 'Last used', 'Expires', 'Actions'], rows, { empty: 'No keys.', captionHidden: true });
  t.querySelector('table')?.setAttribute('id', 'keys-table');
  fill(el, t);
}

/**
 * "all" for a key with every scope (the API lists them all; a key made before scopes existed may list none).
 * @param {string[] | undefined} scopes
 */
const scopesText = (scopes) => (!scopes?.length || SCOPES.every((s) => scopes.includes(s)) ? 'all' : scopes.join(', '));

/**
 * @param {HTMLElement} el
 * @param {any[]} entries newest first
 */
function drawLedger(el, entries) {
  const rows = entries.map((e) => [
    time(e.created_at),
    e.kind,
    h('span', { class: e.amount_micro_usd < 0 ? 'neg' : 'pos' }, `${e.amount_micro_usd > 0 ? '+' : ''}${usd(e.amount_micro_usd)}`),
    usd(e.balance_after),
    [e.memo, e.reference].filter(Boolean).join(' · ') || '—',
  ]);
  const t = table(`The last ${entries.length} ledger entries, newest first`, ['When', 'Kind', 'Amount', 'Balance after', 'Memo / reference'], rows, { numeric: [2, 3], empty: 'No entries.' });
  t.querySelector('table')?.setAttribute('id', 'ledger-table');
  fill(el, t);
}

/**
 * @param {HTMLElement} el
 * @param {Array<{ address: string, linked_at: string }>} wallets
 */
function drawWallets(el, wallets) {
  fill(el, wallets.length
    ? h('ul', { class: 'plain' }, wallets.map((w) => h('li', null, h('code', null, w.address), ' linked ', time(w.linked_at))))
    : h('p', null, 'No wallet linked (a customer links one to buy credits in USDC).'));
}
