// Admin routes (admin token): accounts, API keys (admin-keys.ts, admin-accounts.ts) and credit grants. Not served when no admin token is set.
import { z } from 'zod';
import { AipaygentError } from '../../errors.js';
import type { AccountService } from '../../keys/accounts.js';
import { MAX_GRANT_MICRO_USD, type LedgerService } from '../../ledger/ledger-service.js';
import { formatUsd } from '../../ledger/money.js';
import { CreditsDuplicate, CreditsGranted, ok } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';
import { storable } from '../fields.js';
import { entryJson } from './credits.js';
import { adminAccountRoutes } from './admin-accounts.js';
import { accountIdField, adminKeyRoutes } from './admin-keys.js';

/** `usage`: the usage counters when they are kept (else calls and spend today and keys' last use are null). */
export function adminRoutes(deps: Parameters<typeof adminKeyRoutes>[0] & { ledger: LedgerService; accounts: AccountService }): Route[] {
  return [
    ...adminKeyRoutes(deps),
    ...adminAccountRoutes(deps),
    route({
      method: 'POST', path: '/admin/credits', auth: 'admin', metered: false,
      summary: 'Add credit to an account (a grant entry). With a reference, a repeated grant adds nothing.',
      body: z.object({
        account_id: accountIdField(true),
        amount_micro_usd: z
          .number({ error: 'amount_micro_usd must be an integer number of micro-USD (1 USD = 1000000)' })
          .int({ error: 'amount_micro_usd must be an integer number of micro-USD (1 USD = 1000000)' })
          .min(1, { error: 'amount_micro_usd must be positive' })
          .max(MAX_GRANT_MICRO_USD, { error: `amount_micro_usd must be at most ${MAX_GRANT_MICRO_USD}` }),
        reason: storable('reason', z.string({ error: 'reason is required' }).min(1, { error: 'reason must not be empty' }).max(500, { error: 'reason must be at most 500 characters' })),
        reference: storable('reference', z.string().min(1).max(200, { error: 'reference must be at most 200 characters' })).optional(),
      }),
      responses: { 201: ok('Granted', CreditsGranted), 200: ok('Already granted with this reference: nothing added', CreditsDuplicate) },
      errors: ['not_found'],
      async handle({ body, now }) {
        const r = await deps.ledger.grantToAccount({ accountId: body.account_id, amountMicroUsd: body.amount_micro_usd, reason: body.reason, reference: body.reference }, now);
        if (!r.granted && r.reason === 'no_account') throw new AipaygentError('not_found', `No account "${body.account_id}" (it has no API keys)`);
        const out = { status: 'success', account_id: body.account_id, balance_micro_usd: r.balance, balance_usd: formatUsd(r.balance) };
        return r.granted ? json(201, { ...out, granted: true, entry: entryJson(r.entry) }) : json(200, { ...out, granted: false, duplicate: true });
      },
    }),
  ];
}
