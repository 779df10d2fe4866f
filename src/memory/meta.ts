// What the memory API says about a record: the store's metadata with the content ETag and TTL read from its tag.
import type { RecordMeta } from '../storage/contract.js';
import { parseTag } from './tag.js';

export const DAY_MS = 86_400_000;

/** Metadata of one memory. `version` is the store's write counter: +1 on every accepted write. */
export interface MemoryMeta {
  key: string;
  version: number;
  /** Strong ETag of the JSON content: equal content, equal tag, on every backend. */
  etag: string;
  /** Bytes of the JSON text. */
  size: number;
  createdAt: number;
  updatedAt: number;
  expiresAt: number | null;
  /** The TTL of the last write, which a sliding refresh renews; null: never expires. */
  ttlMs: number | null;
}

/** Collection of a user's memories. */
export const valuesOf = (userId: string) => `m:${userId}`;
/** Collection of a user's version history (so that purging it erases every version at once). */
export const historyOf = (userId: string) => `h:${userId}`;

export function toMemoryMeta(m: RecordMeta): MemoryMeta {
  const tag = parseTag(m.tag);
  // Records written before the TTL was kept in the tag: their TTL is what the last write gave them.
  const ttlMs = tag.ttlMs ?? (m.expiresAt === null ? null : Math.max(1000, m.expiresAt - m.updatedAt));
  return { key: m.key, version: m.version, etag: tag.etag, size: m.size, createdAt: m.createdAt, updatedAt: m.updatedAt, expiresAt: m.expiresAt, ttlMs };
}

/** TTL in integer ms of `ttlDays` (fractional days allowed). */
export const ttlMsOf = (ttlDays: number): number => Math.max(1, Math.round(ttlDays * DAY_MS));

/** Expiry of a write at `now`, rounded up to the second so `expires_at` reads as in the article. */
export const expiryAt = (ttlMs: number | null, now: number): number | null => (ttlMs === null ? null : Math.ceil((now + ttlMs) / 1000) * 1000);
