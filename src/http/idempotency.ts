// Idempotency-Key for metered POSTs: an insert-once claim per account holds the fingerprint, then the response.
import { createHash } from 'node:crypto';
import { AipaygentError, invalid } from '../errors.js';
import type { Store } from '../storage/contract.js';
import type { CoreRequest, CoreResponse } from './types.js';

/** A finished call is replayed for 24 h. */
export const IDEMPOTENCY_TTL_MS = 86_400_000;
/**
 * A claim left "in flight" by a crashed process blocks its key this long, then frees itself.
 * Longer than any request we serve (long Claude streams included), so a slow call is never run twice.
 */
export const IN_FLIGHT_TTL_MS = 15 * 60_000;

/** `bd`: the digest of a request body the route streamed (see body-digest.ts), which a replay must match. */
type Claimed =
  | { s: 'pending'; fp: string }
  | { s: 'done'; fp: string; status: number; headers: Record<string, string>; body: string | null; bytes?: true; bd?: string }
  | { s: 'done'; fp: string; streamed: true };

/** A replay of a streamed-body request carries `bodyDigest`: answer it only once the body was read and matched. */
export type Begin = { kind: 'new' } | { kind: 'replay'; response: CoreResponse; bodyDigest?: string | undefined };

const KEY_RE = /^[\x21-\x7e]{1,255}$/;
const claimKey = (key: string) => `idem:${key}`;

/** The Idempotency-Key header of a request, validated; undefined when absent. */
export function idempotencyKeyOf(headers: CoreRequest['headers']): string | undefined {
  const raw = headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? undefined : raw.trim();
  if (key === undefined || !KEY_RE.test(key)) throw invalid('Idempotency-Key must be 1 to 255 visible ASCII characters, sent once');
  return key;
}

/** Stands for the body in the fingerprint of a route that streams its body itself: that body is digested as it is read. */
export const STREAMED_BODY = Symbol('streamed body');

/**
 * What makes two requests "the same": method, path, query and the JSON body as sent. A streamed body
 * (STREAMED_BODY) is compared by its digest, kept with the response (claims made before it was, with
 * the JSON `null` in its place, no longer match: 409, never a replay of another body).
 */
export function fingerprint(method: string, path: string, query: string, rawBody: unknown): string {
  const body = rawBody === STREAMED_BODY ? '<streamed>' : JSON.stringify(rawBody ?? null);
  return createHash('sha256').update(`${method} ${path}?${query}\n${body}`).digest('base64url');
}

/** The 409 of a key reused with another request. */
export const conflict = (message: string) => new AipaygentError('conflict', message);
export const DIFFERENT_REQUEST = 'This Idempotency-Key was already used with a different request (method, path or body); use a new key';

export class Idempotency {
  constructor(private readonly store: Store) {}

  /** Claims the key, or answers with the stored response, or refuses (409) a clash. */
  async begin(accountId: string, key: string, fp: string, now: number): Promise<Begin> {
    const pending: Claimed = { s: 'pending', fp };
    const r = await this.store.claim(accountId, claimKey(key), JSON.stringify(pending), now + IN_FLIGHT_TTL_MS, now);
    if (r.inserted) return { kind: 'new' };
    const found = JSON.parse(r.value) as Claimed;
    if (found.fp !== fp) throw conflict(DIFFERENT_REQUEST);
    if (found.s === 'pending') throw conflict('A request with this Idempotency-Key is still in progress; retry after it has finished');
    if ('streamed' in found) throw conflict('The request with this Idempotency-Key was answered with a stream, which cannot be replayed');
    const body = found.body === null ? null : found.bytes ? Buffer.from(found.body, 'base64') : found.body;
    const response = { status: found.status, headers: Object.assign({}, found.headers, { 'idempotent-replayed': 'true' }), body };
    return { kind: 'replay', response, bodyDigest: found.bd };
  }

  /** Stores the response of a finished (and charged) call for replays; `bodyDigest`: of a body the route streamed. */
  async complete(accountId: string, key: string, fp: string, res: CoreResponse, now: number, bodyDigest?: string): Promise<void> {
    const { body } = res;
    let done: Claimed;
    if (body === null || typeof body === 'string') done = { s: 'done', fp, status: res.status, headers: res.headers, body };
    else if (body instanceof Uint8Array) done = { s: 'done', fp, status: res.status, headers: res.headers, body: Buffer.from(body).toString('base64'), bytes: true };
    else done = { s: 'done', fp, streamed: true };
    if (bodyDigest !== undefined && 'body' in done) done.bd = bodyDigest;
    await this.store.updateClaim(accountId, claimKey(key), JSON.stringify(done), now + IDEMPOTENCY_TTL_MS);
  }

  /** Frees the key when the call was not charged (402, refunded failure): a retry runs anew. */
  abandon(accountId: string, key: string): Promise<void> {
    return this.store.releaseClaim(accountId, claimKey(key));
  }
}
