// Memory edits that concurrent agents can share: atomic append, merge patch, JSON Patch, history and restore.
import { z } from 'zod';
import { parsePointer } from '../../memory/json-pointer.js';
import type { MemoryService, WriteOutcome } from '../../memory/memory-service.js';
import { iso } from '../../time.js';
import { ok } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';
import { expiresAt, memoryFields, preconditionOf, queryBool, refusalError, written } from './memory-http.js';

interface Deps {
  memory: MemoryService;
  maxKeyBytes: number;
  maxTtlDays: number;
  /** Deepest nesting of a JSON body: a pointer has at most this many segments. @default 64 */
  maxDepth?: number | undefined;
}

/** Most items one append or operations one JSON Patch may carry. */
const MAX_ITEMS = 1000;

/** A JSON Pointer of at most `maxDepth` segments: a longer one could only reach deeper than any body (or memory) may nest. */
const pointerOf = (maxDepth: number) => (name: string) =>
  z
    .string({ error: `${name} must be a JSON Pointer string such as "/messages"` })
    .refine((p) => parsePointer(p) !== null, { error: `${name} must be a JSON Pointer ("" or "/a/b", with ~0 for "~" and ~1 for "/")` })
    .refine((p) => (parsePointer(p)?.length ?? 0) <= maxDepth, { error: `${name} must have at most ${maxDepth} segments (limits.maxDepth, the nesting limit of a JSON body)` });

const Written = z.looseObject({ status: z.literal('success'), user_id: z.string(), key: z.string(), version: z.number().int(), etag: z.string() });
const CONDITIONAL = 'Conditional with `If-Match: "<etag>"` (412 `precondition_failed`, with the current `version` and `etag`, when the content changed). ';

export function memoryEditRoutes(deps: Deps): Route[] {
  const { userId, key, ttl } = memoryFields(deps.maxKeyBytes, deps.maxTtlDays);
  const pointer = pointerOf(deps.maxDepth ?? 64);
  const operation = z.discriminatedUnion('op', [
    z.object({ op: z.enum(['add', 'replace', 'test']), path: pointer('path'), value: z.unknown() }).refine((o) => o.value !== undefined, { error: 'add, replace and test need a value' }),
    z.object({ op: z.literal('remove'), path: pointer('path') }),
    z.object({ op: z.enum(['move', 'copy']), path: pointer('path'), from: pointer('from') }),
  ], { error: 'each operation needs op: add, remove, replace, move, copy or test' });

  const answer = (out: WriteOutcome, body: { user_id: string; key: string }, message: string, extra: Record<string, unknown> = {}) => {
    if (!out.ok) throw refusalError(out.refusal, out.current);
    const m = out.meta;
    return json(200, { status: 'success', message, user_id: body.user_id, key: body.key, ...extra, ...out.facts, ...written(m) }, { etag: m.etag });
  };

  return [
    route({
      method: 'POST', path: '/memory/append', auth: 'key', scope: 'memory:write', metered: true,
      summary: 'Append items to an array inside a memory, atomically (concurrent appends never lose items).',
      description:
        '`path` is a JSON Pointer to the array (`/messages`; absent: the whole value). The memory, missing objects on the way and the array ' +
        'are created when absent; `max_items` keeps only the last N. Without `ttl_days` the memory keeps its own TTL, renewed. ' + CONDITIONAL +
        'A path that is not an array is 409 `conflict`.',
      body: z.object({
        user_id: userId, key,
        path: pointer('path').optional(),
        items: z.array(z.unknown(), { error: 'items must be an array of JSON values' }).min(1, { error: 'items must not be empty' }).max(MAX_ITEMS, { error: `items may hold at most ${MAX_ITEMS} values` }),
        max_items: z.number().int({ error: 'max_items must be an integer' }).min(1, { error: 'max_items must be at least 1' }).max(1_000_000, { error: 'max_items must be at most 1000000' }).optional(),
        ttl_days: ttl.optional(),
      }),
      headers: ['if-match'],
      responses: { 200: ok('Appended: `length` is the array length after this write', Written.extend({ length: z.number().int() }), ['etag']) },
      errors: ['conflict', 'precondition_failed', 'payload_too_large'],
      async handle({ req, body, caller }) {
        const out = await deps.memory.append(caller.accountId, { userId: body.user_id, key: body.key }, {
          path: parsePointer(body.path ?? '')!, items: body.items, maxItems: body.max_items,
          ttlMs: body.ttl_days === undefined ? undefined : deps.memory.ttlOf(body.ttl_days), precondition: preconditionOf(req),
        });
        return answer(out, body, 'Items appended');
      },
    }),
    route({
      method: 'PATCH', path: '/memory/patch', auth: 'key', scope: 'memory:write', metered: true,
      summary: 'Apply a JSON Merge Patch (RFC 7396) to a memory, atomically; creates it when absent.',
      description: '`patch`: members set to null are removed, objects merge recursively, anything else replaces. ' + CONDITIONAL,
      body: z.object({ user_id: userId, key, patch: z.unknown().refine((v) => v !== undefined, { error: 'patch is required (a JSON value, usually an object)' }), ttl_days: ttl.optional() }),
      headers: ['if-match'],
      responses: { 200: ok('Patched', Written, ['etag']) },
      errors: ['precondition_failed', 'payload_too_large'],
      async handle({ req, body, caller }) {
        const out = await deps.memory.mergePatch(caller.accountId, { userId: body.user_id, key: body.key }, body.patch, body.ttl_days, preconditionOf(req));
        return answer(out, body, 'Memory patched');
      },
    }),
    route({
      method: 'POST', path: '/memory/patch', auth: 'key', scope: 'memory:write', metered: true,
      summary: 'Apply a JSON Patch (RFC 6902) to a memory, atomically: all operations or none.',
      description:
        '`operations`: add, remove, replace, move, copy, test. A failed `test`, or a path that does not exist, is 409 `conflict` ' +
        '(the state of the memory conflicts with the patch; 412 is kept for If-Match). A patch of tests only writes nothing. ' + CONDITIONAL,
      body: z.object({
        user_id: userId, key,
        operations: z.array(operation, { error: 'operations must be an array of JSON Patch operations' }).min(1, { error: 'operations must not be empty' }).max(MAX_ITEMS, { error: `at most ${MAX_ITEMS} operations` }),
      }),
      headers: ['if-match'],
      responses: { 200: ok('Patched', Written, ['etag']) },
      errors: ['not_found', 'conflict', 'precondition_failed', 'payload_too_large'],
      async handle({ req, body, caller }) {
        const out = await deps.memory.jsonPatch(caller.accountId, { userId: body.user_id, key: body.key }, body.operations, preconditionOf(req));
        return answer(out, body, 'Memory patched');
      },
    }),
    route({
      method: 'GET', path: '/memory/history', auth: 'key', scope: 'memory:read', metered: true,
      summary: 'The last versions of a memory (newest first), with the operation that made each.',
      description: '`include_data=true` adds each version\'s `data`. The history goes with the key on delete and with the user on erasure.',
      query: z.object({ user_id: userId, key, include_data: queryBool('include_data').optional() }),
      responses: { 200: ok('Kept versions, newest first', z.looseObject({ status: z.literal('success'), versions: z.array(z.looseObject({ version: z.number().int(), operation: z.string() })) })) },
      async handle({ query, caller, now }) {
        const versions = await deps.memory.versions(caller.accountId, query.user_id, query.key, now, query.include_data);
        const head = JSON.stringify({ status: 'success', user_id: query.user_id, key: query.key });
        const items = versions.map((v) => {
          const meta = JSON.stringify({
            version: v.version, operation: v.operation, ...(v.restoredFrom === null ? {} : { restored_from: v.restoredFrom }),
            etag: v.etag, size: v.size, updated_at: iso(v.updatedAt), expires_at: expiresAt(v),
          });
          return v.json === undefined ? meta : `${meta.slice(0, -1)},"data":${v.json}}`;
        });
        return json(200, `${head.slice(0, -1)},"versions":[${items.join(',')}]}`);
      },
    }),
    route({
      method: 'POST', path: '/memory/restore', auth: 'key', scope: 'memory:write', metered: true,
      summary: 'Write a kept version back as the newest one.',
      description: 'The restored content gets a new version (the history says `restore` and `restored_from`). ' + CONDITIONAL,
      body: z.object({ user_id: userId, key, version: z.number().int({ error: 'version must be an integer' }).min(1, { error: 'version must be at least 1' }) }),
      headers: ['if-match'],
      responses: { 200: ok('Restored', Written.extend({ restored_version: z.number().int() }), ['etag']) },
      errors: ['not_found', 'precondition_failed'],
      async handle({ req, body, caller, now }) {
        const out = await deps.memory.restore(caller.accountId, { userId: body.user_id, key: body.key }, body.version, now, preconditionOf(req));
        return answer(out, body, `Version ${body.version} restored`, { restored_version: body.version });
      },
    }),
  ];
}


