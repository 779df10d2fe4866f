// aipaygent/client: a small typed fetch client for agents (memory, credits, buying, Claude with streaming). No server code.
import { AipaygentClientError, errorFrom } from './errors.js';
import { adminPart } from './admin.js';
import { ClaudeStream } from './sse.js';
import type {
  Balance, ClaudeMessage, ClaudeRequest, LedgerPage, Memory, MemoryDeleted, MemoryListPage, MemoryWritten, Purchase, SearchOptions, SearchResults, SignedUp, SignupChallenge, UserErased,
} from './types.js';

export { AipaygentClientError } from './errors.js';
export { ClaudeStream } from './sse.js';
export type * from './types.js';
export type * from './admin-types.js';

interface BaseOptions {
  /** URL of the mount, e.g. "http://localhost:3000" or "https://example.com/ai". */
  baseUrl: string;
  /** A fetch implementation (tests, proxies, other runtimes). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Headers added to every request. @default {} */
  headers?: Record<string, string>;
}

/** An API key (agents), an admin token (`client.admin`, operators), or both. */
export type AipaygentClientOptions = BaseOptions &
  (
    | { /** The API key, sent as `Authorization: Bearer <key>`. */ apiKey: string; /** The admin token, for `client.admin`. */ adminToken?: string }
    | { apiKey?: string; adminToken: string }
    /** Neither yet: only `signup` works (an agent getting its key with its wallet). */
    | { apiKey?: undefined; adminToken?: undefined }
  );

/** Options of one call. */
export interface CallOptions {
  signal?: AbortSignal;
  /** `If-Match`: write only if the memory still has this ETag (else a 412 `precondition_failed` error). */
  ifMatch?: string;
  /** `Idempotency-Key` of a metered POST: a retry with the same key is answered once and charged once. */
  idempotencyKey?: string;
}

type Query = Record<string, string | number | boolean | undefined>;
type Ids = { user_id: string; key: string };
type Written<X = object> = { status: 'success'; user_id: string; key: string; version: number; etag: string } & X & Record<string, unknown>;

/**
 * Creates a client.
 * @example
 * const ai = createClient({ baseUrl: 'http://localhost:3000', apiKey: process.env.AIPAYGENT_API_KEY! });
 * await ai.memory.store({ user_id: 'dev_user_123', key: 'coding_preferences', data: { language: 'Python' } });
 * const prefs = await ai.memory.retrieve('dev_user_123', 'coding_preferences'); // null when absent
 */
export function createClient(options: AipaygentClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;

  /** `anonymous`: sent without a token (wallet sign-up, which is how an agent gets its key). */
  type Init = { query?: Query; body?: unknown; call?: CallOptions; headers?: Record<string, string>; admin?: boolean; anonymous?: boolean };
  async function send(method: string, path: string, init: Init = {}): Promise<Response> {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const token = init.anonymous ? undefined : init.admin ? options.adminToken : options.apiKey;
    if (token === undefined && !init.anonymous) throw new TypeError(`aipaygent client: ${init.admin ? 'client.admin needs createClient({ adminToken })' : 'this call needs createClient({ apiKey })'}`);
    const headers: Record<string, string> = { ...(token !== undefined && { authorization: `Bearer ${token}` }), accept: 'application/json', ...options.headers, ...init.headers };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (init.call?.ifMatch !== undefined) headers['if-match'] = init.call.ifMatch;
    if (init.call?.idempotencyKey !== undefined) headers['idempotency-key'] = init.call.idempotencyKey;
    let res: Response;
    try {
      res = await doFetch(url, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), signal: init.call?.signal });
    } catch (cause) {
      if (init.call?.signal?.aborted) throw cause;
      throw new AipaygentClientError({ status: 0, code: 'network_error', message: `${method} ${url.pathname} failed: ${(cause as Error).message}`, cause });
    }
    if (!res.ok) throw await errorFrom(res);
    return res;
  }

  async function fetchJson<T>(method: string, path: string, init?: Init): Promise<T> {
    const res = await send(method, path, init);
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new AipaygentClientError({ status: res.status, code: 'bad_response', message: `${method} ${path}: the answer is not JSON`, body: text, headers: res.headers });
    }
  }

  const memory = {
    /** Stores `data` (any JSON) for a user under a key; `ttl_days` defaults to the server's (365). */
    store: (input: Ids & { data: unknown; ttl_days?: number }, call?: CallOptions) => fetchJson<MemoryWritten>('POST', '/memory/store', { body: input, call }),
    /** The memory, or null when absent or expired (like the article's `.get("data", default)`). */
    async retrieve<T = unknown>(userId: string, key: string, call?: CallOptions): Promise<Memory<T> | null> {
      try {
        return await fetchJson<Memory<T>>('GET', '/memory/retrieve', { query: { user_id: userId, key }, call });
      } catch (error) {
        if (error instanceof AipaygentClientError && error.status === 404 && error.code === 'not_found') return null;
        throw error;
      }
    },
    /** One page of a user's keys (no values); pass `next_cursor` back as `cursor`. */
    list: (userId: string, opts: { prefix?: string; cursor?: string; limit?: number } = {}, call?: CallOptions) =>
      fetchJson<MemoryListPage>('GET', '/memory/list', { query: { user_id: userId, ...opts }, call }),
    /**
     * Searches a user's memories, best first: words (any may match), "quoted phrases", prefix* words;
     * by meaning too when the server has an embedder (`mode`). Sent as a POST (a query of any length).
     * @example const { results } = await ai.memory.search('alice', 'which framework', { limit: 5 });
     */
    search: <T = unknown>(userId: string, q: string, opts: SearchOptions = {}, call?: CallOptions) =>
      fetchJson<SearchResults<T>>('POST', '/memory/search', { body: { user_id: userId, q, ...opts }, call }),
    /** Appends items to an array inside a memory, atomically (`path`: JSON Pointer to the array). */
    append: (input: Ids & { items: unknown[]; path?: string; max_items?: number; ttl_days?: number }, call?: CallOptions) =>
      fetchJson<Written<{ length: number }>>('POST', '/memory/append', { body: input, call }),
    /** Applies a JSON Merge Patch (RFC 7396): null removes a member, objects merge. */
    patch: (input: Ids & { patch: unknown; ttl_days?: number }, call?: CallOptions) => fetchJson<Written>('PATCH', '/memory/patch', { body: input, call }),
    /** Applies a JSON Patch (RFC 6902), all operations or none. */
    jsonPatch: (input: Ids & { operations: Array<Record<string, unknown>> }, call?: CallOptions) => fetchJson<Written>('POST', '/memory/patch', { body: input, call }),
    /** Deletes one memory (an AipaygentClientError with status 404 when absent). */
    delete: (userId: string, key: string, call?: CallOptions) => fetchJson<MemoryDeleted>('DELETE', '/memory/delete', { query: { user_id: userId, key }, call }),
    /** Erases every memory of a user (free). */
    erase: (userId: string, call?: CallOptions) => fetchJson<UserErased>('DELETE', '/memory/user', { query: { user_id: userId }, call }),
  };

  const claude = {
    /** One Messages API call; `content[0].text` is the answer. The charge is in `costMicroUsd`. */
    async message(request: ClaudeRequest, call?: CallOptions): Promise<ClaudeMessage & { costMicroUsd: number | undefined }> {
      const res = await send('POST', '/claude/message', { body: { ...request, stream: false }, call });
      const message = (await res.json()) as ClaudeMessage;
      const cost = res.headers.get('x-cost-micro-usd');
      return Object.assign(message, { costMicroUsd: cost === null ? undefined : Number(cost) });
    },
    /** Streams the answer: `for await (const ev of await ai.claude.stream(req))`, Anthropic's SSE events, parsed. */
    async stream(request: ClaudeRequest, call?: CallOptions): Promise<ClaudeStream> {
      return new ClaudeStream(await send('POST', '/claude/message', { body: { ...request, stream: true }, call, headers: { accept: 'text/event-stream' } }));
    },
  };

  return {
    /** The operator's part (needs `adminToken`): accounts, keys (create, rotate, revoke), credit grants, usage. */
    admin: adminPart((method, path, init) => fetchJson(method, path, { ...init, admin: true })),
    memory,
    credits: {
      /** Balance (integer micro-USD) and free calls left today. */
      balance: (call?: CallOptions) => fetchJson<Balance>('GET', '/credits/balance', { call }),
      /** Ledger entries, newest first; pass `next_cursor` back as `cursor`. */
      ledger: (opts: { limit?: number; cursor?: string } = {}, call?: CallOptions) => fetchJson<LedgerPage>('GET', '/credits/ledger', { query: opts, call }),
    },
    /** Credits a USDC transfer (`{tx_hash}`), or starts an x402 top-up (`{amount_micro_usd}`, with `paymentSignature` to pay). */
    buyCredits: (input: { tx_hash: string } | { amount_micro_usd: number; paymentSignature?: string }, call?: CallOptions) => {
      const { paymentSignature, ...body } = input as { paymentSignature?: string };
      return fetchJson<Purchase>('POST', '/buy-credits', { body, call, headers: paymentSignature ? { 'payment-signature': paymentSignature } : {} });
    },
    /** Wallet linking: only transfers from a linked wallet credit the account. */
    wallets: {
      /** A single-use message to sign with `personal_sign`. */
      challenge: (call?: CallOptions) => fetchJson<{ status: 'success'; challenge: string; expires_at: string; chain_id: number }>('GET', '/wallets/challenge', { call }),
      /** Links the wallet that signed the current challenge. */
      link: (input: { address: string; signature: string }, call?: CallOptions) =>
        fetchJson<{ status: 'success'; address: string; linked: true; already_linked: boolean }>('POST', '/wallets/link', { body: input, call }),
      list: (call?: CallOptions) => fetchJson<{ status: 'success'; wallets: Array<{ address: string; linked_at: string }> }>('GET', '/wallets', { call }),
    },
    /**
     * Wallet sign-up (no API key needed): `challenge(address)` gives the EIP-4361 message to sign with `personal_sign`;
     * `submit({ message, signature })` opens the wallet's account (201) or gives it a new key (200). Make a new client with the key.
     */
    signup: {
      challenge: (address?: string, call?: CallOptions) => fetchJson<SignupChallenge>('GET', '/signup/challenge', { query: { address }, call, anonymous: true }),
      submit: (input: { message: string; signature: string; paymentSignature?: string }, call?: CallOptions) => {
        const { paymentSignature, ...body } = input;
        return fetchJson<SignedUp>('POST', '/signup', { body, call, anonymous: true, headers: paymentSignature ? { 'payment-signature': paymentSignature } : {} });
      },
    },
    /** How to buy credits on this server: chain, token, receiver, minimum (GET /buy-credits). */
    buyInstructions: (call?: CallOptions) => fetchJson<Record<string, unknown>>('GET', '/buy-credits', { call }),
    claude,
    /** The server's catalogue (GET /discover). */
    discover: (call?: CallOptions) => fetchJson<Record<string, unknown>>('GET', '/discover', { call }),
  };
}

/** The client `createClient` returns. */
export type AipaygentClient = ReturnType<typeof createClient>;
