// Export and import of one user's memories as NDJSON (streamed both ways, never buffered whole).
import { z } from 'zod';
import { AipaygentError } from '../../errors.js';
import { jsonProblem, jsonProblemMessage } from '../../json-limits.js';
import { refuse, type Refusal } from '../../memory/draft.js';
import { ttlMsOf } from '../../memory/meta.js';
import type { MemoryService } from '../../memory/memory-service.js';
import { importNdjson, type ImportRecord } from '../../memory/transfer.js';
import { ok } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';
import type { CoreRequest } from '../types.js';
import { memoryFields, queryBool } from './memory-http.js';

interface Deps {
  memory: MemoryService;
  maxKeyBytes: number;
  maxTtlDays: number;
  maxDepth?: number | undefined;
  /** No chunk of an import body for this long is a 408. @default 30000 */
  bodyTimeoutMs?: number | undefined;
}

const NDJSON = 'application/x-ndjson';
const NDJSON_TYPES = new Set([NDJSON, 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines']);
/** Writes of an import in flight at once: enough to hide round trips, few enough to be gentle on the store. */
const IMPORT_CONCURRENCY = 16;

/** The body of an import as chunks, whoever read it: a stream we read now, or text/bytes a host parser left. */
function bodyChunks(req: CoreRequest, limit: number, timeoutMs: number): AsyncIterable<Uint8Array> {
  const body = req.body;
  if (body.kind === 'none') return (async function* () {})();
  if (body.kind === 'stream') {
    if (body.chunks) return body.chunks(limit, timeoutMs);
    return (async function* () {
      yield await body.read(limit, timeoutMs);
    })();
  }
  const v = body.value;
  if (typeof v === 'string' || v instanceof Uint8Array) {
    const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    if (bytes.byteLength > limit) throw new AipaygentError('payload_too_large', `Request body exceeds ${limit} bytes`);
    return (async function* () {
      yield bytes;
    })();
  }
  throw new AipaygentError('unsupported_media_type', `The host parsed this body already; send it as ${NDJSON}`);
}

export function memoryTransferRoutes(deps: Deps): Route[] {
  const { userId, key, ttl } = memoryFields(deps.maxKeyBytes, deps.maxTtlDays);
  const maxDepth = deps.maxDepth ?? 64;
  const line = z.looseObject({
    key,
    data: z.unknown().refine((v) => v !== undefined, { error: 'data is required (any JSON value)' }),
    expires_at: z.union([z.iso.datetime({ offset: true }), z.null()], { error: 'expires_at must be an ISO 8601 date-time or null' }).optional(),
    ttl_days: z.union([ttl, z.null()]).optional(),
  });

  function parseLine(text: string): ImportRecord | Refusal {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return refuse('invalid_request', `not JSON (${(error as Error).message})`);
    }
    // A line is checked as a body is: an export line of data a store accepted always passes.
    const problem = jsonProblem(value, maxDepth);
    if (problem) return refuse('invalid_request', jsonProblemMessage('the line', problem, maxDepth));
    const r = line.safeParse(value);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      return refuse('invalid_request', issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : 'each line must be a JSON object');
    }
    const { key: k, data, expires_at: exp, ttl_days: days } = r.data;
    return {
      key: k, text: JSON.stringify(data),
      expiresAt: exp === undefined ? undefined : exp === null ? null : Date.parse(exp),
      ttlMs: days === undefined ? undefined : days === null ? null : ttlMsOf(days),
    };
  }

  return [
    route({
      method: 'GET', path: '/memory/export', auth: 'key', scope: 'memory:read', metered: true,
      summary: "Export every memory of a user as NDJSON (one record a line, streamed).",
      description: 'Each line: `{"key","data","version","etag","size","created_at","updated_at","expires_at","ttl_days"}`. POST it to /memory/import to restore it.',
      query: z.object({ user_id: userId }),
      responses: { 200: { description: 'NDJSON, one memory a line, in key order', media: [NDJSON] } },
      async handle({ query, caller, now }) {
        return {
          status: 200,
          headers: { 'content-type': `${NDJSON}; charset=utf-8`, 'cache-control': 'no-store' },
          body: deps.memory.exportUser(caller.accountId, query.user_id, now),
        };
      },
    }),
    route({
      method: 'POST', path: '/memory/import', auth: 'key', scope: 'memory:write', metered: true,
      summary: 'Import NDJSON memories (as /memory/export writes them) for a user; one call, whatever the number of lines.',
      description:
        `Body: ${NDJSON}, one \`{"key","data","expires_at"?,"ttl_days"?}\` a line (other fields are ignored). Values, keys and expiry come back ` +
        'exactly; versions start anew. Existing keys are overwritten unless `skip_existing=true`; lines already expired are counted, not written. ' +
        'The first bad line stops the import with a 400 naming it; the lines before it stay imported (importing again is safe).',
      query: z.object({ user_id: userId, skip_existing: queryBool('skip_existing').optional() }),
      responses: { 200: ok('Imported', z.looseObject({ status: z.literal('success'), lines: z.number().int(), imported: z.number().int(), skipped: z.number().int(), expired: z.number().int() })) },
      errors: ['payload_too_large', 'unsupported_media_type'],
      async handle({ req, query, caller, now }) {
        const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (!NDJSON_TYPES.has(type)) throw new AipaygentError('unsupported_media_type', `Send the body as ${NDJSON} (got "${type || 'no content-type'}")`);
        const limits = deps.memory.limits;
        const out = await importNdjson(bodyChunks(req, limits.maxImportBytes, deps.bodyTimeoutMs ?? 30_000), {
          maxLineBytes: limits.maxValueBytes + 64 * 1024 + 4 * deps.maxKeyBytes,
          concurrency: IMPORT_CONCURRENCY,
          parse: parseLine,
          write: (rec) => deps.memory.importRecord(caller.accountId, query.user_id, rec, now, query.skip_existing ?? false),
          signal: req.signal,
        });
        const counts = { lines: out.lines, imported: out.imported, skipped: out.skipped, expired: out.expired };
        if (!out.ok) throw new AipaygentError(out.refusal.code, out.refusal.message, { line: out.line, ...counts });
        return json(200, { status: 'success', user_id: query.user_id, ...counts });
      },
    }),
  ];
}


