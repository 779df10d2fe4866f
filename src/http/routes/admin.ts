// Admin routes (admin token): create and revoke API keys, grant credits. Not served when no admin token is set.
import { z } from 'zod';
import { AipaygentError } from '../../errors.js';
import type { KeyService } from '../../keys/key-service.js';
import { isAccountId } from '../../keys/api-key.js';
import { MAX_GRANT_MICRO_USD, type LedgerService } from '../../ledger/ledger-service.js';
import { formatUsd } from '../../ledger/money.js';
import { CreditsDuplicate, CreditsGranted, KeyCreated, KeyList, KeyRevoked, ok } from '../openapi-schemas.js';
import { iso } from '../../time.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';
import { storable } from '../fields.js';
import { entryJson } from './credits.js';

export function adminRoutes(deps: { keys: KeyService; ledger: LedgerService }): Route[] {
  return [
    route({
      method: 'POST', path: '/admin/keys', auth: 'admin', metered: false,
      summary: 'Create an API key, for a new account or an existing one. The key is shown only here.',
      body: z
        .object({
          account_id: z.string().refine(isAccountId, { error: 'account_id is not an account id (acct_…)' }).optional(),
          label: storable('label', z.string().max(200, { error: 'label must be at most 200 characters' })).optional(),
        })
        .optional(),
      responses: { 201: ok('Created; `api_key` is shown only here', KeyCreated) },
      errors: ['not_found'],
      async handle({ body, now }) {
        // Another key for an account that exists: a typo'd id must not make an orphan account.
        if (body?.account_id !== undefined && !(await deps.keys.hasKeys(body.account_id, now))) {
          throw new AipaygentError('not_found', `No account "${body.account_id}" (it has no API keys): leave account_id out to make a new account`);
        }
        return json(201, await deps.keys.create({ accountId: body?.account_id, label: body?.label }));
      },
    }),
    route({
      method: 'GET', path: '/admin/keys', auth: 'admin', metered: false,
      summary: "An account's API keys (never their secrets): id, label, status, when created and revoked.",
      query: z.object({ account_id: z.string({ error: 'account_id is required' }).refine(isAccountId, { error: 'account_id is not an account id (acct_…)' }) }),
      responses: { 200: ok("The account's keys, oldest first", KeyList) },
      errors: ['not_found'],
      async handle({ query, now }) {
        const list = await deps.keys.list(query.account_id, now);
        if (list.length === 0) throw new AipaygentError('not_found', `No account "${query.account_id}" (it has no API keys)`);
        return json(200, {
          status: 'success', account_id: query.account_id,
          keys: list.map((k) => ({ key_id: k.keyId, label: k.label, status: k.active ? 'active' : 'revoked', created_at: iso(k.createdAt), revoked_at: k.revokedAt === null ? null : iso(k.revokedAt) })),
        });
      },
    }),
    route({
      method: 'DELETE', path: '/admin/keys/:key_id', auth: 'admin', metered: false,
      summary: 'Revoke an API key at once.',
      responses: { 200: ok('Revoked', KeyRevoked) },
      errors: ['not_found'],
      async handle({ params }) {
        const keyId = params.key_id!;
        if (!(await deps.keys.revoke(keyId))) throw new AipaygentError('not_found', `No API key "${keyId}"`);
        return json(200, { status: 'success', key_id: keyId, revoked: true });
      },
    }),
    route({
      method: 'POST', path: '/admin/credits', auth: 'admin', metered: false,
      summary: 'Add credit to an account (a grant entry). With a reference, a repeated grant adds nothing.',
      body: z.object({
        account_id: z.string({ error: 'account_id is required' }).refine(isAccountId, { error: 'account_id is not an account id (acct_…)' }),
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
