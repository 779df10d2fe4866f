// The operator's commands run in one of two ways: in process on the configured store, or against a running server's admin API.
import { createAipaygent, type Aipaygent } from '../create.js';
import { optionsFromEnv } from '../env.js';
import type { KeyInfo } from '../keys/key-service.js';
import { formatUsd } from '../ledger/money.js';
import { iso } from '../time.js';

/** What `keys` and `credits` print: plain JSON-able rows. */
export interface KeyRow { key_id: string; label: string; status: 'active' | 'revoked'; created_at: string; revoked_at: string | null }
export interface Created { api_key: string; key_id: string; account_id: string }
export interface Granted { account_id: string; granted: boolean; balance_micro_usd: number; balance_usd: string }

export interface AdminDoor {
  createKey(input: { accountId?: string | undefined; label?: string | undefined }): Promise<Created>;
  listKeys(accountId: string): Promise<KeyRow[]>;
  revokeKey(keyId: string): Promise<void>;
  grant(input: { accountId: string; amountMicroUsd: number; reason: string; reference?: string | undefined }): Promise<Granted>;
  close(): Promise<void>;
}

/** A refusal the operator must read (no such account, bad input...): printed as is, exit code 1. */
export class DoorError extends Error {}

const row = (k: KeyInfo): KeyRow => ({
  key_id: k.keyId, label: k.label, status: k.active ? 'active' : 'revoked', created_at: iso(k.createdAt), revoked_at: k.revokedAt === null ? null : iso(k.revokedAt),
});

/** In process: the same services as the admin routes, on the store of AIPAYGENT_STORE (never the in-memory one: it lives in the server). */
export async function localDoor(env: NodeJS.ProcessEnv): Promise<AdminDoor> {
  const options = optionsFromEnv(env);
  if (options.store === undefined || options.store === 'memory') {
    throw new DoorError(
      'The in-memory store lives inside the server process: set AIPAYGENT_STORE to the shared store (redis://, postgres://, sqlite://), ' +
        'or pass --url http://host:port (with AIPAYGENT_ADMIN_TOKEN) to use the running server\'s admin API',
    );
  }
  // Claude, payments and telemetry play no part in these commands: their packages need not be installed here.
  const ai: Aipaygent = createAipaygent({ ...options, claude: undefined, payments: undefined, openTelemetry: false });
  await ai.ready;
  return {
    createKey: async ({ accountId, label }) => {
      const created = await ai.api.keys.create({ accountId, label });
      return { api_key: created.api_key, key_id: created.key_id, account_id: created.account_id };
    },
    listKeys: async (accountId) => {
      const keys = await ai.api.keys.list(accountId, Date.now());
      if (keys.length === 0) throw new DoorError(`No account "${accountId}" (it has no API keys)`);
      return keys.map(row);
    },
    revokeKey: async (keyId) => {
      if (!(await ai.api.keys.revoke(keyId))) throw new DoorError(`No API key "${keyId}"`);
    },
    grant: async (input) => {
      const r = await ai.api.ledger.grantToAccount(input);
      if (!r.granted && r.reason === 'no_account') throw new DoorError(`No account "${input.accountId}" (it has no API keys)`);
      const balance = (r as { balance: number }).balance;
      return { account_id: input.accountId, granted: r.granted, balance_micro_usd: balance, balance_usd: formatUsd(balance) };
    },
    close: () => ai.close(),
  };
}

/** Against a running server: its admin API, with the admin token of AIPAYGENT_ADMIN_TOKEN. */
export function remoteDoor(url: string, adminToken: string | undefined): AdminDoor {
  if (!adminToken) throw new DoorError('--url needs the admin token of that server in AIPAYGENT_ADMIN_TOKEN');
  const base = url.replace(/\/+$/, '');
  const call = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new DoorError(`Cannot reach ${base} (${(error as Error).message})`);
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown> & { error?: { message?: string } };
    if (!res.ok) throw new DoorError(`${method} ${path}: HTTP ${res.status}: ${json.error?.message ?? 'no error message'}`);
    return json;
  };
  return {
    createKey: async ({ accountId, label }) => (await call('POST', '/admin/keys', { account_id: accountId, label })) as unknown as Created,
    listKeys: async (accountId) => (await call('GET', `/admin/keys?account_id=${encodeURIComponent(accountId)}`)).keys as KeyRow[],
    revokeKey: async (keyId) => void (await call('DELETE', `/admin/keys/${encodeURIComponent(keyId)}`)),
    grant: async ({ accountId, amountMicroUsd, reason, reference }) => {
      const r = await call('POST', '/admin/credits', { account_id: accountId, amount_micro_usd: amountMicroUsd, reason, reference });
      return { account_id: accountId, granted: r.granted === true, balance_micro_usd: r.balance_micro_usd as number, balance_usd: r.balance_usd as string };
    },
    close: async () => {},
  };
}

/** `--url` (or AIPAYGENT_URL) picks the running server; else the store, in process. */
export function openDoor(url: string | undefined, env: NodeJS.ProcessEnv): Promise<AdminDoor> {
  const target = url ?? env.AIPAYGENT_URL;
  return target ? Promise.resolve(remoteDoor(target, env.AIPAYGENT_ADMIN_TOKEN)) : localDoor(env);
}
