// @ts-check
// The overview: revenue and calls of all accounts over time, and the accounts table with the "new account" action.
import { accountsPanel } from './accounts.js';
import { h } from './dom.js';
import { createKeyForm, modal } from './key-actions.js';
import { usagePanel } from './usage.js';

/** @returns {HTMLElement[]} */
export function overviewView() {
  const newAccount = h('button', { type: 'button', id: 'new-account', onclick: openNewAccount }, 'New account');
  const accounts = accountsPanel({ toolbar: newAccount });
  return [
    h('h1', null, 'Overview'),
    usagePanel({ id: 'usage-all', heading: 'Revenue and calls, all accounts', level: 2 }),
    accounts,
  ];
}

/** A new account is its first key: the form in a dialog, then the key shown once, then the account's page. */
async function openNewAccount() {
  /** @type {any} */
  const created = await modal('New account', (close) => [
    h('p', null, 'An account comes with its first API key. Credit and more keys are added on its page.'),
    createKeyForm({ id: 'new-account-form', submitLabel: 'Create the account and its key', onCreated: (c) => close(c) }),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'quiet', onclick: () => close() }, 'Cancel')),
  ]);
  if (created?.account_id) location.hash = `#/account/${encodeURIComponent(created.account_id)}`;
}
