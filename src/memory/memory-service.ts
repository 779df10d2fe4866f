// Per-user JSON memory of an account: store, retrieve, list, delete, erase. No HTTP types here.
import { AipaygentError } from '../errors.js';
import type { RecordMeta, Store } from '../storage/contract.js';
import { decodeJson, encodeJson } from './codec.js';

export interface MemoryLimits {
  /** Largest `data` accepted, in bytes of its JSON text. */
  maxValueBytes: number;
  /** Values above this many bytes are stored gzip-compressed. */
  compressAboveBytes: number;
  defaultTtlDays: number | null;
  maxTtlDays: number;
}

export interface StoreInput {
  userId: string;
  key: string;
  data: unknown;
  /** Fractional days; undefined: the default. */
  ttlDays?: number | undefined;
}

/** A retrieved memory: its metadata and the JSON text of its data (not parsed: it is spliced into responses). */
export interface Retrieved {
  meta: RecordMeta;
  json: string;
}

const DAY_MS = 86_400_000;
const collectionOf = (userId: string) => `m:${userId}`;

export class MemoryService {
  constructor(
    private readonly store: Store,
    private readonly limits: MemoryLimits,
  ) {}

  /** Expiry of a write at `now`, rounded up to the second so `expires_at` reads as in the article. */
  expiryOf(ttlDays: number | undefined, now: number): number | null {
    const days = ttlDays ?? this.limits.defaultTtlDays;
    if (days === null) return null;
    return Math.ceil((now + days * DAY_MS) / 1000) * 1000;
  }

  async put(accountId: string, input: StoreInput, now: number): Promise<RecordMeta> {
    const text = JSON.stringify(input.data);
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.limits.maxValueBytes) {
      throw new AipaygentError('payload_too_large', `data is ${bytes} bytes of JSON; the limit is ${this.limits.maxValueBytes}`);
    }
    const encoded = await encodeJson(text, this.limits.compressAboveBytes);
    const result = await this.store.put(
      accountId,
      collectionOf(input.userId),
      input.key,
      { value: encoded.value, size: encoded.size, tag: encoded.etag, expiresAt: this.expiryOf(input.ttlDays, now) },
      now,
    );
    if (!result.ok) throw new Error('unconditional put was refused');
    return result.record;
  }

  async get(accountId: string, userId: string, key: string, now: number): Promise<Retrieved | null> {
    const record = await this.store.get(accountId, collectionOf(userId), key, now);
    if (!record) return null;
    const { value, ...meta } = record;
    return { meta, json: await decodeJson(value) };
  }

  async list(accountId: string, userId: string, query: { prefix?: string; after?: string; limit: number }, now: number): Promise<RecordMeta[]> {
    return this.store.list(accountId, collectionOf(userId), query, now);
  }

  async delete(accountId: string, userId: string, key: string, now: number): Promise<boolean> {
    const result = await this.store.delete(accountId, collectionOf(userId), key, now);
    return result.ok && result.deleted;
  }

  /** Erases everything of one user of the account. */
  async eraseUser(accountId: string, userId: string): Promise<{ deletedKeys: number }> {
    return { deletedKeys: await this.store.purge(accountId, collectionOf(userId)) };
  }
}
