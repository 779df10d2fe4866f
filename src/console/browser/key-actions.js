// @ts-check
// Key and credit actions: create (the key shown once), rotate, revoke, grant credit; modal <dialog>s with native focus handling.
import { admin } from './api.js';
import { announce, busy, field, fill, h, notice, parseUsd, usd } from './dom.js';

export const SCOPES = ['memory:read', 'memory:write', 'claude', 'payments'];
let dialogs = 0;

/**
 * A modal dialog, removed from the page once closed.
 * @param {string} title
 * @param {(close: (value?: any) => void) => Array<Node>} content
 * @returns {Promise<any>} what `close` was given (undefined on Escape)
 */
export function modal(title, content) {
  const id = `dialog-${++dialogs}`;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    /** @type {any} */
    let result;
    const close = (/** @type {any} */ value) => {
      result = value;
      dialog.close();
    };
    const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { 'aria-labelledby': `${id}-title`, class: 'modal' }, h('h2', { id: `${id}-title` }, title), ...content(close)));
    dialog.addEventListener('close', () => {
      dialog.remove();
      // Back where the operator was, for keyboard users.
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * Shows a new API key once, with a copy button; resolves when the operator closes it.
 * @param {string} title
 * @param {{ api_key: string, key_id: string, account_id: string }} created
 * @param {string} [extra]
 */
export function showSecret(title, created, extra) {
  return modal(title, (close) => {
    const input = /** @type {HTMLInputElement} */ (h('input', { id: 'new-api-key', class: 'secret', readonly: true, value: created.api_key, spellcheck: 'false', autocomplete: 'off' }));
    const copied = h('p', { class: 'hint', role: 'status' });
    const copy = async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(created.api_key);
        copied.textContent = 'Copied.';
      } catch {
        copied.textContent = 'Selected: press Ctrl+C (or ⌘C) to copy.';
      }
    };
    return [
      h('p', null, 'This API key is shown only now: the server keeps only its hash. Copy it and give it to the customer.'),
      h('div', { class: 'field' }, h('label', { for: 'new-api-key' }, `API key (${created.key_id}, account ${created.account_id})`), input),
      extra ? h('p', null, extra) : null,
      copied,
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: copy }, 'Copy the key'),
        h('button', { type: 'button', class: 'quiet', onclick: () => close(true) }, 'Done')),
    ].filter((n) => n !== null);
  });
}

/**
 * @param {string} title
 * @param {string} text
 * @param {string} confirmLabel
 * @returns {Promise<boolean>}
 */
export const confirm = (title, text, confirmLabel) =>
  modal(title, (close) => [
    h('p', null, text),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'danger', onclick: () => close(true) }, confirmLabel),
      h('button', { type: 'button', class: 'quiet', autofocus: true, onclick: () => close(false) }, 'Cancel')),
  ]).then((v) => v === true);

/**
 * The create-key form: label, scopes (none checked = all), expiry. `accountId` undefined makes a new account.
 * @param {{ id: string, accountId?: string, submitLabel: string, onCreated: (created: any) => void | Promise<void> }} spec
 */
export function createKeyForm(spec) {
  const out = h('div', { class: 'form-out' });
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'stack', id: spec.id, novalidate: true },
    field(`${spec.id}-label`, 'Label (optional)', { type: 'text', maxlength: 200, autocomplete: 'off' }, 'What the key is for: shown in lists, never secret.'),
    h('fieldset', { class: 'scopes' },
      h('legend', null, 'Scopes'),
      h('p', { class: 'hint', id: `${spec.id}-scopes-hint` }, 'None checked: every scope (full access).'),
      SCOPES.map((s) => h('label', { class: 'choice' }, h('input', { type: 'checkbox', name: 'scope', value: s, 'aria-describedby': `${spec.id}-scopes-hint` }), ` ${s}`))),
    field(`${spec.id}-expires`, 'Expires on (optional, UTC)', { type: 'date' }, 'The key stops working at 00:00 UTC that day.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, spec.submitLabel)),
    out));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const label = /** @type {HTMLInputElement} */ (form.elements.namedItem(`${spec.id}-label`)).value.trim();
    const expires = /** @type {HTMLInputElement} */ (form.elements.namedItem(`${spec.id}-expires`)).value;
    const scopes = [...form.querySelectorAll('input[name=scope]:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value);
    /** @type {{ account_id?: string, label?: string, scopes?: string[], expires_at?: string }} */
    const body = {};
    if (spec.accountId) body.account_id = spec.accountId;
    if (label) body.label = label;
    if (scopes.length) body.scopes = scopes;
    if (expires) body.expires_at = `${expires}T00:00:00Z`;
    const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type=submit]'));
    try {
      const created = await busy(button, () => admin.createKey(body));
      form.reset();
      fill(out);
      await showSecret('New API key', created);
      await spec.onCreated(created);
    } catch (e) {
      fill(out, notice('error', `The key was not created: ${/** @type {Error} */ (e).message}`));
    }
  });
  return form;
}

/**
 * Rotates a key: asks how long the old one keeps working, then shows the new one once.
 * @param {{ key_id: string, label?: string | null }} key
 * @returns {Promise<boolean>} whether a new key was made
 */
export async function rotateKey(key) {
  const hours = await modal(`Rotate ${key.key_id}`, (close) => {
    const form = /** @type {HTMLFormElement} */ (h('form', { class: 'stack', novalidate: true },
      h('p', null, 'A new key with the same account, label, scopes and expiry is made. The old key keeps working for the grace period, then stops.'),
      field('rotate-grace', 'Grace period (hours)', { type: 'number', min: 0, max: 8760, step: 1, value: 24, required: true, inputmode: 'numeric' }, '0 stops the old key now.'),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Rotate'), h('button', { type: 'button', class: 'quiet', onclick: () => close() }, 'Cancel'))));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = Number(/** @type {HTMLInputElement} */ (form.elements.namedItem('rotate-grace')).value);
      if (Number.isInteger(value) && value >= 0) close(value);
    });
    return [form];
  });
  if (hours === undefined) return false;
  const rotated = await admin.rotateKey(key.key_id, { grace_seconds: hours * 3600 });
  const until = rotated.old_key_expires_at ? `The old key ${key.key_id} works until ${new Date(rotated.old_key_expires_at).toISOString().slice(0, 16).replace('T', ' ')} UTC.` : undefined;
  await showSecret('Rotated: the new API key', rotated, until);
  announce(`Key ${key.key_id} rotated: new key ${rotated.key_id}.`);
  return true;
}

/**
 * @param {{ key_id: string }} key
 * @returns {Promise<boolean>} whether the key was revoked
 */
export async function revokeKey(key) {
  if (!(await confirm(`Revoke ${key.key_id}?`, 'Calls with this key are refused from now on (401). This cannot be undone.', 'Revoke the key'))) return false;
  await admin.revokeKey(key.key_id);
  announce(`Key ${key.key_id} revoked.`);
  return true;
}

/**
 * The grant form: an amount in USD (exact: up to 6 decimals) and a reason; an idempotency reference per form use.
 * @param {{ accountId: string, onGranted: (result: any) => void | Promise<void> }} spec
 */
export function grantForm(spec) {
  const out = h('div', { class: 'form-out' });
  let reference = crypto.randomUUID();
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'stack', id: 'grant-form', novalidate: true },
    field('grant-amount', 'Amount (USD)', { type: 'text', inputmode: 'decimal', required: true, autocomplete: 'off', pattern: '\\d+(\\.\\d{1,6})?' }, 'For example 5 or 0.25 (up to 6 decimals).'),
    field('grant-reason', 'Reason', { type: 'text', required: true, maxlength: 500, autocomplete: 'off' }, 'Kept in the ledger entry.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Grant credit')),
    out));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const amountInput = /** @type {HTMLInputElement} */ (form.elements.namedItem('grant-amount'));
    const reason = /** @type {HTMLInputElement} */ (form.elements.namedItem('grant-reason')).value.trim();
    const micro = parseUsd(amountInput.value);
    if (micro === null || micro <= 0) return fill(out, notice('error', 'Amount: a positive number of USD, like 5 or 0.25.'));
    if (!reason) return fill(out, notice('error', 'Reason: say why the credit is granted.'));
    const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type=submit]'));
    try {
      // One reference per intended grant: a retry after a lost answer adds nothing twice.
      const r = await busy(button, () => admin.grant({ account_id: spec.accountId, amount_micro_usd: micro, reason, reference: `console:${reference}` }));
      reference = crypto.randomUUID();
      form.reset();
      fill(out, notice('ok', r.granted === false ? 'Already granted (same request): nothing added.' : `Granted ${usd(micro)}: the balance is ${usd(r.balance_micro_usd)}.`));
      await spec.onGranted(r);
    } catch (e) {
      fill(out, notice('error', `Nothing was granted: ${/** @type {Error} */ (e).message}`));
    }
  });
  return form;
}
