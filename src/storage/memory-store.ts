// The default store: the contract on plain in-process Maps. Every operation is synchronous inside,
// so each is atomic without any lock (nothing else runs between its first read and its last write).
import type {
  ChargeInput, ChargeResult, ClaimResult, DeleteResult, Expect, HoldInput, HoldResult, LedgerEntry, ListQuery,
  Millis, PostInput, PostResult, PutInput, PutResult, RecordMeta, SearchHit, SearchQuery, SettleResult, Store, StoreInfo, StoredRecord, VoidInput, VoidResult,
} from './contract.js';
import { rankHits, TextIndex } from '../search/text-index.js';
import { authMatches } from './charge-auth.js';
import { MemoryAccount, type Collection, type Counter } from './memory-account.js';
import { MemoryOutbox } from './memory-outbox.js';
import type { UsageBucket, UsageInput } from './usage.js';

const live = (r: RecordMeta | undefined, now: Millis): r is StoredRecord => r !== undefined && (r.expiresAt === null || r.expiresAt > now);

const meta = (r: RecordMeta): RecordMeta => ({
  key: r.key, version: r.version, size: r.size, tag: r.tag, createdAt: r.createdAt, updatedAt: r.updatedAt, expiresAt: r.expiresAt,
});

const copy = (r: StoredRecord): StoredRecord => ({
  key: r.key, version: r.version, size: r.size, tag: r.tag, createdAt: r.createdAt, updatedAt: r.updatedAt, expiresAt: r.expiresAt, value: r.value,
});

const matches = (current: StoredRecord | null, expect: Expect | undefined): boolean =>
  !expect || ('absent' in expect ? current === null : current !== null && current.version === expect.version);

/** UTF-16 code units ranked as their code points rank: surrogates (U+D800-DFFF) after U+E000-FFFF. */
const rank = (unit: number): number => (unit < 0xd800 ? unit : unit < 0xe000 ? unit + 0x2000 : unit - 0x800);

/** Compares strings in UTF-8 byte order (= code point order), as the SQL and Redis stores sort. */
export function utf8Compare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** First index of `sorted` whose key is greater than `after` (or the start). */
function startAfter(sorted: string[], after: string | undefined): number {
  if (after === undefined) return 0;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (utf8Compare(sorted[mid]!, after) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How often expired entries are dropped from memory (reads never see them anyway). */
const SWEEP_EVERY_MS = 60_000;

/**
 * The embedded default: exact and fast in ONE process (nothing to serialize, no lock, no round trip),
 * lost on restart. Several processes need Redis, Postgres or SQLite (`multiProcess` says so).
 */
export class MemoryStore implements Store {
  readonly info: StoreInfo = { backend: 'memory', multiProcess: false, chargeAuth: true, inProcess: true, usage: true, outbox: true };
  readonly outbox = new MemoryOutbox();
  private readonly accounts = new Map<string, MemoryAccount>();
  private readonly claims = new Map<string, { value: string; exp: Millis | null }>();
  private sweeper: NodeJS.Timeout | undefined;

  async init(): Promise<void> {
    this.sweeper ??= setInterval(() => this.sweepNow(Date.now()), SWEEP_EVERY_MS).unref();
  }

  private account(account: string): MemoryAccount {
    let a = this.accounts.get(account);
    if (!a) this.accounts.set(account, (a = new MemoryAccount(account, this.outbox)));
    return a;
  }

  private collection(account: string, name: string, create: true): Collection;
  private collection(account: string, name: string, create?: false): Collection | undefined;
  private collection(account: string, name: string, create = false): Collection | undefined {
    const a = create ? this.account(account) : this.accounts.get(account);
    let c = a?.collections.get(name);
    if (!c && create) a!.collections.set(name, (c = { records: new Map(), sorted: null }));
    return c;
  }

  private liveRecord(account: string, collection: string, key: string, now: Millis): StoredRecord | null {
    const r = this.collection(account, collection)?.records.get(key);
    return live(r, now) ? r : null;
  }

  get(account: string, collection: string, key: string, now: Millis): Promise<StoredRecord | null> {
    const r = this.liveRecord(account, collection, key, now);
    return Promise.resolve(r && copy(r));
  }

  put(account: string, collection: string, key: string, input: PutInput, now: Millis, expect?: Expect): Promise<PutResult> {
    const c = this.collection(account, collection, true);
    const stored = c.records.get(key);
    const current = live(stored, now) ? stored : null;
    if (!matches(current, expect)) return Promise.resolve({ ok: false, current: current && meta(current) });
    const record: StoredRecord = {
      key, version: (current?.version ?? 0) + 1, size: input.size, tag: input.tag, createdAt: current?.createdAt ?? now, updatedAt: now,
      // A copy: the caller keeps its buffer.
      expiresAt: input.expiresAt, value: Uint8Array.prototype.slice.call(input.value),
    };
    c.records.set(key, record);
    // The index changes with the record, in the same synchronous step: no search sees one without the other.
    if (input.index !== undefined) (c.text ??= new TextIndex()).set(key, input.index);
    else if (!current) c.text?.delete(key);
    if (!stored && c.sorted) {
      // Keys written in order (imports, counters) keep the index; any other new key rebuilds it on the next list.
      if (c.sorted.length === 0 || utf8Compare(c.sorted[c.sorted.length - 1]!, key) < 0) c.sorted.push(key);
      else c.sorted = null;
    }
    if (input.events?.done) this.outbox.write(account, input.events.done, this.account(account).balance, now);
    return Promise.resolve({ ok: true, record: meta(record), created: !current });
  }

  delete(account: string, collection: string, key: string, now: Millis, expect?: Expect): Promise<DeleteResult> {
    const c = this.collection(account, collection);
    const stored = c?.records.get(key);
    const current = live(stored, now) ? stored : null;
    if (!matches(current, expect)) return Promise.resolve({ ok: false, current: current && meta(current) });
    if (stored) {
      c!.records.delete(key);
      c!.text?.delete(key);
      c!.sorted = null;
    }
    return Promise.resolve({ ok: true, deleted: current !== null });
  }

  list(account: string, collection: string, query: ListQuery, now: Millis): Promise<RecordMeta[]> {
    return Promise.resolve(this.liveInOrder(account, collection, query, now).map(meta));
  }

  entries(account: string, collection: string, query: ListQuery, now: Millis): Promise<StoredRecord[]> {
    return Promise.resolve(this.liveInOrder(account, collection, query, now).map(copy));
  }

  search(account: string, collection: string, query: SearchQuery, now: Millis): Promise<SearchHit[]> {
    const c = this.collection(account, collection);
    if (!c?.text) return Promise.resolve([]);
    const prefix = query.keyPrefix ?? '';
    const ranked = c.text.score(query.units, (key) => key.startsWith(prefix) && live(c.records.get(key), now));
    const hits = rankHits(ranked.map((r) => ({ score: r.score, record: c.records.get(r.key)! })), query.limit);
    return Promise.resolve(hits.map((h) => ({ score: h.score, record: copy(h.record) })));
  }

  private liveInOrder(account: string, collection: string, query: ListQuery, now: Millis): StoredRecord[] {
    const c = this.collection(account, collection);
    const out: StoredRecord[] = [];
    if (!c) return out;
    const sorted = (c.sorted ??= [...c.records.keys()].sort(utf8Compare));
    const prefix = query.prefix ?? '';
    for (let i = startAfter(sorted, query.after); i < sorted.length && out.length < query.limit; i++) {
      const key = sorted[i]!;
      if (!key.startsWith(prefix)) continue;
      const r = c.records.get(key);
      if (live(r, now)) out.push(r);
    }
    return out;
  }

  purge(account: string, collection: string): Promise<number> {
    const c = this.collection(account, collection);
    if (!c) return Promise.resolve(0);
    const now = Date.now();
    let removed = 0;
    for (const r of c.records.values()) if (live(r, now)) removed++;
    this.accounts.get(account)!.collections.delete(collection);
    return Promise.resolve(removed);
  }

  incr(account: string, name: string, by: number, expiresAt: Millis, usage?: UsageInput): Promise<number> {
    const a = this.account(account);
    const now = Date.now();
    if (usage) a.used(usage, now);
    return Promise.resolve(a.incr(name, by, expiresAt, now));
  }

  counter(account: string, name: string, now: Millis): Promise<number> {
    const c: Counter | undefined = this.accounts.get(account)?.counters.get(name);
    return Promise.resolve(c && c.exp > now ? c.n : 0);
  }

  /** The account with its expired holds given back: every money operation starts here. */
  private money(account: string, now: Millis): MemoryAccount {
    const a = this.account(account);
    a.releaseExpired(now);
    return a;
  }

  balance(account: string, now: Millis): Promise<number> {
    return Promise.resolve(this.money(account, now).balance);
  }

  post(account: string, input: PostInput, now: Millis): Promise<PostResult> {
    return Promise.resolve(this.money(account, now).post(input, now));
  }

  charge(account: string, input: ChargeInput, now: Millis): Promise<ChargeResult> {
    const { auth } = input;
    // A refused caller leaves no trace: no account created, no free call, no debit.
    if (auth && !authMatches(this.liveRecord(account, auth.collection, auth.key, now), auth, now)) {
      return Promise.resolve({ ok: false, unauthorized: true });
    }
    return Promise.resolve(this.money(account, now).charge(input, now));
  }

  void(account: string, input: VoidInput, now: Millis): Promise<VoidResult> {
    return Promise.resolve(this.money(account, now).void(input, now));
  }

  hold(account: string, input: HoldInput, now: Millis): Promise<HoldResult> {
    return Promise.resolve(this.money(account, now).hold(input, now));
  }

  settle(account: string, holdId: string, actual: number, now: Millis, memo?: string, usage?: UsageInput, caps?: string[]): Promise<SettleResult> {
    return Promise.resolve(this.money(account, now).settle(holdId, actual, now, memo, usage, caps));
  }

  usage(account: string, from: string, to: string, now: Millis): Promise<UsageBucket[]> {
    const out: UsageBucket[] = [];
    for (const [bucket, b] of this.accounts.get(account)?.usage ?? []) {
      if (bucket >= from && bucket <= to && b.exp > now) out.push({ bucket, fields: { ...b.f } });
    }
    return Promise.resolve(out.sort((x, y) => (x.bucket < y.bucket ? -1 : 1)));
  }

  lastUsed(account: string): Promise<Record<string, Millis>> {
    return Promise.resolve(Object.fromEntries(this.accounts.get(account)?.keyUse ?? []));
  }

  ledger(account: string, query: { before?: number; limit: number }): Promise<LedgerEntry[]> {
    return Promise.resolve(this.accounts.get(account)?.entries(query) ?? []);
  }

  claim(scope: string | null, key: string, value: string, expiresAt: Millis | null, now: Millis): Promise<ClaimResult> {
    const k = `${scope ?? ''}\u0000${key}`;
    const current = this.claims.get(k);
    if (current && (current.exp === null || current.exp > now)) return Promise.resolve({ inserted: false, value: current.value });
    this.claims.set(k, { value, exp: expiresAt });
    return Promise.resolve({ inserted: true });
  }

  updateClaim(scope: string | null, key: string, value: string, expiresAt: Millis | null): Promise<void> {
    this.claims.set(`${scope ?? ''}\u0000${key}`, { value, exp: expiresAt });
    return Promise.resolve();
  }

  releaseClaim(scope: string | null, key: string): Promise<void> {
    this.claims.delete(`${scope ?? ''}\u0000${key}`);
    return Promise.resolve();
  }

  sweep(now: Millis): Promise<{ records: number; holds: number }> {
    return Promise.resolve(this.sweepNow(now));
  }

  /** Drops expired records, counters, charge ids and claims, and releases expired holds. */
  private sweepNow(now: Millis): { records: number; holds: number } {
    let records = 0;
    let holds = 0;
    for (const a of this.accounts.values()) {
      holds += a.releaseExpired(now);
      a.forgetCharges(now);
      for (const [name, c] of a.counters) if (c.exp <= now) a.counters.delete(name);
      for (const [bucket, b] of a.usage ?? []) if (b.exp <= now) a.usage!.delete(bucket);
      for (const c of a.collections.values()) {
        for (const [key, r] of c.records) {
          if (!live(r, now)) {
            c.records.delete(key);
            c.text?.delete(key);
            c.sorted = null;
            records++;
          }
        }
      }
    }
    for (const [k, c] of this.claims) if (c.exp !== null && c.exp <= now) this.claims.delete(k);
    this.outbox.sweep(now);
    return { records, holds };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
