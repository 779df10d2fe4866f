// The article's memory endpoints: store, retrieve, list, delete one, erase a user (with ETags and conditions).
import { z } from 'zod';
import { AipaygentError, invalid } from '../../errors.js';
import type { MemoryService } from '../../memory/memory-service.js';
import { preconditionHolds } from '../../memory/preconditions.js';
import { iso } from '../../time.js';
import { textProblem } from '../../text.js';
import { queryInt, storable } from '../fields.js';
import { MemoryDeleted, MemoryList, MemoryRetrieved, MemoryStored, ok, UserErased } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';
import { memoryEditRoutes } from './memory-edit.js';
import { expiresAt, memoryFields, preconditionOf, queryBool, refusalError, written } from './memory-http.js';
import { memorySearchRoutes } from './memory-search.js';
import { memoryTransferRoutes } from './memory-transfer.js';

export interface MemoryRouteDeps {
  memory: MemoryService;
  maxKeyBytes: number;
  maxTtlDays: number;
  /** Deepest nesting of a JSON body (import lines are checked against it too). @default 64 */
  maxDepth?: number;
  /** No chunk of an import body for this long is a 408. @default 30000 */
  bodyTimeoutMs?: number;
  /** Largest search `limit`; undefined: search is off (no search routes). */
  maxSearchLimit?: number | undefined;
}

/** Cursors are opaque to clients: base64url of the last key of the page. */
const encodeCursor = (key: string) => Buffer.from(JSON.stringify({ after: key })).toString('base64url');
function decodeCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    // The key it carries reaches the store: the same text rule as any input (a forged cursor is a 400).
    if (typeof parsed.after === 'string' && textProblem(parsed.after) === null) return parsed.after;
  } catch {
    // fall through to the 400 below
  }
  throw invalid('cursor is not a cursor returned by /memory/list');
}

const notFound = (userId: string, key: string) => new AipaygentError('not_found', `No memory "${key}" for user "${userId}"`);

const CONDITIONS =
  'Conditional: `If-Match: "<etag>"` applies the write only to that version of the content (else 412 `precondition_failed`, ' +
  'with the current `version` and `etag`); `If-None-Match: *` creates only when absent. ';

export function memoryRoutes(deps: MemoryRouteDeps): Route[] {
  const { userId, key, ttl } = memoryFields(deps.maxKeyBytes, deps.maxTtlDays);
  const one = z.object({ user_id: userId, key });
  const storeBody = z.object({
    user_id: userId,
    key,
    data: z.unknown().refine((v) => v !== undefined, { error: 'data is required (any JSON value)' }),
    ttl_days: ttl.optional(),
  });

  return [
    route({
      method: 'POST', path: '/memory/store', auth: 'key', scope: 'memory:write', metered: true,
      summary: 'Store a JSON value for a user under a key (creates or overwrites).',
      description: CONDITIONS + 'Every accepted write is a new version, identical content included (the ETag, a content hash, then stays the same) and renews `expires_at`.',
      body: storeBody,
      headers: ['if-match'],
      responses: { 200: ok('Stored', MemoryStored, ['etag']) },
      errors: ['precondition_failed'],
      async handle({ req, body, caller, now }) {
        const input = { userId: body.user_id, key: body.key, data: body.data, ttlDays: body.ttl_days, precondition: preconditionOf(req) };
        const out = await deps.memory.put(caller.accountId, input, now);
        if (!out.ok) throw refusalError(out.refusal, out.current);
        const m = out.meta;
        return json(200, { status: 'success', message: 'Memory stored successfully', key: body.key, user_id: body.user_id, ...written(m) }, { etag: m.etag });
      },
    }),
    route({
      method: 'GET', path: '/memory/retrieve', auth: 'key', scope: 'memory:read', metered: true,
      summary: 'Retrieve one memory; 404 when absent or expired.',
      description:
        '`refresh_on_read=true` pushes `expires_at` forward by the memory\'s own TTL (sliding expiry; a write: `version` +1). ' +
        '`If-None-Match: "<etag>"` answers 304 without a body when the content is unchanged.',
      query: one.extend({ refresh_on_read: queryBool('refresh_on_read').optional() }),
      responses: { 200: ok('The memory, `data` as stored', MemoryRetrieved, ['etag']), 304: ok('Not modified: the content still has the ETag sent in If-None-Match', undefined, ['etag']) },
      errors: ['not_found'],
      async handle({ req, query, caller, now }) {
        const found = await deps.memory.get(caller.accountId, query.user_id, query.key, now, query.refresh_on_read);
        if (!found) throw notFound(query.user_id, query.key);
        const m = found.meta;
        const inm = req.headers['if-none-match'];
        if (typeof inm === 'string') {
          const p = preconditionOf(req);
          if (p?.ifNoneMatch && !preconditionHolds({ ifNoneMatch: p.ifNoneMatch }, true, () => m.etag)) return { status: 304, headers: { etag: m.etag, 'cache-control': 'no-store' }, body: null };
        }
        // The stored JSON text is spliced in as is: no parse and re-serialize on the hot path. The other
        // fields are strings JSON.stringify would leave unescaped (timestamps, a base64url ETag) or numbers.
        const exp = expiresAt(m);
        const body =
          `{"status":"success","user_id":${JSON.stringify(query.user_id)},"key":${JSON.stringify(query.key)},"data":${found.json},` +
          `"expires_at":${exp === null ? 'null' : `"${exp}"`},"version":${m.version},"etag":${JSON.stringify(m.etag)},"size":${m.size},` +
          `"created_at":"${iso(m.createdAt)}","updated_at":"${iso(m.updatedAt)}"}`;
        return json(200, body, { etag: m.etag });
      },
    }),
    route({
      method: 'GET', path: '/memory/list', auth: 'key', scope: 'memory:read', metered: true,
      summary: "List a user's keys (no values), by prefix, with a cursor.",
      query: z.object({
        user_id: userId,
        prefix: storable('prefix', z.string().max(deps.maxKeyBytes, { error: `prefix must be at most ${deps.maxKeyBytes} characters` })).optional(),
        cursor: storable('cursor', z.string().max(4096)).optional(),
        limit: queryInt('limit', 1, 1000).optional(),
      }),
      responses: { 200: ok('One page of keys, in key order', MemoryList) },
      async handle({ query, caller, now }) {
        const limit = query.limit ?? 100;
        const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
        // One extra item tells whether a next page exists without another round trip.
        const items = await deps.memory.list(caller.accountId, query.user_id, { prefix: query.prefix, after, limit: limit + 1 }, now);
        const page = items.slice(0, limit);
        return json(200, {
          status: 'success', user_id: query.user_id,
          keys: page.map((m) => ({ key: m.key, size: m.size, version: m.version, etag: m.etag, updated_at: iso(m.updatedAt), expires_at: expiresAt(m) })),
          next_cursor: items.length > limit ? encodeCursor(page[page.length - 1]!.key) : null,
        });
      },
    }),
    route({
      method: 'DELETE', path: '/memory/delete', auth: 'key', scope: 'memory:write', metered: true,
      summary: 'Delete one memory and its version history; 404 when absent.',
      description: 'Conditional with `If-Match: "<etag>"` (412 `precondition_failed` when the content changed).',
      query: one,
      headers: ['if-match'],
      responses: { 200: ok('Deleted', MemoryDeleted) },
      errors: ['not_found', 'precondition_failed'],
      async handle({ req, query, caller, now }) {
        const out = await deps.memory.delete(caller.accountId, query.user_id, query.key, now, preconditionOf(req));
        if (!out.ok) throw refusalError(out.refusal, out.current);
        if (!out.deleted) throw notFound(query.user_id, query.key);
        return json(200, { status: 'success', message: 'Memory deleted', user_id: query.user_id, key: query.key, deleted: true, deleted_versions: out.deletedVersions });
      },
    }),
    route({
      method: 'DELETE', path: '/memory/user', auth: 'key', scope: 'memory:write', metered: false,
      summary: 'Erase every memory of one user (right to erasure); free.',
      description: 'Removes the values, their search index and vectors, and every kept version; the counts are the receipt.',
      query: z.object({ user_id: userId }),
      responses: { 200: ok('Erased', UserErased) },
      async handle({ query, caller }) {
        const { deletedKeys, deletedVersions, deletedIndexEntries } = await deps.memory.eraseUser(caller.accountId, query.user_id);
        return json(200, { status: 'success', user_id: query.user_id, deleted_keys: deletedKeys, deleted_versions: deletedVersions, deleted_index_entries: deletedIndexEntries });
      },
    }),
    ...memoryEditRoutes(deps),
    ...memoryTransferRoutes(deps),
    ...(deps.maxSearchLimit === undefined ? [] : memorySearchRoutes({ ...deps, maxLimit: deps.maxSearchLimit })),
  ];
}
