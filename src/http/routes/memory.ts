// The article's memory endpoints: store, retrieve, list, delete one, erase a user.
import { z } from 'zod';
import { AipaygentError, invalid } from '../../errors.js';
import type { MemoryService } from '../../memory/memory-service.js';
import type { RecordMeta } from '../../storage/contract.js';
import { iso, isoSeconds } from '../../time.js';
import { identifier, queryInt } from '../fields.js';
import { MemoryDeleted, MemoryList, MemoryRetrieved, MemoryStored, ok, UserErased } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';

export interface MemoryRouteDeps {
  memory: MemoryService;
  maxKeyBytes: number;
  maxTtlDays: number;
}

const expiresAt = (m: RecordMeta) => (m.expiresAt === null ? null : isoSeconds(m.expiresAt));
const times = (m: RecordMeta) => ({ created_at: iso(m.createdAt), updated_at: iso(m.updatedAt) });

/** Cursors are opaque to clients: base64url of the last key of the page. */
const encodeCursor = (key: string) => Buffer.from(JSON.stringify({ after: key })).toString('base64url');
function decodeCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through to the 400 below
  }
  throw invalid('cursor is not a cursor returned by /memory/list');
}

export function memoryRoutes(deps: MemoryRouteDeps): Route[] {
  const userId = identifier('user_id', deps.maxKeyBytes);
  const key = identifier('key', deps.maxKeyBytes);
  const one = z.object({ user_id: userId, key });
  const ttl = z
    .number({ error: 'ttl_days must be a number' })
    .refine((n) => n > 0 && n <= deps.maxTtlDays, { error: `ttl_days must be greater than 0 and at most ${deps.maxTtlDays}` });
  const storeBody = z.object({
    user_id: userId,
    key,
    data: z.unknown().refine((v) => v !== undefined, { error: 'data is required (any JSON value)' }),
    ttl_days: ttl.optional(),
  });

  return [
    route({
      method: 'POST', path: '/memory/store', auth: 'key', metered: true,
      summary: 'Store a JSON value for a user under a key (creates or overwrites).',
      body: storeBody,
      responses: { 200: ok('Stored', MemoryStored, ['etag']) },
      async handle({ body, caller, now }) {
        const m = await deps.memory.put(caller.accountId, { userId: body.user_id, key: body.key, data: body.data, ttlDays: body.ttl_days }, now);
        return json(200, {
          status: 'success', message: 'Memory stored successfully', key: body.key, user_id: body.user_id,
          expires_at: expiresAt(m), version: m.version, etag: m.tag, ...times(m),
        }, { etag: m.tag });
      },
    }),
    route({
      method: 'GET', path: '/memory/retrieve', auth: 'key', metered: true,
      summary: 'Retrieve one memory; 404 when absent or expired.',
      query: one,
      responses: { 200: ok('The memory, `data` as stored', MemoryRetrieved, ['etag']) },
      errors: ['not_found'],
      async handle({ query, caller, now }) {
        const found = await deps.memory.get(caller.accountId, query.user_id, query.key, now);
        if (!found) throw new AipaygentError('not_found', `No memory "${query.key}" for user "${query.user_id}"`);
        const m = found.meta;
        // The stored JSON text is spliced in as is: no parse and re-serialize on the hot path.
        const head = JSON.stringify({ status: 'success', user_id: query.user_id, key: query.key });
        const tail = JSON.stringify({ expires_at: expiresAt(m), version: m.version, etag: m.tag, size: m.size, ...times(m) });
        return json(200, `${head.slice(0, -1)},"data":${found.json},${tail.slice(1)}`, { etag: m.tag });
      },
    }),
    route({
      method: 'GET', path: '/memory/list', auth: 'key', metered: true,
      summary: "List a user's keys (no values), by prefix, with a cursor.",
      query: z.object({
        user_id: userId,
        prefix: z.string().max(deps.maxKeyBytes, { error: `prefix must be at most ${deps.maxKeyBytes} characters` }).optional(),
        cursor: z.string().max(4096).optional(),
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
          keys: page.map((m) => ({ key: m.key, size: m.size, version: m.version, etag: m.tag, updated_at: iso(m.updatedAt), expires_at: expiresAt(m) })),
          next_cursor: items.length > limit ? encodeCursor(page[page.length - 1]!.key) : null,
        });
      },
    }),
    route({
      method: 'DELETE', path: '/memory/delete', auth: 'key', metered: true,
      summary: 'Delete one memory; 404 when absent.',
      query: one,
      responses: { 200: ok('Deleted', MemoryDeleted) },
      errors: ['not_found'],
      async handle({ query, caller, now }) {
        if (!(await deps.memory.delete(caller.accountId, query.user_id, query.key, now))) {
          throw new AipaygentError('not_found', `No memory "${query.key}" for user "${query.user_id}"`);
        }
        return json(200, { status: 'success', message: 'Memory deleted', user_id: query.user_id, key: query.key, deleted: true });
      },
    }),
    route({
      method: 'DELETE', path: '/memory/user', auth: 'key', metered: false,
      summary: 'Erase every memory of one user (right to erasure); free.',
      query: z.object({ user_id: userId }),
      responses: { 200: ok('Erased', UserErased) },
      async handle({ query, caller }) {
        const { deletedKeys } = await deps.memory.eraseUser(caller.accountId, query.user_id);
        return json(200, { status: 'success', user_id: query.user_id, deleted_keys: deletedKeys });
      },
    }),
  ];
}
