// The console in headless Chromium against the real middleware mounted under a prefix: sign in, a new account and key, credit,
// metered calls from outside seen in the usage chart, table and ledger, the key revoked and refused; no console error, no serious axe violation.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, chromiumOrSkip } from '../support/browser.js';
import { ADMIN_TOKEN, call, startMount, type Mounted } from '../support/mounts.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const FREE_CALLS = 2;
const PRICE = 100; // micro-USD, the default price of a memory call

/** Everything the page says that a user should not see: console errors and warnings, uncaught errors, failed requests. */
async function watch(page: Page): Promise<{ problems: string[]; offsite: string[] }> {
  const problems: string[] = [];
  const offsite: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('requestfailed', (req) => problems.push(`failed: ${req.url()}`));
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') return route.continue();
    offsite.push(url.href);
    return route.abort();
  });
  return { problems, offsite };
}

/**
 * axe-core on the page as it is, injected from node_modules through the DevTools protocol (the page's CSP would refuse
 * an added <script>, as it should): the serious and critical violations, described.
 */
async function axeViolations(page: Page): Promise<string[]> {
  // Strings, run in the page: this file is compiled without the DOM's types.
  if (!(await page.evaluate("'axe' in window"))) await page.evaluate(AXE);
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) =>
    ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`)) as Array<{ id: string; impact: string; help: string; targets: string[] }>;
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.join(', ')})`);
}

/** The text of the first element `l` matches, '' while there is none: for expect.poll, which retries until it matches. */
const text = (l: Locator) => () => l.first().textContent({ timeout: 500 }).catch(() => '');
const SOON = { timeout: 10_000 };

/** Hovers the right end of a chart (its last point: the current bucket) and reads uPlot's legend: series label -> value shown. */
async function legendAtLastPoint(page: Page, chart: string): Promise<Record<string, string>> {
  const over = page.locator(`${chart} .u-over`);
  const box = (await over.boundingBox())!;
  await page.mouse.move(box.x + box.width - 1, box.y + box.height / 2);
  const rows = await page.locator(`${chart} .u-legend .u-series`).evaluateAll((els) => els.map((e) => [e.querySelector('.u-label')?.textContent ?? '', e.querySelector('.u-value')?.textContent ?? '']));
  return Object.fromEntries(rows.slice(1));
}

/** A metered call from outside the console: what a customer's agent does with the key. */
const retrieve = (m: Mounted, key: string) => call(`${m.url}/memory/retrieve?user_id=agent_1&key=notes`, { key });

(chromiumOrSkip('console browser test') ? describe : describe.skip)('the console in headless Chromium, mounted under /ops', () => {
  let mounted: Mounted;
  let browser: Browser;
  beforeAll(async () => {
    mounted = await startMount('express5', { parsed: true, prefix: '/ops', options: { freeCallsPerDay: FREE_CALLS } });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    mkdirSync('test-results', { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await mounted?.close();
  });

  it('signs in, makes an account and its key, grants credit, shows the calls made with it, rotates and revokes the key', { timeout: 90_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const { problems, offsite } = await watch(page);
    const requested: string[] = [];
    page.on('request', (req) => {
      if (/^https?:/.test(req.url())) requested.push(new URL(req.url()).pathname);
    });

    // Sign in: a wrong token is refused on the form; the right one (typed, Enter) opens the overview.
    expect((await page.goto(`${mounted.url}/console`))?.status()).toBe(200);
    await page.getByLabel('Admin token').fill('not-the-admin-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(text(page.getByRole('alert')), SOON).toContain('This token was refused');
    // Chromium logs the refused request itself: the one problem this step may cause.
    expect(problems.splice(0)).toEqual([expect.stringMatching(/status of 401/)]);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByLabel('Admin token').press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    // The token is in this tab's sessionStorage only: never in a URL, never in localStorage or a cookie.
    expect(await page.evaluate('[Object.values(sessionStorage), localStorage.length, document.cookie]')).toEqual([[ADMIN_TOKEN], 0, '']);

    // A new account: its first key shown once, then its page.
    await page.getByRole('button', { name: 'New account' }).click();
    const dialog = page.getByRole('dialog', { name: 'New account' });
    await dialog.getByLabel('Label (optional)').fill('e2e agent');
    await dialog.getByRole('button', { name: 'Create the account and its key' }).click();
    const secret = page.getByRole('dialog', { name: 'New API key' });
    const apiKey = await secret.getByLabel(/^API key/).inputValue();
    expect(apiKey).toMatch(/^apg_[a-z2-7]{24}_[A-Za-z0-9]{40}$/);
    await secret.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('heading', { level: 1, name: /^Account acct_/ }).waitFor();
    const accountId = /#\/account\/(acct_[a-z2-7]{16})$/.exec(page.url())![1]!;
    const firstKey = page.locator('#keys-table tbody tr').first();
    await expect.poll(text(firstKey), SOON).toContain('e2e agent');
    expect(await firstKey.textContent()).toContain('active');

    // Credit: $1.50, in the ledger and the balance.
    await page.getByLabel('Amount (USD)').fill('1.5');
    await page.getByLabel('Reason').fill('e2e credit');
    await page.getByRole('button', { name: 'Grant credit' }).click();
    await expect.poll(text(page.locator('#grant-form [role=status]')), SOON).toBe('Granted $1.50: the balance is $1.50.');
    await expect.poll(text(page.locator('#ledger-table tbody tr')), SOON).toMatch(/grant.*\+\$1\.50.*e2e credit/);

    // The customer's agent calls with the key: the free calls of the day, then paid ones.
    const calls = 5;
    for (let i = 0; i < calls; i++) expect((await retrieve(mounted, apiKey)).status).toBe(404); // no such memory: a metered answer all the same
    const paid = calls - FREE_CALLS;

    // The usage panel, refreshed: the calls in its figures, its chart and its table; the debits in the ledger and the balance.
    await page.locator('#usage-account-refresh').click();
    const totals = page.locator('#usage-account-totals [data-figure=calls]');
    await expect.poll(text(totals.locator('.big')), SOON).toBe(String(calls));
    expect(await totals.locator('.detail').textContent()).toBe(`${FREE_CALLS} free, ${paid} paid`);
    await page.locator('#usage-account summary').click();
    const hourRow = page.locator('#usage-account-table tbody tr').first();
    expect(await hourRow.locator('td').allTextContents()).toEqual([String(calls), String(FREE_CALLS), String(paid), '$0.0003', '$0.00', '$1.50']);
    // The chart: hovering its last point (this hour) shows the calls in its legend, as uPlot draws them.
    expect(await legendAtLastPoint(page, '#usage-account-calls')).toEqual({ Calls: String(calls), 'Paid calls': String(paid) });
    expect(await legendAtLastPoint(page, '#usage-account-revenue')).toEqual({ Spent: '$0.0003' });
    await page.locator('#ledger-refresh').click();
    await expect.poll(() => page.locator('#ledger-table tbody tr', { hasText: 'debit' }).count(), SOON).toBe(paid);
    expect(await page.locator('#account-summary [data-figure=balance] .big').textContent()).toBe('$1.4997'); // 1.50 - 3 x 0.0001
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: 'test-results/console-account.png', fullPage: true });

    // Three more customers, made and used over HTTP as their own code would: 8 calls (2 free, 6 paid on a $5 credit), 1 free call, none.
    const others: string[] = [];
    for (const [n, credit] of [[8, 5_000_000], [1, 0], [0, 0]] as const) {
      const made = (await call(`${mounted.url}/admin/keys`, { key: ADMIN_TOKEN, body: { label: `agent of ${n} calls` } })).body;
      if (credit) expect((await call(`${mounted.url}/admin/credits`, { key: ADMIN_TOKEN, body: { account_id: made.account_id, amount_micro_usd: credit, reason: 'test' } })).status).toBe(201);
      for (let i = 0; i < n; i++) expect((await retrieve(mounted, made.api_key)).status).toBe(404);
      others.push(made.account_id);
    }

    // The overview: each account with today's calls and spend, the revenue and calls over all accounts.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Overview' }).click();
    const row = page.locator(`#accounts-table tr[data-account="${accountId}"]`);
    await expect.poll(() => row.locator('td').allTextContents(), SOON).toEqual([expect.stringMatching(/ UTC$/), '$1.4997', '1 of 1', String(calls), '$0.0003']);
    await expect.poll(text(page.locator('#usage-all-totals [data-figure=revenue] .big')), SOON).toBe('$0.0009');
    expect(await page.locator('#usage-all-totals [data-figure=calls] .detail').textContent()).toBe('5 free, 9 paid');
    expect(await legendAtLastPoint(page, '#usage-all-calls')).toEqual({ Calls: '14', 'Paid calls': '9' });
    // Sorting by a column: the rows follow, the header says so (aria-sort), the keyboard stays on it.
    const order = () => page.locator('#accounts-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-account')));
    expect(await order()).toEqual([accountId, ...others]); // the API's order: oldest first
    await page.getByRole('button', { name: 'Calls today' }).click();
    expect(await order()).toEqual([others[0], accountId, others[1], others[2]]);
    expect(await page.locator('th', { hasText: 'Calls today' }).getAttribute('aria-sort')).toBe('descending');
    expect(await page.evaluate('document.activeElement?.textContent')).toContain('Calls today');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: 'test-results/console-overview.png', fullPage: false });
    await page.keyboard.press('Enter');
    expect(await order()).toEqual([others[2], others[1], accountId, others[0]]);
    expect(await page.locator('th', { hasText: 'Calls today' }).getAttribute('aria-sort')).toBe('ascending');
    // Only the accounts active today (from the usage counters): the one that never called is left out.
    await page.getByLabel('Show').selectOption({ label: 'Active today' });
    await expect.poll(() => order(), SOON).toEqual([others[1], accountId, others[0]]);
    await page.getByLabel('Show').selectOption({ label: 'All accounts' });
    await expect.poll(() => order(), SOON).toHaveLength(4);

    // Rotate with no grace: the new key (shown once) works, the old one is refused at once.
    await row.getByRole('link', { name: accountId }).click();
    await page.getByRole('heading', { level: 1, name: /^Account acct_/ }).waitFor();
    const oldKeyId = (await page.locator('#keys-table tbody tr th code').first().textContent())!;
    await page.getByRole('button', { name: `Rotate ${oldKeyId}` }).click();
    await page.getByRole('dialog').getByLabel('Grace period (hours)').fill('0');
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
    const rotated = page.getByRole('dialog', { name: 'Rotated: the new API key' });
    const newKey = await rotated.getByLabel(/^API key/).inputValue();
    expect(newKey).toMatch(/^apg_/);
    expect(newKey).not.toBe(apiKey);
    await rotated.getByRole('button', { name: 'Done' }).click();
    const keyId = `key_${newKey.slice(4, 28)}`;
    /** A key's row: its first cell names it (another row may name it too, as the key that replaced it). */
    const keyRow = (id: string) => page.locator('#keys-table tbody tr').filter({ has: page.locator('th code', { hasText: id }) });
    const newRow = keyRow(keyId);
    await expect.poll(text(newRow), SOON).toContain('active');
    expect(await keyRow(oldKeyId).textContent()).toMatch(new RegExp(`(expired|active).*replaced by ${keyId}`));
    expect((await retrieve(mounted, apiKey)).status).toBe(401);
    expect((await retrieve(mounted, newKey)).status).toBe(404);

    // Revoke: Escape cancels (the key still works), then confirmed; the next call with the key is refused.
    await page.getByRole('button', { name: `Revoke ${keyId}` }).click();
    await page.keyboard.press('Escape');
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect((await retrieve(mounted, newKey)).status).toBe(404);
    await page.getByRole('button', { name: `Revoke ${keyId}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke the key' }).click();
    await expect.poll(text(newRow), SOON).toContain('revoked');
    const refused = await retrieve(mounted, newKey);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('unauthorized');

    // It all came from this mount: the page, its files, the admin API; nothing else, nothing refused by the CSP.
    expect(requested.filter((p) => !p.startsWith('/ops/'))).toEqual([]);
    expect(requested).toEqual(expect.arrayContaining(['/ops/console/uplot.js', '/ops/admin/usage', '/ops/admin/accounts', `/ops/admin/accounts/${accountId}`]));
    expect(offsite).toEqual([]);
    expect(problems).toEqual([]);

    // Signing out forgets the token.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });
});
