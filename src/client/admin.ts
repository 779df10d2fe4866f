// The client's admin part (admin token): accounts, keys, grants and usage, through the admin API.
import type { AccountDetail, AccountPage, AdminKeyList, CreatedKey, Granted, RotatedKey, Scope, UsageReport } from './admin-types.js';

type Query = Record<string, string | number | boolean | undefined>;
/** The client's JSON call, sent with the admin token. */
export type AdminFetch = <T>(method: string, path: string, init?: { query?: Query; body?: unknown; call?: { signal?: AbortSignal } }) => Promise<T>;
type Call = { signal?: AbortSignal };

const id = (s: string) => encodeURIComponent(s);

export function adminPart(fetchJson: AdminFetch) {
  return {
    /** One page of accounts, oldest first; pass `next_cursor` back as `cursor`. `created_from` inclusive, `created_to` exclusive (ISO 8601). */
    accounts: (opts: { limit?: number; cursor?: string; created_from?: string; created_to?: string; active_from?: string; active_to?: string } = {}, call?: Call) =>
      fetchJson<AccountPage>('GET', '/admin/accounts', { query: opts, call }),
    /** One account: balance, keys, the last ledger entries, linked wallets. */
    account: (accountId: string, call?: Call) => fetchJson<AccountDetail>('GET', `/admin/accounts/${id(accountId)}`, { call }),
    /** An account's keys (never their secrets), oldest first. */
    keys: (accountId: string, call?: Call) => fetchJson<AdminKeyList>('GET', '/admin/keys', { query: { account_id: accountId }, call }),
    /** A new key, for a new account or `account_id`; `api_key` is shown only here. */
    createKey: (
      input: { account_id?: string; label?: string; expires_at?: string; scopes?: Scope[]; daily_spend_cap_micro_usd?: number; monthly_spend_cap_micro_usd?: number } = {},
      call?: Call,
    ) =>
      fetchJson<CreatedKey>('POST', '/admin/keys', { body: input, call }),
    /** Replaces a key: the old one keeps working for `grace_seconds` (the server's default when left out; 0: it stops now). */
    rotateKey: (keyId: string, opts: { grace_seconds?: number } = {}, call?: Call) =>
      fetchJson<RotatedKey>('POST', `/admin/keys/${id(keyId)}/rotate`, { body: opts, call }),
    /** Revokes a key at once. */
    revokeKey: (keyId: string, call?: Call) => fetchJson<{ status: 'success'; key_id: string; revoked: true }>('DELETE', `/admin/keys/${id(keyId)}`, { call }),
    /** Adds credit; with a `reference`, a repeated grant adds nothing (`granted: false`). */
    grant: (input: { account_id: string; amount_micro_usd: number; reason: string; reference?: string }, call?: Call) =>
      fetchJson<Granted>('POST', '/admin/credits', { body: input, call }),
    /** Usage per hour or day bucket, of one account or of all (GET /admin/usage). */
    usage: (query: { account_id?: string; from?: string; to?: string; bucket?: 'hour' | 'day' } = {}, call?: Call) =>
      fetchJson<UsageReport>('GET', '/admin/usage', { query, call }),
  };
}
