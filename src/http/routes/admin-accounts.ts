// Admin routes of accounts (admin token): the accounts in creation order (paged, by creation time), and one account in full.
import { z } from 'zod';
import { AipaygentError, invalid } from '../../errors.js';
import type { AccountService } from '../../keys/accounts.js';
import { isAccountId } from '../../keys/api-key.js';
import { parseRegistryKey } from '../../keys/key-record.js';
import { formatUsd } from '../../ledger/money.js';
import type { UsageService } from '../../meter/usage-service.js';
import { iso } from '../../time.js';
import { queryInt } from '../fields.js';
import { AccountDetail, AccountList, ok } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';
import { keyJson } from './admin-keys.js';
import { totalsJson } from './admin-usage.js';
import { entryJson } from './credits.js';

/** Cursors are opaque to clients: base64url of where the next page starts. */
const encodeCursor = (after: string) => Buffer.from(after, 'utf8').toString('base64url');
function decodeCursor(cursor: string): string {
  const after = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!parseRegistryKey(after)) throw invalid('cursor is not a cursor returned by /admin/accounts');
  return after;
}

const MAX_ACTIVE_SPAN_MS = 400 * 86_400_000;

const instant = (name: string) =>
  z.iso.datetime({ offset: true, error: `${name} must be an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z` }).transform((s) => Date.parse(s)).optional();

export function adminAccountRoutes(deps: { accounts: AccountService; usage: UsageService | undefined }): Route[] {
  /** Accounts active on a UTC day from `from` to `to` (default: today), from the usage counters' activity index. */
  async function activeIn(from: number | undefined, to: number | undefined, now: number): Promise<Set<string>> {
    if (!deps.usage) throw invalid('active_from and active_to need the usage counters, which this server does not keep (the usage option)');
    const end = to ?? now;
    const start = from ?? end;
    if (start > end) throw invalid('active_from must not be after active_to');
    if (end - start > MAX_ACTIVE_SPAN_MS) throw invalid('active_from..active_to spans more than 400 days');
    return new Set(await deps.usage.activeAccounts(start, end, now));
  }

  return [
    route({
      method: 'GET', path: '/admin/accounts', auth: 'admin', metered: false,
      summary: 'Accounts, oldest first, each with its balance, key counts and calls and spend today; paged with a cursor.',
      description:
        '`created_from` (inclusive) and `created_to` (exclusive) keep the accounts created in that time; `active_from` and ' +
        '`active_to` (UTC days, inclusive; at most 400 days) keep those that made a metered call or received credit on one of ' +
        'those days (from the usage counters; a page may then end early with a `next_cursor`). Accounts made before ' +
        'this listing existed appear once a key is created for them again.',
      query: z.object({
        limit: queryInt('limit', 1, 200).optional(),
        cursor: z.string().max(200, { error: 'cursor is not a cursor returned by /admin/accounts' }).optional(),
        created_from: instant('created_from'),
        created_to: instant('created_to'),
        active_from: instant('active_from'),
        active_to: instant('active_to'),
      }),
      responses: { 200: ok('One page of accounts', AccountList) },
      async handle({ query, now }) {
        const only = query.active_from === undefined && query.active_to === undefined ? undefined : await activeIn(query.active_from, query.active_to, now);
        const page = await deps.accounts.page(
          { limit: query.limit ?? 50, after: query.cursor === undefined ? undefined : decodeCursor(query.cursor), createdFrom: query.created_from, createdTo: query.created_to, only },
          now,
        );
        const today = deps.usage && (await Promise.all(page.accounts.map((a) => deps.usage!.today(a.accountId, now))));
        const accounts = page.accounts.map((a, i) => ({
          account_id: a.accountId, created_at: iso(a.createdAt), balance_micro_usd: a.balance, balance_usd: formatUsd(a.balance),
          keys_active: a.keysActive, keys_total: a.keysTotal,
          // Spend net of refunds (a call answered with an error is given back): what the account paid today.
          calls_today: today ? today[i]!.calls : null, spent_today_micro_usd: today ? today[i]!.spentMicroUsd - today[i]!.refundedMicroUsd : null,
        }));
        return json(200, { status: 'success', accounts, next_cursor: page.next === null ? null : encodeCursor(page.next) });
      },
    }),
    route({
      method: 'GET', path: '/admin/accounts/:account_id', auth: 'admin', metered: false,
      summary: 'One account: balance, keys, the last 20 ledger entries, linked wallets and usage today.',
      responses: { 200: ok('The account', AccountDetail) },
      errors: ['not_found'],
      async handle({ params, now }) {
        const accountId = params.account_id!;
        // Not an account id: no such account, asked of no store (Postgres refuses a NUL byte in a key as bad data).
        if (!isAccountId(accountId)) throw new AipaygentError('not_found', `No account "${accountId}" (account ids look like acct_…)`);
        const [a, today, used] = await Promise.all([deps.accounts.detail(accountId, now), deps.usage?.today(accountId, now), deps.usage?.lastUsed(accountId) ?? ({} as Record<string, number>)]);
        if (!a) throw new AipaygentError('not_found', `No account "${accountId}"`);
        return json(200, {
          status: 'success', account_id: a.accountId, created_at: iso(a.createdAt), balance_micro_usd: a.balance, balance_usd: formatUsd(a.balance),
          keys: a.keys.map((k) => keyJson(k, used[k.keyId])), ledger: a.ledger.map(entryJson), wallets: a.wallets.map((w) => ({ address: w.address, linked_at: iso(w.linkedAt) })),
          usage_today: today === undefined ? null : totalsJson(today),
        });
      },
    }),
  ];
}
