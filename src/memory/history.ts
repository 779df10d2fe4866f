// Version history: the last N versions of each key, kept as records of the collection `h:<userId>`.
//
// Keys are `<key>\u0001<version, 12 digits>`: user keys never contain control characters, so the
// prefix `<key>\u0001` lists exactly one key's versions, oldest first (and Postgres text accepts
// \u0001, unlike \u0000). Each entry copies the version's bytes and expires with that version.
import type { Logger } from '../observe/logger.js';
import type { Store, StoredRecord } from '../storage/contract.js';
import { historyOf, toMemoryMeta, type MemoryMeta } from './meta.js';
import { formatTag, parseTag } from './tag.js';

const SEP = '\u0001';
const entryKey = (key: string, version: number) => `${key}${SEP}${String(version).padStart(12, '0')}`;
const versionOf = (entry: string) => Number(entry.slice(entry.lastIndexOf(SEP) + 1));

/** One version as the history lists it. */
export interface VersionMeta extends MemoryMeta {
  /** What produced the version: store, append, merge_patch, json_patch, restore, import (joined by "+" when batched). */
  operation: string;
  restoredFrom: number | null;
}

/** What a write hands to the history. */
export interface VersionInput {
  version: number;
  value: Uint8Array;
  size: number;
  etag: string;
  ttlMs: number | null;
  expiresAt: number | null;
  operation: string;
  restoredFrom?: number | undefined;
}

export class History {
  constructor(
    private readonly store: Store,
    /** How many versions per key are kept; 0: none. */
    readonly versions: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Records a version right after its write succeeded, and drops versions beyond the last N.
   * A failure here is logged, never thrown: the write itself has already happened.
   */
  async record(account: string, userId: string, key: string, v: VersionInput, now: number): Promise<void> {
    if (this.versions === 0) return;
    const tag = formatTag({ etag: v.etag, ttlMs: v.ttlMs, op: v.operation, restoredFrom: v.restoredFrom });
    try {
      await Promise.all([
        this.store.put(account, historyOf(userId), entryKey(key, v.version), { value: v.value, size: v.size, tag, expiresAt: v.expiresAt }, now),
        v.version > this.versions ? this.prune(account, userId, key, v.version, now) : undefined,
      ]);
    } catch (error) {
      this.logger.error('aipaygent: a memory version could not be added to its history', error);
    }
  }

  /**
   * Deletes what is older than the newest N among the listed versions plus `version`. Concurrent
   * writers may each prune: an entry is deleted only when N newer ones exist, so the last N survive.
   */
  private async prune(account: string, userId: string, key: string, version: number, now: number): Promise<void> {
    const listed = (await this.store.list(account, historyOf(userId), { prefix: key + SEP, limit: 1000 }, now)).map((m) => versionOf(m.key));
    const all = [...new Set([...listed, version])].sort((a, b) => b - a);
    const stale = all.slice(this.versions).filter((n) => n !== version);
    await Promise.all(stale.map((n) => this.store.delete(account, historyOf(userId), entryKey(key, n), now)));
  }

  /** The kept versions of a key, newest first. */
  async list(account: string, userId: string, key: string, now: number): Promise<VersionMeta[]> {
    if (this.versions === 0) return [];
    const metas = await this.store.list(account, historyOf(userId), { prefix: key + SEP, limit: 1000 }, now);
    return metas
      .slice(-this.versions)
      .reverse()
      .map((m) => {
        const tag = parseTag(m.tag);
        return Object.assign(toMemoryMeta(m), { key, version: versionOf(m.key), operation: tag.op ?? 'store', restoredFrom: tag.restoredFrom ?? null });
      });
  }

  /** One kept version with its bytes, or null. */
  get(account: string, userId: string, key: string, version: number, now: number): Promise<StoredRecord | null> {
    return this.store.get(account, historyOf(userId), entryKey(key, version), now);
  }

  /** Removes every version of one key (the key was deleted); returns how many there were. */
  async dropKey(account: string, userId: string, key: string, now: number): Promise<number> {
    let dropped = 0;
    for (;;) {
      const page = await this.store.list(account, historyOf(userId), { prefix: key + SEP, limit: 1000 }, now);
      const results = await Promise.all(page.map((m) => this.store.delete(account, historyOf(userId), m.key, now)));
      dropped += results.filter((r) => r.ok && r.deleted).length;
      if (page.length < 1000) return dropped;
    }
  }

  /** Removes every version of every key of a user (erasure); returns how many there were. */
  dropUser(account: string, userId: string): Promise<number> {
    return this.store.purge(account, historyOf(userId));
  }
}
