// Search clients for the relevance set: one over HTTP (a listening server), one through `ai.handle` (no socket).
import type { Aipaygent } from '../../src/create.js';
import type { CoreRequest } from '../../src/http/types.js';
import type { SearchClient, SearchMode } from './evaluate.js';
import type { Json } from './relevance.js';

/** Credit granted to the benchmark's key: far more than a run spends (about 700 calls at 100 micro-USD). */
const GRANT_MICRO_USD = 10_000_000;

/** A JSON call: method, path with query, optional body; answers the status and the parsed body. */
type Call = (method: string, path: string, body?: unknown, bearer?: string) => Promise<{ status: number; body: Record<string, unknown> }>;

function searchClient(call: Call, apiKey: string): SearchClient {
  return {
    async store(userId, key, data) {
      const r = await call('POST', '/memory/store', { user_id: userId, key, data }, apiKey);
      if (r.status !== 200 && r.status !== 201) throw new Error(`store ${userId}/${key}: ${r.status} ${JSON.stringify(r.body)}`);
    },
    async search(userId: string, q: string, mode: SearchMode, limit: number) {
      const query = new URLSearchParams({ user_id: userId, q, mode, limit: String(limit), include_data: 'false' });
      const r = await call('GET', `/memory/search?${query}`, undefined, apiKey);
      if (r.status !== 200) throw new Error(`search ${userId} "${q}" (${mode}): ${r.status} ${JSON.stringify(r.body)}`);
      return (r.body.results as Array<{ key: string }>).map((x) => x.key);
    },
  };
}

/** An API key made as an operator makes one: POST /admin/keys, then credits granted with POST /admin/credits. */
async function grantedKey(call: Call, adminToken: string): Promise<string> {
  const made = await call('POST', '/admin/keys', {}, adminToken);
  if (made.status !== 201) throw new Error(`POST /admin/keys: ${made.status} ${JSON.stringify(made.body)}`);
  const grant = await call('POST', '/admin/credits', { account_id: made.body.account_id, amount_micro_usd: GRANT_MICRO_USD, reason: 'search quality run' }, adminToken);
  if (grant.status !== 200 && grant.status !== 201) throw new Error(`POST /admin/credits: ${grant.status} ${JSON.stringify(grant.body)}`);
  return made.body.api_key as string;
}

/** The set through a server listening at `baseUrl` (the mount point), with a key granted by `adminToken`. */
export async function httpSearchClient(baseUrl: string, adminToken: string): Promise<SearchClient> {
  const call: Call = async (method, path, body, bearer) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return searchClient(call, await grantedKey(call, adminToken));
}

/** The set through `ai.handle` (the core without a socket: what a test can afford to run on every commit). */
export async function coreSearchClient(ai: Aipaygent, adminToken: string): Promise<SearchClient> {
  const call: Call = async (method, path, body, bearer) => {
    const at = path.indexOf('?');
    const req: CoreRequest = {
      method,
      path: at === -1 ? path : path.slice(0, at),
      query: at === -1 ? '' : path.slice(at + 1),
      headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? { kind: 'none' } : { kind: 'parsed', value: body },
      signal: new AbortController().signal,
    };
    const res = await ai.handle(req);
    if (!res) throw new Error(`${method} ${path}: not a route of aipaygent`);
    if (typeof res.body !== 'string') throw new Error(`${method} ${path}: expected a JSON body`);
    return { status: res.status, body: JSON.parse(res.body) as Record<string, unknown> };
  };
  return searchClient(call, await grantedKey(call, adminToken));
}
