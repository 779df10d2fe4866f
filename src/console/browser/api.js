// @ts-check
// The admin API of this mount, called with the admin token kept in sessionStorage (this tab only, never in a URL).

/** The mount's path as the server saw it ("" at the root, "/ai" under a prefix): every URL is under it. */
const base = document.body.dataset.base ?? '';
const TOKEN_KEY = 'aipaygent.console.adminToken';

export const token = {
  /** @returns {string | null} */
  get: () => sessionStorage.getItem(TOKEN_KEY),
  /** @param {string} value */
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An error answer of the API, in its one shape `{status:"error", error:{code, message}}`. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Called when the server refuses the token (401): the page goes back to the sign-in form. */
let onUnauthorized = () => {};
/** @param {() => void} fn */
export const whenUnauthorized = (fn) => (onUnauthorized = fn);

/**
 * @param {'GET' | 'POST' | 'DELETE'} method
 * @param {string} path relative to the mount, e.g. "/admin/accounts"
 * @param {{ query?: Record<string, string | number | null | undefined>, body?: unknown }} [opts]
 * @returns {Promise<any>}
 */
export async function call(method, path, opts = {}) {
  const url = new URL(base + path, location.origin);
  for (const [name, value] of Object.entries(opts.query ?? {})) if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${token.get() ?? ''}`, accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
  } catch {
    throw new ApiError(0, 'network', 'The server did not answer (network error).');
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const error = new ApiError(res.status, data?.error?.code ?? 'http_error', data?.error?.message ?? `The server answered HTTP ${res.status}.`);
    if (res.status === 401) onUnauthorized();
    throw error;
  }
  return data;
}

const enc = encodeURIComponent;

/** The admin routes the console reads and the actions it takes; the shapes are those of the OpenAPI document (/openapi.json). */
export const admin = {
  /** @param {{ limit?: number, cursor?: string | null, created_from?: string, created_to?: string, active_from?: string, active_to?: string }} [q] */
  accounts: (q = {}) => call('GET', '/admin/accounts', { query: q }),
  /** @param {string} accountId */
  account: (accountId) => call('GET', `/admin/accounts/${enc(accountId)}`),
  /** @param {string} accountId */
  keys: (accountId) => call('GET', '/admin/keys', { query: { account_id: accountId } }),
  /** @param {{ account_id?: string, label?: string, scopes?: string[], expires_at?: string }} body */
  createKey: (body) => call('POST', '/admin/keys', { body }),
  /** @param {string} keyId @param {{ grace_seconds?: number }} body */
  rotateKey: (keyId, body) => call('POST', `/admin/keys/${enc(keyId)}/rotate`, { body }),
  /** @param {string} keyId */
  revokeKey: (keyId) => call('DELETE', `/admin/keys/${enc(keyId)}`),
  /** @param {{ account_id: string, amount_micro_usd: number, reason: string, reference?: string }} body */
  grant: (body) => call('POST', '/admin/credits', { body }),
  /** @param {{ account_id?: string, bucket: 'hour' | 'day', from?: string, to?: string }} q */
  usage: (q) => call('GET', '/admin/usage', { query: q }),
};
