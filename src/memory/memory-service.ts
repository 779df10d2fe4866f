// Per-user JSON memory of an account: store, retrieve, list, delete, erase, plus conditional writes,
// atomic append, patches, version history and export/import (in the modules beside). No HTTP types here.
import type { Logger } from '../observe/logger.js';
import type { Store } from '../storage/contract.js';
import { jsonDepth } from '../json-limits.js';
import { checkText } from '../text.js';
import { decodeJson, encodeJson } from './codec.js';
import { refuse, type Refusal } from './draft.js';
import { History, type VersionMeta } from './history.js';
import { expiryAt, toMemoryMeta, ttlMsOf, valuesOf, type MemoryMeta } from './meta.js';
import { appendMutation, deleteMutation, jsonPatchMutation, mergePatchMutation, restoreMutation, storeMutation, type AppendInput } from './mutations.js';
import { Mutator, type Mutation, type MutationOutcome, type Target } from './mutator.js';
import { isConditional, type Precondition } from './preconditions.js';
import type { PatchOperation } from './json-patch.js';
import { documentText } from '../search/document.js';
import type { SearchConfig } from '../search/options.js';
import { MemorySearch, type SearchInput, type SearchOutcome } from './memory-search.js';
import type { MemoryVectors } from './memory-vectors.js';
import { formatTag, parseTag } from './tag.js';
import { exportNdjson, importTtlRefusal, type ImportLineResult, type ImportRecord } from './transfer.js';

export interface MemoryLimits {
  /** Largest `data` accepted, in bytes of its JSON text. */
  maxValueBytes: number;
  /** Values above this many bytes are stored gzip-compressed. */
  compressAboveBytes: number;
  defaultTtlDays: number | null;
  maxTtlDays: number;
  /** Versions kept per key (0: no history). */
  historyVersions: number;
  /** Whether a read renews the TTL when the request does not say. */
  refreshOnRead: boolean;
  /** Largest NDJSON body of an import, in bytes. */
  maxImportBytes: number;
  /**
   * Deepest nesting of a request body (`limits.maxDepth`). A memory's data sits one level inside a
   * body (`{"data": …}`), so no write leaves data nested deeper than `maxDepth - 1` levels: every
   * line an export writes is one an import takes back. @default 64
   */
  maxDepth?: number | undefined;
}

export interface StoreInput {
  userId: string;
  key: string;
  data: unknown;
  /** Fractional days; undefined: the default. */
  ttlDays?: number | undefined;
  precondition?: Precondition | undefined;
}

/** A retrieved memory: its metadata and the JSON text of its data (not parsed: it is spliced into responses). */
export interface Retrieved {
  meta: MemoryMeta;
  json: string;
}

/** Result of a write: the memory after it, or why it was refused (412, 409, 404, 413, 503). */
export type WriteOutcome = { ok: true; meta: MemoryMeta; facts: Record<string, unknown> } | { ok: false; refusal: Refusal; current: MemoryMeta | null };

export type DeleteOutcome = { ok: true; deleted: boolean; deletedVersions: number } | { ok: false; refusal: Refusal; current: MemoryMeta | null };

/**
 * The text rule of every store (see text.ts) on a call's user and key: the HTTP door checks more
 * (length, control characters), and a host calling `ai.api.memory` gets at least this, on every backend.
 */
function checkTarget(userId: string, key?: string): void {
  checkText('user_id', userId);
  checkText('key', key);
}

export class MemoryService {
  private readonly history: History;
  private readonly mutator: Mutator;
  /** Deepest nesting a memory's data may have (see MemoryLimits.maxDepth). */
  readonly maxDataDepth: number;
  /** The search document of a value, written with it ('' when search is off). */
  private readonly index: (key: string, value: unknown) => string;

  /** Search of the user's memories (undefined: `search: false`). */
  readonly searcher: MemorySearch | undefined;

  constructor(
    private readonly store: Store,
    readonly limits: MemoryLimits,
    logger: Logger = console,
    search?: { config: SearchConfig; vectors: MemoryVectors | undefined },
    private readonly vectors = search?.vectors,
  ) {
    this.searcher = search && new MemorySearch(store, search.config, search.vectors);
    this.maxDataDepth = (limits.maxDepth ?? 64) - 1;
    this.history = new History(store, limits.historyVersions, logger);
    // Search off: every write clears its record's index (''), so turning search on again never finds stale words.
    this.index = search ? documentText : () => '';
    this.mutator = new Mutator(store, this.history, {
      maxValueBytes: limits.maxValueBytes, maxDepth: this.maxDataDepth, compressAboveBytes: limits.compressAboveBytes, defaultTtlMs: this.ttlOf(undefined), index: this.index,
    });
  }

  /** Whether a store could give a memory this TTL: at most maxTtlDays; never expiring only when that is the default. */
  ttlAllowed(ttlMs: number | null): boolean {
    return ttlMs === null ? this.limits.defaultTtlDays === null : ttlMs <= ttlMsOf(this.limits.maxTtlDays);
  }

  /** TTL in ms of a write giving `ttlDays` (undefined: the default; null: never expires). */
  ttlOf(ttlDays: number | undefined): number | null {
    const days = ttlDays ?? this.limits.defaultTtlDays;
    return days === null ? null : ttlMsOf(days);
  }

  /** Expiry of a write at `now`, rounded up to the second so `expires_at` reads as in the article. */
  expiryOf(ttlDays: number | undefined, now: number): number | null {
    return expiryAt(this.ttlOf(ttlDays), now);
  }

  private tooLarge(bytes: number): Refusal | null {
    return bytes > this.limits.maxValueBytes ? refuse('payload_too_large', `data is ${bytes} bytes of JSON; the limit is ${this.limits.maxValueBytes}`) : null;
  }

  /**
   * Stores `data` (creates or overwrites). Every accepted write is a new version, even when the
   * content is identical: the version counts writes, while the ETag (a content hash) stays the same.
   */
  async put(accountId: string, input: StoreInput, now: number): Promise<WriteOutcome> {
    checkTarget(input.userId, input.key);
    const text = JSON.stringify(input.data);
    const bytes = Buffer.byteLength(text, 'utf8');
    const big = this.tooLarge(bytes);
    if (big) return { ok: false, refusal: big, current: null };
    const ttlMs = this.ttlOf(input.ttlDays);
    const encoded = await encodeJson(text, this.limits.compressAboveBytes);
    const p = input.precondition;
    // Only "If-None-Match: *" maps onto one conditional put; other conditions need the current ETag.
    if (isConditional(p) && !(p.ifMatch === undefined && p.ifNoneMatch === '*')) {
      return this.mutate(accountId, input, storeMutation(text, encoded.etag, ttlMs, p));
    }
    const expect = p?.ifNoneMatch === '*' ? { absent: true as const } : undefined;
    const tag = formatTag({ etag: encoded.etag, ttlMs });
    const put = { value: encoded.value, size: bytes, tag, expiresAt: expiryAt(ttlMs, now), index: this.index(input.key, input.data) };
    const result = await this.store.put(accountId, valuesOf(input.userId), input.key, put, now, expect);
    if (!result.ok) {
      return { ok: false, refusal: refuse('precondition_failed', 'The memory already exists (If-None-Match: *)'), current: result.current && toMemoryMeta(result.current) };
    }
    const meta = toMemoryMeta(result.record);
    await this.history.record(accountId, input.userId, input.key, Object.assign({}, meta, { value: encoded.value, operation: 'store' }), now);
    this.vectors?.written(accountId, input.userId, input.key);
    return { ok: true, meta, facts: {} };
  }

  /**
   * Reads a memory: one store round trip. With `refresh` (or the `refreshOnRead` option) a read also
   * pushes `expires_at` forward by the memory's own TTL; that is a write (version +1, ETag unchanged).
   */
  async get(accountId: string, userId: string, key: string, now: number, refresh?: boolean): Promise<Retrieved | null> {
    checkTarget(userId, key);
    const record = await this.store.get(accountId, valuesOf(userId), key, now);
    if (!record) return null;
    let meta = toMemoryMeta(record);
    if ((refresh ?? this.limits.refreshOnRead) && meta.ttlMs !== null) {
      const expiresAt = expiryAt(meta.ttlMs, now);
      // Unchanged bytes, tag and index (none given: the store keeps it); a concurrent write wins the CAS and set its own expiry: nothing to retry.
      const put = { value: record.value, size: meta.size, tag: record.tag, expiresAt };
      const renewed = await this.store.put(accountId, valuesOf(userId), key, put, now, { version: meta.version });
      if (renewed.ok) meta = toMemoryMeta(renewed.record);
    }
    // Plain JSON text is decoded on the spot; only a gzipped value may need a trip to the thread pool.
    const json = decodeJson(record.value);
    return { meta, json: typeof json === 'string' ? json : await json };
  }

  async list(accountId: string, userId: string, query: { prefix?: string | undefined; after?: string | undefined; limit: number }, now: number): Promise<MemoryMeta[]> {
    checkTarget(userId);
    checkText('prefix', query.prefix);
    checkText('after', query.after);
    return (await this.store.list(accountId, valuesOf(userId), query, now)).map(toMemoryMeta);
  }

  /** Deletes one memory and its history. */
  async delete(accountId: string, userId: string, key: string, now: number, precondition?: Precondition): Promise<DeleteOutcome> {
    checkTarget(userId, key);
    if (isConditional(precondition)) {
      const out = await this.mutator.run({ accountId, userId, key }, deleteMutation(precondition));
      if (!out.ok) return out;
    } else {
      const result = await this.store.delete(accountId, valuesOf(userId), key, now);
      if (!(result.ok && result.deleted)) return { ok: true, deleted: false, deletedVersions: 0 };
    }
    await this.vectors?.deleted(accountId, userId, key, now);
    return { ok: true, deleted: true, deletedVersions: await this.history.dropKey(accountId, userId, key, now) };
  }

  /**
   * Erases everything of one user of the account: values with their search index (one entry per value),
   * vectors, and every kept version. `deletedIndexEntries` counts the index entries and vectors removed.
   */
  async eraseUser(accountId: string, userId: string): Promise<{ deletedKeys: number; deletedVersions: number; deletedIndexEntries: number }> {
    checkTarget(userId);
    const deletedKeys = await this.store.purge(accountId, valuesOf(userId));
    const vectors = (await this.vectors?.erase(accountId, userId)) ?? 0;
    return { deletedKeys, deletedVersions: await this.history.dropUser(accountId, userId), deletedIndexEntries: (this.searcher ? deletedKeys : 0) + vectors };
  }

  /** Searches a user's memories (see MemorySearch); a refusal when search is off. */
  search(accountId: string, input: SearchInput, now: number): Promise<SearchOutcome> {
    checkTarget(input.userId);
    checkText('prefix', input.prefix);
    if (!this.searcher) return Promise.resolve({ ok: false, refusal: refuse('not_found', 'Search is off on this server (the search option is false)') });
    return this.searcher.search(accountId, input, now);
  }

  /** Appends items to the array at a JSON Pointer, atomically (see Mutator). */
  append(accountId: string, t: { userId: string; key: string }, input: AppendInput): Promise<WriteOutcome> {
    return this.mutate(accountId, t, appendMutation(input));
  }

  /** JSON Merge Patch (RFC 7396); creates the memory when absent. */
  mergePatch(accountId: string, t: { userId: string; key: string }, patch: unknown, ttlDays: number | undefined, precondition?: Precondition): Promise<WriteOutcome> {
    return this.mutate(accountId, t, mergePatchMutation(patch, ttlDays === undefined ? undefined : ttlMsOf(ttlDays), precondition));
  }

  /** JSON Patch (RFC 6902) of an existing memory: all operations or none; its copies total at most maxValueBytes. */
  jsonPatch(accountId: string, t: { userId: string; key: string }, ops: PatchOperation[], precondition?: Precondition): Promise<WriteOutcome> {
    return this.mutate(accountId, t, jsonPatchMutation(ops, precondition, this.limits.maxValueBytes));
  }

  /**
   * Writes a kept version back as the newest one, with its own TTL renewed from now. A version the
   * limits of today would refuse (written under other limits) is refused when too deep, and takes
   * the default TTL when its own is no longer allowed.
   */
  async restore(accountId: string, t: { userId: string; key: string }, version: number, now: number, precondition?: Precondition): Promise<WriteOutcome> {
    checkTarget(t.userId, t.key);
    const old = await this.history.get(accountId, t.userId, t.key, version, now);
    if (!old) return { ok: false, refusal: refuse('not_found', `Version ${version} of "${t.key}" is not in the history`), current: null };
    const text = await decodeJson(old.value);
    if (jsonDepth(JSON.parse(text), this.maxDataDepth) > this.maxDataDepth) {
      return { ok: false, refusal: refuse('invalid_request', `Version ${version} is nested deeper than ${this.maxDataDepth} levels, the most a memory's data may have now`), current: null };
    }
    const own = toMemoryMeta(old).ttlMs;
    const ttlMs = this.ttlAllowed(own) ? own : this.ttlOf(undefined);
    return this.mutate(accountId, t, restoreMutation(text, parseTag(old.tag).etag, ttlMs, version, precondition));
  }

  /** The kept versions of a key, newest first, with their data when asked. */
  async versions(accountId: string, userId: string, key: string, now: number, withData = false): Promise<Array<VersionMeta & { json?: string }>> {
    checkTarget(userId, key);
    const list = await this.history.list(accountId, userId, key, now);
    if (!withData) return list;
    const records = await Promise.all(list.map((v) => this.history.get(accountId, userId, key, v.version, now)));
    const out: Array<VersionMeta & { json?: string }> = [];
    for (let i = 0; i < list.length; i++) if (records[i]) out.push(Object.assign({}, list[i]!, { json: await decodeJson(records[i]!.value) }));
    return out;
  }

  /** Every live memory of a user as NDJSON chunks, streamed page by page. */
  exportUser(accountId: string, userId: string, now: number): AsyncGenerator<string> {
    checkTarget(userId);
    return exportNdjson(this.store, accountId, userId, now);
  }

  /** Writes one imported record (overwrite, or only when absent with `skipExisting`), by the rules of a store. */
  async importRecord(accountId: string, userId: string, rec: ImportRecord, now: number, skipExisting: boolean): Promise<ImportLineResult | Refusal> {
    checkTarget(userId, rec.key);
    const bytes = Buffer.byteLength(rec.text, 'utf8');
    const big = this.tooLarge(bytes);
    if (big) return big;
    const ttlRefusal = importTtlRefusal(rec, now, this.limits.maxTtlDays, (ms) => this.ttlAllowed(ms));
    if (ttlRefusal) return ttlRefusal;
    const expiresAt = rec.expiresAt !== undefined ? rec.expiresAt : expiryAt(rec.ttlMs !== undefined ? rec.ttlMs : this.ttlOf(undefined), now);
    if (expiresAt !== null && expiresAt <= now) return 'expired';
    const ttlMs = rec.ttlMs !== undefined ? rec.ttlMs : expiresAt === null ? null : Math.max(1000, expiresAt - now);
    const encoded = await encodeJson(rec.text, this.limits.compressAboveBytes);
    const input = { value: encoded.value, size: bytes, tag: formatTag({ etag: encoded.etag, ttlMs }), expiresAt, index: this.index(rec.key, JSON.parse(rec.text)) };
    const result = await this.store.put(accountId, valuesOf(userId), rec.key, input, now, skipExisting ? { absent: true } : undefined);
    if (!result.ok) return 'skipped';
    await this.history.record(accountId, userId, rec.key, Object.assign(toMemoryMeta(result.record), { value: encoded.value, operation: 'import' }), now);
    this.vectors?.written(accountId, userId, rec.key);
    return 'imported';
  }

  private async mutate(accountId: string, t: { userId: string; key: string }, m: Mutation): Promise<WriteOutcome> {
    checkTarget(t.userId, t.key);
    const target: Target = { accountId, userId: t.userId, key: t.key };
    const out: MutationOutcome = await this.mutator.run(target, m);
    if (!out.ok) return out;
    if (out.written) this.vectors?.written(accountId, t.userId, t.key);
    if (!out.meta) return { ok: false, refusal: refuse('not_found', `No memory "${t.key}" for user "${t.userId}"`), current: null };
    return { ok: true, meta: out.meta, facts: out.facts };
  }
}
