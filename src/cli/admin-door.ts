// The operator's commands go through the admin API: in process on the configured store, or over HTTP to a running server.
import { randomBytes } from 'node:crypto';
import { createAipaygent } from '../create.js';
import { describeStore } from '../storage/open.js';
import { envOptions } from './io.js';

/** What `keys` and `credits` print: plain JSON-able rows (the admin API's fields). */
export interface KeyRow {
  key_id: string; label: string; prefix: string; status: 'active' | 'revoked' | 'expired'; scopes: string[]; created_at: string; last_used_at: string | null;
  expires_at: string | null; revoked_at: string | null; rotated_from: string | null; rotated_to: string | null;
  daily_spend_cap_micro_usd: number | null; monthly_spend_cap_micro_usd: number | null;
}
export interface Created {
  api_key: string; key_id: string; account_id: string; label: string; prefix: string; scopes: string[]; expires_at: string | null;
  daily_spend_cap_micro_usd: number | null; monthly_spend_cap_micro_usd: number | null;
}
export interface Rotated extends Created { rotated_from: string; old_key_expires_at: string }
export interface Granted { account_id: string; granted: boolean; balance_micro_usd: number; balance_usd: string }

export interface AdminDoor {
  createKey(input: {
    accountId?: string | undefined; label?: string | undefined; scopes?: string[] | undefined; expiresAt?: string | undefined;
    dailyCap?: number | undefined; monthlyCap?: number | undefined;
  }): Promise<Created>;
  listKeys(accountId: string): Promise<KeyRow[]>;
  rotateKey(keyId: string, graceSeconds: number | undefined): Promise<Rotated>;
  revokeKey(keyId: string): Promise<void>;
  grant(input: { accountId: string; amountMicroUsd: number; reason: string; reference?: string | undefined }): Promise<Granted>;
  close(): Promise<void>;
}

/** A refusal the operator must read (no such account, bad input...): printed as is; `misuse` (the API said 400) exits 2 with the usage. */
export class DoorError extends Error {
  constructor(message: string, readonly misuse = false) {
    super(message);
    this.name = 'DoorError';
  }
}

/** One admin API call: its status and JSON body (`{}` when it had none). */
type Send = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => Promise<{ status: number; body: any }>;

/**
 * Both doors speak to the same admin routes, so that a command validates, answers and fails the same
 * way in process as with --url. `where` names the other end in messages that are not the API's own.
 */
function doorOver(send: Send, where: string, close: () => Promise<void>): AdminDoor {
  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<any> => {
    const { status, body: json } = await send(method, path, body);
    if (status >= 200 && status < 300) return json;
    const message: string | undefined = json?.error?.message;
    if (status === 400 && message) throw new DoorError(message, true);
    // "No account …", "No API key …": the API's answer is the message. Any other refusal says who refused.
    if (status === 404 && json?.error?.code === 'not_found' && message && message !== 'No such endpoint') throw new DoorError(message);
    throw new DoorError(`${where}: ${method} ${path.split('?')[0]} answered HTTP ${status}${message ? `: ${message}` : ''}`);
  };
  return {
    createKey: async ({ accountId, label, scopes, expiresAt, dailyCap, monthlyCap }) => {
      const r = await call('POST', '/admin/keys', {
        account_id: accountId, label, scopes, expires_at: expiresAt, daily_spend_cap_micro_usd: dailyCap, monthly_spend_cap_micro_usd: monthlyCap,
      });
      return {
        api_key: r.api_key, key_id: r.key_id, account_id: r.account_id, label: r.label, prefix: r.prefix, scopes: r.scopes, expires_at: r.expires_at,
        daily_spend_cap_micro_usd: r.daily_spend_cap_micro_usd, monthly_spend_cap_micro_usd: r.monthly_spend_cap_micro_usd,
      };
    },
    listKeys: async (accountId) => (await call('GET', `/admin/keys?account_id=${encodeURIComponent(accountId)}`)).keys as KeyRow[],
    rotateKey: async (keyId, graceSeconds) => {
      const r = await call('POST', `/admin/keys/${encodeURIComponent(keyId)}/rotate`, { grace_seconds: graceSeconds });
      return {
        api_key: r.api_key, key_id: r.key_id, account_id: r.account_id, label: r.label, prefix: r.prefix, scopes: r.scopes, expires_at: r.expires_at,
        daily_spend_cap_micro_usd: r.daily_spend_cap_micro_usd, monthly_spend_cap_micro_usd: r.monthly_spend_cap_micro_usd,
        rotated_from: r.rotated_from, old_key_expires_at: r.old_key_expires_at,
      };
    },
    revokeKey: async (keyId) => void (await call('DELETE', `/admin/keys/${encodeURIComponent(keyId)}`)),
    grant: async ({ accountId, amountMicroUsd, reason, reference }) => {
      const r = await call('POST', '/admin/credits', { account_id: accountId, amount_micro_usd: amountMicroUsd, reason, reference });
      return { account_id: accountId, granted: r.granted === true, balance_micro_usd: r.balance_micro_usd, balance_usd: r.balance_usd };
    },
    close,
  };
}

/** In process: the admin routes of a service on the store of AIPAYGENT_STORE (never the in-memory one: it lives in the server). */
export async function localDoor(env: NodeJS.ProcessEnv): Promise<AdminDoor> {
  const options = envOptions(env);
  if (options.store === undefined || options.store === 'memory') {
    throw new DoorError(
      'The in-memory store lives inside the server process: set AIPAYGENT_STORE to the shared store (redis://, redis-cluster://, postgres://, sqlite://), ' +
        'or pass --url http://host:port (with AIPAYGENT_ADMIN_TOKEN) to use the running server\'s admin API',
    );
  }
  // A token of this process only: the routes are called directly, never served.
  const token = randomBytes(24).toString('base64url');
  // Claude, payments, telemetry and rate limits play no part in these commands: their packages need not be installed here.
  const ai = createAipaygent({ ...options, adminToken: token, claude: undefined, payments: undefined, openTelemetry: false, rateLimit: undefined });
  await ai.ready;
  const send: Send = async (method, path, body) => {
    const [pathname = path, query = ''] = path.split('?');
    const res = await ai.handle({
      method, path: pathname, query, signal: new AbortController().signal,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? { kind: 'none' } : { kind: 'parsed', value: body },
    });
    if (!res) return { status: 404, body: {} };
    return { status: res.status, body: typeof res.body === 'string' && res.body ? JSON.parse(res.body) : {} };
  };
  return doorOver(send, `the store ${describeStore(options.store)}`, () => ai.close());
}

/** Against a running server: its admin API, with the admin token of AIPAYGENT_ADMIN_TOKEN. */
export function remoteDoor(url: string, adminToken: string | undefined): AdminDoor {
  if (!adminToken) throw new DoorError('--url needs the admin token of that server in AIPAYGENT_ADMIN_TOKEN');
  const base = url.replace(/\/+$/, '');
  const send: Send = async (method, path, body) => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      // fetch says "fetch failed"; its cause says why (ECONNREFUSED, ENOTFOUND, a timeout...).
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new DoorError(`Cannot reach ${base} (${cause?.code ?? cause?.message ?? (error as Error).message})`);
    }
    return { status: res.status, body: await res.json().catch(() => ({})) };
  };
  return doorOver(send, base, async () => {});
}

/** `--url` (or AIPAYGENT_URL) picks the running server; else the store, in process. */
export function openDoor(url: string | undefined, env: NodeJS.ProcessEnv): Promise<AdminDoor> {
  const target = url ?? env.AIPAYGENT_URL;
  return target ? Promise.resolve(remoteDoor(target, env.AIPAYGENT_ADMIN_TOKEN)) : localDoor(env);
}
