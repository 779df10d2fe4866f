// @ts-check
// The console's entry: the sign-in form (the admin token, kept in sessionStorage), then the views by the URL's fragment (#/, #/account/<id>).
import { accountView } from './account.js';
import { admin, token, whenUnauthorized } from './api.js';
import { announce, busy, field, fill, h, notice } from './dom.js';
import { overviewView } from './overview.js';

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
const signOut = /** @type {HTMLButtonElement} */ (document.getElementById('sign-out'));

/** Counts renders: a slow view that finishes after the operator moved on is dropped. */
let renders = 0;

/** @param {string} [message] why the form is shown (a refused token) */
function signInView(message) {
  nav.hidden = true;
  signOut.hidden = true;
  document.title = 'Sign in · aipaygent console';
  const out = h('div', { class: 'form-out' }, message ? notice('error', message) : null);
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'stack sign-in', id: 'sign-in', novalidate: true },
    field('admin-token', 'Admin token', { type: 'password', required: true, autocomplete: 'off', spellcheck: 'false' },
      'The adminToken option of this server (AIPAYGENT_ADMIN_TOKEN). Kept in this tab only (sessionStorage) until you sign out or close it.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
    out));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (form.elements.namedItem('admin-token'));
    const value = input.value.trim();
    if (!value) return fill(out, notice('error', 'Enter the admin token.'));
    token.set(value);
    try {
      // The cheapest admin read: proves the token before any view is drawn.
      await busy(/** @type {HTMLButtonElement} */ (form.querySelector('button')), () => admin.accounts({ limit: 1 }));
      input.value = '';
      announce('Signed in.');
      route();
    } catch (e) {
      token.clear();
      fill(out, notice('error', /** @type {any} */ (e).status === 401 ? 'This token was refused: check the admin token of this server.' : `Sign-in failed: ${/** @type {Error} */ (e).message}`));
      input.focus();
    }
  });
  fill(main, h('h1', null, 'Sign in'), h('section', { class: 'panel narrow', 'aria-label': 'Sign in' }, form));
  /** @type {HTMLElement} */ (form.querySelector('input')).focus();
}

/** Draws the view the fragment names. */
async function route() {
  if (!token.get()) return signInView();
  const render = ++renders;
  nav.hidden = false;
  signOut.hidden = false;
  const match = /^#\/account\/([^/?#]+)$/.exec(location.hash);
  try {
    /** @type {Array<Node>} */
    let nodes;
    if (match) {
      const accountId = decodeURIComponent(match[1] ?? '');
      fill(main, h('p', null, 'Loading the account…'));
      nodes = await accountView(accountId);
      document.title = `${accountId} · aipaygent console`;
    } else {
      nodes = overviewView();
      document.title = 'Overview · aipaygent console';
    }
    if (render !== renders) return;
    fill(main, ...nodes);
  } catch (e) {
    if (render !== renders || !token.get()) return;
    fill(main, h('h1', null, 'Not available'), notice('error', /** @type {Error} */ (e).message), h('p', null, h('a', { href: '#/' }, 'Back to the overview')));
  }
  // A new view: the keyboard and screen readers start at its heading.
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

whenUnauthorized(() => {
  // On the sign-in form itself the form says it; elsewhere the token went stale under a view.
  if (document.getElementById('sign-in')) return;
  token.clear();
  renders++;
  signInView('The server refused the admin token (it changed, or the server restarted with another): sign in again.');
});

signOut.addEventListener('click', () => {
  token.clear();
  renders++;
  announce('Signed out.');
  signInView();
});

window.addEventListener('hashchange', () => route());
route();
