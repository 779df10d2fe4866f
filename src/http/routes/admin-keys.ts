// Admin routes of API keys (admin token): create (scopes, expiry), list, rotate with a grace period, revoke.
import { z } from 'zod';
import { AipaygentError, invalid } from '../../errors.js';
import { isAccountId } from '../../keys/api-key.js';
import type { KeyInfo, KeyService } from '../../keys/key-service.js';
import { SCOPES } from '../../keys/scopes.js';
import type { MoneyRules } from '../../meter/money-rules.js';
import type { UsageService } from '../../meter/usage-service.js';
import { iso } from '../../time.js';
import { storable } from '../fields.js';
import { KeyCreated, KeyList, KeyRevoked, KeyRotated, ok } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';

/** Longest grace of a rotation: a year. */
const MAX_GRACE_SECONDS = 31_536_000;

export const accountIdField = (required: boolean) =>
  (required ? z.string({ error: 'account_id is required' }) : z.string()).refine(isAccountId, { error: 'account_id is not an account id (acct_…)' });

const SCOPE_LIST = SCOPES.join(', ');

/** A key as the admin API shows it; `lastUsed`: its last metered call from the usage counters (undefined: never, or not counted). */
export function keyJson(k: KeyInfo, lastUsed?: number) {
  return {
    key_id: k.keyId, label: k.label, prefix: k.prefix, status: k.status, created_at: iso(k.createdAt),
    last_used_at: lastUsed === undefined ? null : iso(lastUsed),
    expires_at: k.expiresAt === null ? null : iso(k.expiresAt), revoked_at: k.revokedAt === null ? null : iso(k.revokedAt),
    scopes: k.scopes ?? [...SCOPES], rotated_from: k.rotatedFrom, rotated_to: k.rotatedTo,
    daily_spend_cap_micro_usd: k.dailySpendCapMicroUsd, monthly_spend_cap_micro_usd: k.monthlySpendCapMicroUsd,
  };
}

/** A spend cap field: micro-USD per period, an integer from 0. */
export function capField(name: string) {
  return z
    .number({ error: `${name} must be an integer number of micro-USD` })
    .int({ error: `${name} must be an integer number of micro-USD` })
    .min(0, { error: `${name} must be 0 or more` })
    .max(Number.MAX_SAFE_INTEGER, { error: `${name} is too large` });
}

export function adminKeyRoutes(deps: { keys: KeyService; rotationGraceSeconds: number; usage: UsageService | undefined; rules?: Pick<MoneyRules, 'refuseUnenforced'> }): Route[] {
  return [
    route({
      method: 'POST', path: '/admin/keys', auth: 'admin', metered: false,
      summary: 'Create an API key, for a new account or an existing one. The key is shown only here.',
      description:
        `\`scopes\` limits what the key may call (${SCOPE_LIST}; left out: everything); \`expires_at\` is when it stops working; ` +
        '`daily_spend_cap_micro_usd` and `monthly_spend_cap_micro_usd` cap what its calls spend per UTC day and month (left out: the server\'s defaults).',
      body: z
        .object({
          account_id: accountIdField(false).optional(),
          label: storable('label', z.string().max(200, { error: 'label must be at most 200 characters' })).optional(),
          expires_at: z.iso.datetime({ offset: true, error: 'expires_at must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z' }).optional(),
          scopes: z
            .array(z.enum(SCOPES, { error: `scopes: each scope must be one of ${SCOPE_LIST}` }), { error: 'scopes must be an array' })
            .min(1, { error: 'scopes must not be empty (leave it out for a key with every scope)' })
            .refine((a) => new Set(a).size === a.length, { error: 'scopes must not repeat a scope' })
            .optional(),
          daily_spend_cap_micro_usd: capField('daily_spend_cap_micro_usd').optional(),
          monthly_spend_cap_micro_usd: capField('monthly_spend_cap_micro_usd').optional(),
        })
        .optional(),
      responses: { 201: ok('Created; `api_key` is shown only here', KeyCreated) },
      errors: ['not_found'],
      async handle({ body, now }) {
        const expiresAt = body?.expires_at === undefined ? undefined : Date.parse(body.expires_at);
        if (expiresAt !== undefined && !(expiresAt > now + 1000)) throw invalid('expires_at must be in the future (a second from now at least)');
        if (body?.daily_spend_cap_micro_usd !== undefined || body?.monthly_spend_cap_micro_usd !== undefined) deps.rules?.refuseUnenforced();
        // Another key for an account that exists: a typo'd id must not make an orphan account.
        if (body?.account_id !== undefined && !(await deps.keys.hasKeys(body.account_id, now))) {
          throw new AipaygentError('not_found', `No account "${body.account_id}" (it has no API keys): leave account_id out to make a new account`);
        }
        return json(201, await deps.keys.create({
          accountId: body?.account_id, label: body?.label, scopes: body?.scopes, expiresAt,
          dailySpendCapMicroUsd: body?.daily_spend_cap_micro_usd, monthlySpendCapMicroUsd: body?.monthly_spend_cap_micro_usd,
        }));
      },
    }),
    route({
      method: 'GET', path: '/admin/keys', auth: 'admin', metered: false,
      summary: "An account's API keys (never their secrets): id, prefix, label, scopes, status, when created, expiring, revoked, rotated.",
      query: z.object({ account_id: accountIdField(true) }),
      responses: { 200: ok("The account's keys, oldest first", KeyList) },
      errors: ['not_found'],
      async handle({ query, now }) {
        const [list, used] = await Promise.all([deps.keys.list(query.account_id, now), deps.usage?.lastUsed(query.account_id) ?? ({} as Record<string, number>)]);
        if (list.length === 0) throw new AipaygentError('not_found', `No account "${query.account_id}" (it has no API keys)`);
        return json(200, { status: 'success', account_id: query.account_id, keys: list.map((k) => keyJson(k, used[k.keyId])) });
      },
    }),
    route({
      method: 'POST', path: '/admin/keys/:key_id/rotate', auth: 'admin', metered: false,
      summary: 'Replace an API key: a new key with the same account, label, scopes and expiry; the old one keeps working for a grace period.',
      description: `\`grace_seconds\`: how long the old key keeps working (default ${deps.rotationGraceSeconds}, the keys.rotationGraceSeconds option; 0: it stops now; never past its own expiry). The new key is shown only here.`,
      body: z
        .object({
          grace_seconds: z
            .number({ error: 'grace_seconds must be an integer number of seconds' })
            .int({ error: 'grace_seconds must be an integer number of seconds' })
            .min(0, { error: 'grace_seconds must be 0 or more' })
            .max(MAX_GRACE_SECONDS, { error: `grace_seconds must be at most ${MAX_GRACE_SECONDS}` })
            .optional(),
        })
        .optional(),
      responses: { 201: ok('Rotated; `api_key` is shown only here', KeyRotated) },
      errors: ['not_found', 'conflict'],
      async handle({ params, body }) {
        const keyId = params.key_id!;
        const r = await deps.keys.rotate(keyId, (body?.grace_seconds ?? deps.rotationGraceSeconds) * 1000);
        if (r.ok) return json(201, r.created);
        if (r.reason === 'not_found') throw new AipaygentError('not_found', `No API key "${keyId}"`);
        if (r.reason === 'rotated') throw new AipaygentError('conflict', `The API key "${keyId}" was rotated already, to "${r.rotatedTo}": rotate that one`);
        throw new AipaygentError('conflict', `The API key "${keyId}" is ${r.reason}: create a new key instead`);
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
  ];
}
