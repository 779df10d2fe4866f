// Credits routes (API key, free and uncounted): the balance with today's free calls, and the ledger.
import { z } from 'zod';
import { invalid } from '../../errors.js';
import type { LedgerService } from '../../ledger/ledger-service.js';
import { formatUsd } from '../../ledger/money.js';
import type { LedgerEntry } from '../../storage/contract.js';
import { iso } from '../../time.js';
import { queryInt } from '../fields.js';
import { Balance, Ledger, ok } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';

/** A ledger entry as the HTTP contract shows it. */
export function entryJson(e: LedgerEntry) {
  return {
    id: `le_${e.accountId.replace(/^acct_/, '')}_${e.seq}`,
    account_id: e.accountId,
    amount_micro_usd: e.amount,
    kind: e.kind,
    reference: e.reference,
    memo: e.memo,
    created_at: iso(e.createdAt),
    balance_after: e.balanceAfter,
  };
}

/** Cursors are opaque to clients: base64url of the seq the next page starts below. */
const encodeCursor = (before: number) => Buffer.from(JSON.stringify({ before })).toString('base64url');
function decodeCursor(cursor: string): number {
  try {
    const { before } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { before?: unknown };
    if (Number.isSafeInteger(before) && (before as number) > 0) return before as number;
  } catch {
    // fall through to the 400 below
  }
  throw invalid('cursor is not a cursor returned by /credits/ledger');
}

export function creditsRoutes(deps: { ledger: LedgerService }): Route[] {
  return [
    route({
      method: 'GET', path: '/credits/balance', auth: 'key', metered: false,
      summary: "The account's balance, and its free calls left today with their reset time.",
      responses: { 200: ok('The balance', Balance) },
      async handle({ caller, now }) {
        const b = await deps.ledger.balance(caller.accountId, now);
        return json(200, {
          status: 'success', account_id: b.accountId, balance_micro_usd: b.balanceMicroUsd, balance_usd: formatUsd(b.balanceMicroUsd),
          free_calls_remaining: b.freeCallsRemaining, free_calls_per_day: b.freeCallsPerDay, free_calls_reset_at: iso(b.freeCallsResetAt),
        });
      },
    }),
    route({
      method: 'GET', path: '/credits/ledger', auth: 'key', metered: false,
      summary: "The account's ledger entries, newest first, with a cursor. Their amounts sum to the balance.",
      query: z.object({ limit: queryInt('limit', 1, 500).optional(), cursor: z.string().max(512).optional() }),
      responses: { 200: ok('One page of entries, newest first', Ledger) },
      async handle({ query, caller }) {
        const limit = query.limit ?? 50;
        const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
        // One extra entry tells whether a next page exists without another round trip.
        const entries = await deps.ledger.entries(caller.accountId, { limit: limit + 1, before });
        const page = entries.slice(0, limit);
        return json(200, {
          status: 'success', account_id: caller.accountId, entries: page.map(entryJson),
          next_cursor: entries.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null,
        });
      },
    }),
  ];
}
