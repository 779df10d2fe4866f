// What the memory route groups share: metadata fields, conditional-request headers, refusals as errors.
import { z } from 'zod';
import { AipaygentError, invalid } from '../../errors.js';
import type { Refusal } from '../../memory/draft.js';
import type { MemoryMeta } from '../../memory/meta.js';
import { parseTagList, type Precondition } from '../../memory/preconditions.js';
import { iso, isoSeconds } from '../../time.js';
import { identifier } from '../fields.js';
import type { CoreRequest } from '../types.js';

export const expiresAt = (m: MemoryMeta) => (m.expiresAt === null ? null : isoSeconds(m.expiresAt));
export const times = (m: MemoryMeta) => ({ created_at: iso(m.createdAt), updated_at: iso(m.updatedAt) });

/** The metadata every write answers with, after its own fields. */
export const written = (m: MemoryMeta) => ({ expires_at: expiresAt(m), version: m.version, etag: m.etag, ...times(m) });

/** Field schemas of the memory routes, built once from the limits. */
export function memoryFields(maxKeyBytes: number, maxTtlDays: number) {
  return {
    userId: identifier('user_id', maxKeyBytes),
    key: identifier('key', maxKeyBytes),
    ttl: z
      .number({ error: 'ttl_days must be a number' })
      .refine((n) => n > 0 && n <= maxTtlDays, { error: `ttl_days must be greater than 0 and at most ${maxTtlDays}` }),
  };
}

/** A boolean query parameter: true/false/1/0. */
export const queryBool = (name: string) =>
  z.enum(['true', 'false', '1', '0'], { error: `${name} must be true or false` }).transform((v) => v === 'true' || v === '1');

function header(req: CoreRequest, name: string): string | undefined {
  const v = req.headers[name];
  if (Array.isArray(v)) return v.join(', ');
  return v;
}

/** If-Match / If-None-Match of the request (undefined when it has neither); a malformed one is a 400. */
export function preconditionOf(req: CoreRequest): Precondition | undefined {
  const ifMatch = header(req, 'if-match');
  const ifNoneMatch = header(req, 'if-none-match');
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  const p: Precondition = {};
  if (ifMatch !== undefined) {
    const list = parseTagList(ifMatch);
    if (!list) throw invalid('If-Match must be "*" or a list of entity tags such as "abc…" (as returned in ETag)');
    p.ifMatch = list;
  }
  if (ifNoneMatch !== undefined) {
    const list = parseTagList(ifNoneMatch);
    if (!list) throw invalid('If-None-Match must be "*" or a list of entity tags such as "abc…" (as returned in ETag)');
    p.ifNoneMatch = list;
  }
  return p;
}

/** The error of a refused write: 412 carries the current version and ETag, 503 a Retry-After. */
export function refusalError(refusal: Refusal, current: MemoryMeta | null): AipaygentError {
  if (refusal.code === 'precondition_failed') {
    return new AipaygentError(refusal.code, refusal.message, { current: current && { version: current.version, etag: current.etag } }, current ? { etag: current.etag } : undefined);
  }
  if (refusal.code === 'store_unavailable') return new AipaygentError(refusal.code, refusal.message, undefined, { 'retry-after': '1' });
  return new AipaygentError(refusal.code, refusal.message);
}
