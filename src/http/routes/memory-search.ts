// GET and POST /memory/search: a user's memories ranked by how well they match a query.
import { z } from 'zod';
import type { MemoryService } from '../../memory/memory-service.js';
import type { SearchOutcome } from '../../memory/memory-search.js';
import { iso } from '../../time.js';
import { queryInt, storable } from '../fields.js';
import { MemorySearchResults, ok } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';
import { expiresAt, memoryFields, queryBool, refusalError } from './memory-http.js';

export interface SearchRouteDeps {
  memory: MemoryService;
  maxKeyBytes: number;
  maxTtlDays: number;
  /** Largest `limit` (search.maxLimit). */
  maxLimit: number;
}

/** Longest query, in characters (a POST is for long ones; a GET's URL bounds it sooner). */
const MAX_QUERY_CHARS = 4096;

const DESCRIPTION =
  'Ranks the memories of `user_id` by how well their key and value match `q`, best first. The key (split on `_ - / .` ' +
  'and camelCase) and every string, number and boolean of the value, with its field names, are searched, folded for ' +
  'case and accents and lightly stemmed. Query syntax: words (any may match: the more, and the rarer, the better), ' +
  '`"a phrase"` (its words in this order), `prefix*`. `mode`: `lexical` (BM25-ranked words), `semantic` (meaning, by ' +
  'the server\'s embedder), `hybrid` (both lists fused by reciprocal rank; the default when the server has an embedder). ' +
  'Ties go to the most recently updated memory. Expired memories are never returned. POST takes the same fields as JSON.';

type Answer = { user_id: string; q: string };

/** The answer, with each value's stored JSON text spliced in (no parse and re-serialize). */
function answer(input: Answer, out: Extract<SearchOutcome, { ok: true }>) {
  const results = out.results.map((r) => {
    const m = r.meta;
    const exp = expiresAt(m);
    return (
      `{"key":${JSON.stringify(m.key)},"score":${Number.isFinite(r.score) ? Number(r.score.toPrecision(6)) : 0},` +
      (r.json === undefined ? '' : `"data":${r.json},`) +
      `"version":${m.version},"etag":${JSON.stringify(m.etag)},"updated_at":"${iso(m.updatedAt)}","expires_at":${exp === null ? 'null' : `"${exp}"`}}`
    );
  });
  const degraded = out.degraded === undefined ? '' : `,"degraded":${JSON.stringify(out.degraded)}`;
  return json(200, `{"status":"success","user_id":${JSON.stringify(input.user_id)},"query":${JSON.stringify(input.q)},"mode":"${out.mode}"${degraded},"results":[${results.join(',')}]}`);
}

export function memorySearchRoutes(deps: SearchRouteDeps): Route[] {
  const { userId } = memoryFields(deps.maxKeyBytes, deps.maxTtlDays);
  const q = storable('q', z.string({ error: (i) => (i.input === undefined ? 'q is required' : 'q must be a string') }).min(1, { error: 'q must not be empty' }).max(MAX_QUERY_CHARS, { error: `q must be at most ${MAX_QUERY_CHARS} characters` }));
  const prefix = storable('prefix', z.string().max(deps.maxKeyBytes, { error: `prefix must be at most ${deps.maxKeyBytes} characters` }));
  const mode = z.enum(['lexical', 'semantic', 'hybrid'], { error: 'mode must be lexical, semantic or hybrid' });
  const limitError = `limit must be an integer between 1 and ${deps.maxLimit}`;
  const common = { user_id: userId, q, prefix: prefix.optional(), mode: mode.optional() };
  const run = async (accountId: string, input: Answer & { limit?: number | undefined; prefix?: string | undefined; include_data?: boolean | undefined; mode?: 'lexical' | 'semantic' | 'hybrid' | undefined }, now: number) => {
    const out = await deps.memory.search(accountId, { userId: input.user_id, q: input.q, limit: input.limit, prefix: input.prefix, includeData: input.include_data, mode: input.mode }, now);
    if (!out.ok) throw refusalError(out.refusal, null);
    return answer(input, out);
  };
  const responses = { 200: ok('Matching memories, best first', MemorySearchResults) };
  return [
    route({
      method: 'GET', path: '/memory/search', auth: 'key', scope: 'memory:read', metered: true,
      summary: "Search a user's memories by words (and by meaning with an embedder).",
      description: DESCRIPTION,
      query: z.object({ ...common, limit: queryInt('limit', 1, deps.maxLimit).optional(), include_data: queryBool('include_data').optional() }),
      responses,
      async handle({ query, caller, now }) {
        return run(caller.accountId, query, now);
      },
    }),
    route({
      method: 'POST', path: '/memory/search', auth: 'key', scope: 'memory:read', metered: true,
      summary: "Search a user's memories (the query in a JSON body, for long queries).",
      description: DESCRIPTION,
      body: z.object({
        ...common,
        limit: z.number({ error: limitError }).int({ error: limitError }).min(1, { error: limitError }).max(deps.maxLimit, { error: limitError }).optional(),
        include_data: z.boolean({ error: 'include_data must be true or false' }).optional(),
      }),
      responses,
      async handle({ body, caller, now }) {
        return run(caller.accountId, body, now);
      },
    }),
  ];
}
