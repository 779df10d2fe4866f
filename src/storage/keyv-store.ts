// The generic storage contract over any Keyv instance: atomic through in-process locks, so ONE process only.
import type { Keyv } from 'keyv';
import type {
  ChargeInput, ChargeResult, ClaimResult, DeleteResult, Expect, HoldInput, HoldResult, LedgerEntry, ListQuery,
  Millis, PostInput, PostResult, PutInput, PutResult, RecordMeta, SearchHit, SearchQuery, SettleResult, Store, StoreInfo, StoredRecord, VoidInput, VoidResult,
} from './contract.js';
import { rankHits, TextIndex } from '../search/text-index.js';
import { KeyvMoney } from './keyv-money.js';
import { KeyvOutbox } from './keyv-outbox.js';
import { KeyedLock } from './lock.js';
import type { UsageBucket, UsageInput } from './usage.js';

interface RawRecord extends RecordMeta {
  /** Bytes as is when the Keyv keeps objects (no serializer); base64 when it serializes. */
  v: Uint8Array | string;
  /** The search document (PutInput.index), kept in the record so that both change in one write. */
  d?: string;
}
export interface Counter {
  n: number;
  exp: Millis;
}

/** Keyv TTL (ms from now) of something that expires at `expiresAt`. */
export const ttlUntil = (expiresAt: Millis | null, now: Millis): number | undefined =>
  expiresAt === null ? undefined : Math.max(1, expiresAt - now);

const live = (r: RecordMeta | undefined | null, now: Millis): boolean => !!r && (r.expiresAt === null || r.expiresAt > now);

const meta = (r: RawRecord): RecordMeta => ({
  key: r.key, version: r.version, size: r.size, tag: r.tag, createdAt: r.createdAt, updatedAt: r.updatedAt, expiresAt: r.expiresAt,
});

function matches(current: RawRecord | null, expect: Expect | undefined): boolean {
  if (!expect) return true;
  if ('absent' in expect) return current === null;
  return current !== null && current.version === expect.version;
}

/**
 * Implements the contract with Keyv get/set/delete only. Every read-modify-write runs inside a
 * per-key in-process lock, which is exact in one Node process and WRONG across several: use the
 * Redis, Postgres or SQLite store for that (see `multiProcess`).
 */
export class KeyvStore implements Store {
  readonly info: StoreInfo = { backend: 'keyv', multiProcess: false, chargeAuth: true, usage: true, outbox: true };
  private readonly lock = new KeyedLock();
  readonly outbox: KeyvOutbox;
  /** Without a serializer Keyv hands back the stored objects themselves: they are never mutated. */
  private readonly raw: boolean;

  private readonly money: KeyvMoney;

  constructor(private readonly keyv: Keyv) {
    this.raw = keyv.serialize === undefined;
    this.outbox = new KeyvOutbox(keyv, this.lock);
    this.money = new KeyvMoney(keyv, this.lock, (account, collection, key, now) => this.get(account, collection, key, now), this.outbox);
  }

  private bytes(v: Uint8Array | string): Uint8Array {
    return typeof v === 'string' ? Buffer.from(v, 'base64') : v;
  }

  async init(): Promise<void> {}

  private k(...parts: string[]): string {
    return JSON.stringify(parts);
  }

  private async read<T>(key: string): Promise<T | null> {
    const value = (await this.keyv.get(key)) as T | undefined;
    return value ?? null;
  }

  private async liveRecord(account: string, collection: string, key: string, now: Millis): Promise<RawRecord | null> {
    const r = await this.read<RawRecord>(this.k('r', account, collection, key));
    return live(r, now) ? r : null;
  }

  async get(account: string, collection: string, key: string, now: Millis): Promise<StoredRecord | null> {
    const r = await this.liveRecord(account, collection, key, now);
    if (!r) return null;
    return Object.assign(meta(r), { value: this.bytes(r.v) });
  }

  async put(account: string, collection: string, key: string, input: PutInput, now: Millis, expect?: Expect): Promise<PutResult> {
    return this.lock.run(this.k('r', account, collection, key), async () => {
      const current = await this.liveRecord(account, collection, key, now);
      if (!matches(current, expect)) return { ok: false, current: current && meta(current) };
      const record: RawRecord = {
        key,
        version: (current?.version ?? 0) + 1,
        size: input.size,
        tag: input.tag,
        createdAt: current?.createdAt ?? now,
        updatedAt: now,
        expiresAt: input.expiresAt,
        v: this.raw ? Uint8Array.prototype.slice.call(input.value) : Buffer.from(input.value).toString('base64'),
      };
      const doc = input.index ?? current?.d;
      if (doc) record.d = doc;
      await this.keyv.set(this.k('r', account, collection, key), record, ttlUntil(input.expiresAt, now));
      if (!current) await this.indexAdd(account, collection, key);
      // Under the record's lock, after the record: in one process nothing sees the record without its events.
      if (input.events?.done) await this.outbox.write(account, input.events.done, await this.money.storedBalance(account), now);
      return { ok: true, record: meta(record), created: !current };
    });
  }

  async delete(account: string, collection: string, key: string, now: Millis, expect?: Expect): Promise<DeleteResult> {
    return this.lock.run(this.k('r', account, collection, key), async () => {
      const current = await this.liveRecord(account, collection, key, now);
      if (!matches(current, expect)) return { ok: false, current: current && meta(current) };
      await this.keyv.delete(this.k('r', account, collection, key));
      await this.indexRemove(account, collection, [key]);
      return { ok: true, deleted: current !== null };
    });
  }

  async list(account: string, collection: string, query: ListQuery, now: Millis): Promise<RecordMeta[]> {
    return (await this.liveRaw(account, collection, query, now)).map(meta);
  }

  async entries(account: string, collection: string, query: ListQuery, now: Millis): Promise<StoredRecord[]> {
    return (await this.liveRaw(account, collection, query, now)).map((r) => Object.assign(meta(r), { value: this.bytes(r.v) }));
  }

  /**
   * No index of its own: every search reads the collection's records and ranks their documents in Node,
   * O(records of the collection) per search. Fine for the small, one-process setups this store is for.
   */
  async search(account: string, collection: string, query: SearchQuery, now: Millis): Promise<SearchHit[]> {
    const records = await this.liveRaw(account, collection, { prefix: query.keyPrefix, limit: Infinity }, now);
    const text = new TextIndex();
    const byKey = new Map<string, RawRecord>();
    for (const r of records) if (r.d) (text.set(r.key, r.d), byKey.set(r.key, r));
    const hits = text.score(query.units, () => true).map((h) => ({ score: h.score, record: byKey.get(h.key)! }));
    return rankHits(hits, query.limit).map((h) => ({ score: h.score, record: Object.assign(meta(h.record), { value: this.bytes(h.record.v) }) }));
  }

  private async liveRaw(account: string, collection: string, query: { prefix?: string | undefined; after?: string; limit: number }, now: Millis): Promise<RawRecord[]> {
    const index = (await this.read<string[]>(this.k('i', account, collection))) ?? [];
    const out: RawRecord[] = [];
    const stale: string[] = [];
    const prefix = query.prefix ?? '';
    for (const key of index) {
      if (out.length >= query.limit) break;
      if (query.after !== undefined && key <= query.after) continue;
      if (!key.startsWith(prefix)) continue;
      const r = await this.read<RawRecord>(this.k('r', account, collection, key));
      if (live(r, now)) out.push(r!);
      else stale.push(key);
    }
    if (stale.length) await this.indexRemove(account, collection, stale, now);
    return out;
  }

  async purge(account: string, collection: string): Promise<number> {
    return this.lock.run(this.k('i', account, collection), async () => {
      const index = (await this.read<string[]>(this.k('i', account, collection))) ?? [];
      const now = Date.now();
      let removed = 0;
      for (const key of index) {
        const r = await this.read<RawRecord>(this.k('r', account, collection, key));
        if (live(r, now)) removed++;
        await this.keyv.delete(this.k('r', account, collection, key));
      }
      await this.keyv.delete(this.k('i', account, collection));
      return removed;
    });
  }

  private indexAdd(account: string, collection: string, key: string): Promise<void> {
    return this.lock.run(this.k('i', account, collection), async () => {
      // A copy: the stored array may be the very object a concurrent list() is iterating.
      const index = [...((await this.read<string[]>(this.k('i', account, collection))) ?? [])];
      let lo = 0;
      let hi = index.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (index[mid]! < key) lo = mid + 1;
        else hi = mid;
      }
      if (index[lo] === key) return;
      index.splice(lo, 0, key);
      await this.keyv.set(this.k('i', account, collection), index);
    });
  }

  private indexRemove(account: string, collection: string, keys: string[], now?: Millis): Promise<void> {
    return this.lock.run(this.k('i', account, collection), async () => {
      const index = (await this.read<string[]>(this.k('i', account, collection))) ?? [];
      let drop = new Set(keys);
      if (now !== undefined) {
        // A stale key may have been re-created since list() looked: keep it if it is live again.
        const recheck = await Promise.all(keys.map((key) => this.read<RawRecord>(this.k('r', account, collection, key))));
        drop = new Set(keys.filter((_, i) => !live(recheck[i], now)));
      }
      const kept = index.filter((key) => !drop.has(key));
      if (kept.length !== index.length) await this.keyv.set(this.k('i', account, collection), kept);
    });
  }

  async incr(account: string, name: string, by: number, expiresAt: Millis, usage?: UsageInput): Promise<number> {
    const key = this.k('c', account, name);
    return this.lock.run(key, async () => {
      const now = Date.now();
      const c = await this.read<Counter>(key);
      const n = (c && c.exp > now ? c.n : 0) + by;
      await this.keyv.set(key, { n, exp: expiresAt } satisfies Counter, ttlUntil(expiresAt, now));
      if (usage) await this.money.countUsage(account, usage, now);
      return n;
    });
  }

  async counter(account: string, name: string, now: Millis): Promise<number> {
    const c = await this.read<Counter>(this.k('c', account, name));
    return c && c.exp > now ? c.n : 0;
  }

  // --- money: delegated to KeyvMoney (same lock and keys) ---
  balance(account: string, now: Millis): Promise<number> {
    return this.money.balance(account, now);
  }
  post(account: string, input: PostInput, now: Millis): Promise<PostResult> {
    return this.money.post(account, input, now);
  }
  charge(account: string, input: ChargeInput, now: Millis): Promise<ChargeResult> {
    return this.money.charge(account, input, now);
  }
  void(account: string, input: VoidInput, now: Millis): Promise<VoidResult> {
    return this.money.void(account, input, now);
  }
  hold(account: string, input: HoldInput, now: Millis): Promise<HoldResult> {
    return this.money.hold(account, input, now);
  }
  settle(account: string, holdId: string, actual: number, now: Millis, memo?: string, usage?: UsageInput, caps?: string[]): Promise<SettleResult> {
    return this.money.settle(account, holdId, actual, now, memo, usage, caps);
  }
  usage(account: string, from: string, to: string, now: Millis): Promise<UsageBucket[]> {
    return this.money.usage.usage(account, from, to, now);
  }
  lastUsed(account: string): Promise<Record<string, Millis>> {
    return this.money.usage.lastUsed(account);
  }
  ledger(account: string, query: { before?: number; limit: number }): Promise<LedgerEntry[]> {
    return this.money.ledger(account, query);
  }

  async claim(scope: string | null, key: string, value: string, expiresAt: Millis | null, now: Millis): Promise<ClaimResult> {
    const k = this.k('o', scope ?? '', key);
    return this.lock.run(k, async () => {
      const current = await this.read<{ value: string; exp: Millis | null }>(k);
      if (current && (current.exp === null || current.exp > now)) return { inserted: false, value: current.value };
      await this.keyv.set(k, { value, exp: expiresAt }, ttlUntil(expiresAt, now));
      return { inserted: true };
    });
  }

  async updateClaim(scope: string | null, key: string, value: string, expiresAt: Millis | null): Promise<void> {
    const k = this.k('o', scope ?? '', key);
    await this.lock.run(k, async () => {
      await this.keyv.set(k, { value, exp: expiresAt }, ttlUntil(expiresAt, Date.now()));
    });
  }

  async releaseClaim(scope: string | null, key: string): Promise<void> {
    const k = this.k('o', scope ?? '', key);
    await this.lock.run(k, async () => {
      await this.keyv.delete(k);
    });
  }

  async sweep(now: Millis): Promise<{ records: number; holds: number }> {
    // Keyv adapters expire entries themselves; expired holds are released on the account's next operation.
    await this.outbox.sweep(now);
    return { records: 0, holds: 0 };
  }

  async close(): Promise<void> {}
}
