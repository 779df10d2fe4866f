// The parts of the SQL stores (Postgres, SQLite) that only delegate: records and claims to SqlKv, money to the dialect.
import type {
  ChargeInput, ChargeResult, ClaimResult, DeleteResult, Expect, HoldInput, HoldResult, LedgerEntry, ListQuery, Millis,
  PostInput, PostResult, PutInput, PutResult, RecordMeta, SearchHit, SearchQuery, SettleResult, StoredRecord, VoidInput, VoidResult,
} from './contract.js';
import type { SqlKv } from './sql-kv.js';
import type { SqlUsage } from './sql-usage.js';
import type { UsageBucket, UsageInput } from './usage.js';

/** What each dialect's money class provides (PostgresMoney, SqliteMoney). */
export interface SqlMoney {
  balance(account: string, now: Millis): number | Promise<number>;
  post(account: string, input: PostInput, now: Millis): PostResult | Promise<PostResult>;
  charge(account: string, input: ChargeInput, now: Millis): ChargeResult | Promise<ChargeResult>;
  void(account: string, input: VoidInput, now: Millis): VoidResult | Promise<VoidResult>;
  hold(account: string, input: HoldInput, now: Millis): HoldResult | Promise<HoldResult>;
  settle(account: string, holdId: string, actual: number, now: Millis, memo?: string, usage?: UsageInput, caps?: string[]): SettleResult | Promise<SettleResult>;
  /** Store.incr with usage (the counter alone goes through SqlKv). */
  incr(account: string, name: string, by: number, expiresAt: Millis, usage: UsageInput): number | Promise<number>;
}

/** Delegation shared by both SQL stores; money calls are async so a synchronous driver's throw becomes a rejection. */
export abstract class SqlStoreBase<M extends SqlMoney> {
  protected abstract readonly kv: SqlKv;
  protected abstract readonly money: M;
  protected abstract readonly usageReads: SqlUsage;

  get(account: string, collection: string, key: string, now: Millis): Promise<StoredRecord | null> {
    return this.kv.get(account, collection, key, now);
  }

  put(account: string, collection: string, key: string, input: PutInput, now: Millis, expect?: Expect): Promise<PutResult> {
    return this.kv.put(account, collection, key, input, now, expect);
  }

  delete(account: string, collection: string, key: string, now: Millis, expect?: Expect): Promise<DeleteResult> {
    return this.kv.delete(account, collection, key, now, expect);
  }

  list(account: string, collection: string, query: ListQuery, now: Millis): Promise<RecordMeta[]> {
    return this.kv.list(account, collection, query, now);
  }

  entries(account: string, collection: string, query: ListQuery, now: Millis): Promise<StoredRecord[]> {
    return this.kv.entries(account, collection, query, now);
  }

  search(account: string, collection: string, query: SearchQuery, now: Millis): Promise<SearchHit[]> {
    return this.kv.search(account, collection, query, now);
  }

  purge(account: string, collection: string): Promise<number> {
    return this.kv.purge(account, collection);
  }

  async incr(account: string, name: string, by: number, expiresAt: Millis, usage?: UsageInput): Promise<number> {
    return usage ? this.money.incr(account, name, by, expiresAt, usage) : this.kv.incr(account, name, by, expiresAt);
  }

  counter(account: string, name: string, now: Millis): Promise<number> {
    return this.kv.counter(account, name, now);
  }

  async balance(account: string, now: Millis): Promise<number> {
    // A plain read unless a hold has expired: then the release must be written first.
    return (await this.kv.balanceIfSettled(account, now)) ?? this.money.balance(account, now);
  }

  async post(account: string, input: PostInput, now: Millis): Promise<PostResult> {
    return this.money.post(account, input, now);
  }

  async charge(account: string, input: ChargeInput, now: Millis): Promise<ChargeResult> {
    return this.money.charge(account, input, now);
  }

  async void(account: string, input: VoidInput, now: Millis): Promise<VoidResult> {
    return this.money.void(account, input, now);
  }


  async hold(account: string, input: HoldInput, now: Millis): Promise<HoldResult> {
    return this.money.hold(account, input, now);
  }

  async settle(account: string, holdId: string, actual: number, now: Millis, memo?: string, usage?: UsageInput, caps?: string[]): Promise<SettleResult> {
    return this.money.settle(account, holdId, actual, now, memo, usage, caps);
  }

  usage(account: string, from: string, to: string, now: Millis): Promise<UsageBucket[]> {
    return this.usageReads.usage(account, from, to, now);
  }

  lastUsed(account: string): Promise<Record<string, Millis>> {
    return this.usageReads.lastUsed(account);
  }

  ledger(account: string, query: { before?: number; limit: number }): Promise<LedgerEntry[]> {
    return this.kv.ledger(account, query);
  }

  claim(scope: string | null, key: string, value: string, expiresAt: Millis | null, now: Millis): Promise<ClaimResult> {
    return this.kv.claim(scope, key, value, expiresAt, now);
  }

  updateClaim(scope: string | null, key: string, value: string, expiresAt: Millis | null): Promise<void> {
    return this.kv.updateClaim(scope, key, value, expiresAt);
  }

  releaseClaim(scope: string | null, key: string): Promise<void> {
    return this.kv.releaseClaim(scope, key);
  }
}
