// The storage contract: the only way domain services touch persistent state.
//
// Every operation here is atomic on its own (one Lua script, one SQL statement or transaction,
// or one critical section of an in-process lock). Services never read-modify-write through
// separate calls: where they need that, they use `put` with `expect` (compare-and-set).
// Any store fault (connection refused, timeout) is thrown as a StoreUnavailableError so that
// paid paths fail closed (503), never as "not found" or "balance 0".

import type { OperationEvents, Outbox } from './outbox.js';
import type { SearchHit, SearchQuery } from './search-contract.js';
import type { UsageInput, UsageReads } from './usage.js';

export type { SearchHit, SearchQuery, SearchUnit } from './search-contract.js';
export type { UsageBucket, UsageInput } from './usage.js';
export type { OperationEvents, Outbox, OutboxDelivery, OutboxRow, SpendCap } from './outbox.js';

/** Milliseconds since the Unix epoch. */
export type Millis = number;

/** Metadata of one record, without its value. */
export interface RecordMeta {
  key: string;
  /** Starts at 1, +1 on every successful write. */
  version: number;
  /** Length in bytes of the uncompressed value. */
  size: number;
  /** Opaque content tag chosen by the writer (the memory service stores a content hash). */
  tag: string;
  createdAt: Millis;
  updatedAt: Millis;
  /** null: never expires. */
  expiresAt: Millis | null;
}

/** A record with its value (bytes exactly as written; compression is the caller's concern). */
export interface StoredRecord extends RecordMeta {
  value: Uint8Array;
}

/** What a writer supplies; version, createdAt and updatedAt are kept by the store. */
export interface PutInput {
  value: Uint8Array;
  size: number;
  tag: string;
  expiresAt: Millis | null;
  /**
   * The record's search document: its terms (src/search/document.ts) separated by single spaces. A store
   * with a native index (`Store.search`) indexes it in the same atomic operation as the record; '' means
   * "not searchable". Omitted: a put keeps the index of the record it replaces (a TTL renewal of an
   * unchanged value), and a record created without it is not searchable.
   */
  index?: string;
  /** Outbox rows written when the put succeeds (`done`; StoreInfo.outbox). */
  events?: OperationEvents;
}

/**
 * Condition of a conditional write. `version: n` succeeds only if the live record has version n;
 * `absent: true` only if no live (unexpired) record exists. Omitted: unconditional.
 */
export type Expect = { version: number } | { absent: true };

export type PutResult =
  | { ok: true; record: RecordMeta; created: boolean }
  | { ok: false; current: RecordMeta | null };

export type DeleteResult = { ok: true; deleted: boolean } | { ok: false; current: RecordMeta | null };

export interface ListQuery {
  /** Only keys starting with this string. */
  prefix?: string;
  /** Only keys strictly greater than this one (the cursor). */
  after?: string;
  /** 1..1000. */
  limit: number;
}

/** Kinds of ledger entries. */
export type LedgerKind = 'grant' | 'debit' | 'refund' | 'purchase' | 'hold' | 'settle' | 'release';

export interface LedgerEntry {
  /** Monotonic per account, starts at 1. */
  seq: number;
  accountId: string;
  /** Signed micro-USD. The sum of all entries of an account is its balance. */
  amount: number;
  kind: LedgerKind;
  /** Unique per account when present (insert-once): a second post with it is refused. */
  reference: string | null;
  /** Free text (reason, model, request id...). */
  memo: string | null;
  createdAt: Millis;
  balanceAfter: number;
}

export interface PostInput {
  /** Signed micro-USD, non-zero integer. */
  amount: number;
  kind: LedgerKind;
  reference?: string;
  memo?: string;
  /** Counted when posted: grant and purchase as credited, refund and debit as a call (see USAGE_FIELDS). */
  usage?: UsageInput;
  /** Spend-cap counters (SpendCap.counter) that get `-amount` when posted: a refund gives back, a debit takes (unchecked). */
  caps?: string[];
  /** `done` when posted; `low` when a negative amount crosses the threshold. */
  events?: OperationEvents;
}

export type PostResult =
  | { ok: true; entry: LedgerEntry; balance: number }
  | { ok: false; reason: 'insufficient_funds'; balance: number }
  | { ok: false; reason: 'duplicate'; balance: number };

export type {
  ChargeAuth, ChargeId, ChargeInput, ChargeResult, HoldInput, HoldResult, SettleResult, VoidInput, VoidResult,
} from './money-contract.js';
import type { ChargeInput, ChargeResult, HoldInput, HoldResult, SettleResult, VoidInput, VoidResult } from './money-contract.js';

export type ClaimResult = { inserted: true } | { inserted: false; value: string };

/** Identifies which implementation is behind a Store, and whether several processes may share it. */
export interface StoreInfo {
  backend: 'memory' | 'keyv' | 'redis' | 'postgres' | 'sqlite';
  /** True when the atomicity holds across processes sharing the backend. */
  multiProcess: boolean;
  /**
   * True when `charge` honours `ChargeInput.auth`. A Store without it (e.g. one written before `auth`
   * existed, which would ignore the field) still works: keys are then verified by a separate read first.
   */
  chargeAuth?: boolean;
  /**
   * True when every operation runs to its end, synchronously, in this process before it answers (the
   * in-memory store; SQLite, whose driver is synchronous): an answer can never be lost, so the meter
   * sends no charge id to void (no record per charge) and gives a failed call back with `post`/`incr`.
   */
  inProcess?: boolean;
  /** True when the store counts `usage` (UsageInput) and answers `usage` and `lastUsed`; else both are ignored. */
  usage?: boolean;
  /** True when the store honours `caps` and `events` and has `outbox`; else it must not be given them. */
  outbox?: boolean;
}

/**
 * The storage contract. Records live in (account, collection); every account's data can be
 * placed together (Redis hash tag, SQL partition by account). `now` is passed explicitly so
 * that expiry is decided by the caller's clock, consistently across backends.
 */
export interface Store extends UsageReads {
  readonly info: StoreInfo;

  /** Creates tables/scripts; idempotent. Called once before use. */
  init(): Promise<void>;

  // --- records with TTL, compare-and-set, list by prefix ---
  get(account: string, collection: string, key: string, now: Millis): Promise<StoredRecord | null>;
  put(account: string, collection: string, key: string, input: PutInput, now: Millis, expect?: Expect): Promise<PutResult>;
  delete(account: string, collection: string, key: string, now: Millis, expect?: Expect): Promise<DeleteResult>;
  /** Live records sorted by key, in UTF-8 byte order. */
  list(account: string, collection: string, query: ListQuery, now: Millis): Promise<RecordMeta[]>;
  /**
   * Full-text search of a collection's live records by their `PutInput.index`, best first (BM25 or the
   * backend's equivalent), ties broken by the most recent `updatedAt`. Each backend uses its native index
   * (Postgres FTS, SQLite FTS5, Lua-kept postings on Redis, an in-process index); a backend without one
   * (generic Keyv) ranks the stored documents of the collection in Node (src/search/text-index.ts).
   */
  search(account: string, collection: string, query: SearchQuery, now: Millis): Promise<SearchHit[]>;
  /** Live records with their values, sorted as `list` (one round trip where the backend allows). */
  entries(account: string, collection: string, query: ListQuery, now: Millis): Promise<StoredRecord[]>;
  /** Deletes every record of a collection (and its index); returns how many live records were removed. */
  purge(account: string, collection: string): Promise<number>;

  // --- counters ---
  /** Adds `by` to a counter that disappears at `expiresAt` (and `usage.add` to the usage); returns the new value. */
  incr(account: string, name: string, by: number, expiresAt: Millis, usage?: UsageInput): Promise<number>;
  /** Current value of a counter (0 when absent or expired). */
  counter(account: string, name: string, now: Millis): Promise<number>;

  // --- money: append-only ledger, balance derived from it ---
  balance(account: string, now: Millis): Promise<number>;
  /** Appends one entry. A negative amount is refused when it would take the balance below 0. */
  post(account: string, input: PostInput, now: Millis): Promise<PostResult>;
  charge(account: string, input: ChargeInput, now: Millis): Promise<ChargeResult>;
  /**
   * Undoes a charge or a hold by its id, atomically and at most once: if it committed, what it took is
   * given back (a free call of `window`, the price as a 'refund' entry, a live hold as a 'release'
   * entry); if it has not, it never will (until `until`). A second void of the same id changes nothing.
   * Records of ids live until `until` (`now` decides, as for every other expiry); then they are swept.
   */
  void(account: string, input: VoidInput, now: Millis): Promise<VoidResult>;
  hold(account: string, input: HoldInput, now: Millis): Promise<HoldResult>;
  /**
   * `usage`: counted when it charged something (a paid call), with the caller's `add` (Claude tokens). `caps`: the
   * hold's spend-cap counters get `charged - held` (the unused part back, or what was charged beyond the hold).
   */
  settle(account: string, holdId: string, actual: number, now: Millis, memo?: string, usage?: UsageInput, caps?: string[]): Promise<SettleResult>;
  /** Entries newest first, with seq < `before` when given. */
  ledger(account: string, query: { before?: number; limit: number }): Promise<LedgerEntry[]>;

  // --- insert-once ---
  /** Stores `value` under `key` unless a live one exists. scope null: global (not per account). */
  claim(scope: string | null, key: string, value: string, expiresAt: Millis | null, now: Millis): Promise<ClaimResult>;
  /** Replaces the value of an existing claim (e.g. the stored response of an idempotent call). */
  updateClaim(scope: string | null, key: string, value: string, expiresAt: Millis | null): Promise<void>;
  releaseClaim(scope: string | null, key: string): Promise<void>;

  /** The webhook outbox (StoreInfo.outbox). */
  readonly outbox?: Outbox;

  /** Removes expired rows/holds (SQL backends keep expired rows until swept). */
  sweep(now: Millis): Promise<{ records: number; holds: number }>;
  close(): Promise<void>;
}
