// One account of the in-memory store: its records, counters and money. Every method runs to the end
// without awaiting, which is what makes each store operation atomic in one process.
import type { TextIndex } from '../search/text-index.js';
import type {
  ChargeInput, ChargeResult, HoldInput, HoldResult, LedgerEntry, Millis, PostInput, PostResult, SettleResult, StoredRecord, VoidInput, VoidResult,
} from './contract.js';
import { capOver, cappedRows, lowRows } from './caps.js';
import { takenBy, tooLate, VOIDED, type ChargeRecord } from './charge-ids.js';
import type { MemoryOutbox } from './memory-outbox.js';
import type { SpendCap } from './outbox.js';
import { addTo, newTally, postCounts, type Tally, type UsageInput } from './usage.js';

export interface Counter {
  n: number;
  exp: Millis;
}

/** One (account, collection): its records, and its keys in UTF-8 byte order (null: rebuild on the next list). */
export interface Collection {
  records: Map<string, StoredRecord>;
  sorted: string[] | null;
  /** Search documents of the records written with one (PutInput.index). */
  text?: TextIndex;
}

/** The counter of a window's free calls (the name Meter reads), kept for the current window. */
let lastWindow = { window: '', name: '' };
function freeCounter(window: string): string {
  if (lastWindow.window !== window) lastWindow = { window, name: `free:${window}` };
  return lastWindow.name;
}

export class MemoryAccount {
  readonly collections = new Map<string, Collection>();
  readonly counters = new Map<string, Counter>();
  balance = 0;
  private readonly log: LedgerEntry[] = [];
  private readonly references = new Set<string>();
  private readonly holds = new Map<string, { amount: number; expiresAt: Millis }>();
  /** Charge ids and voided ids, each until its `until` (dropped by `forgetCharges`). */
  readonly charges = new Map<string, ChargeRecord>();
  /** Usage counters by hour bucket (see UsageInput), and each API key's last use. */
  usage: Map<string, { exp: Millis; f: Tally }> | undefined;
  keyUse: Map<string, Millis> | undefined;

  constructor(
    private readonly id: string,
    /** Where the account's operations write their events (OperationEvents). */
    private readonly outbox: MemoryOutbox,
  ) {}

  /** A live counter's value, 0 when absent or expired. */
  private live(name: string, now: Millis): number {
    const c = this.counters.get(name);
    return c && c.exp > now ? c.n : 0;
  }

  /** Adds `amount` to each cap's counter (created with the cap's expiry). */
  private spend(caps: readonly SpendCap[] | undefined, amount: number, now: Millis): void {
    if (caps) for (const cap of caps) this.incr(cap.counter, amount, Math.max(cap.expiresAt, this.counters.get(cap.counter)?.exp ?? 0), now);
  }

  /** Adds `delta` to each live counter named (a give-back never creates one). */
  private giveBack(names: readonly string[] | undefined, delta: number, now: Millis): void {
    if (!names || delta === 0) return;
    for (const name of names) {
      const c = this.counters.get(name);
      if (c && c.exp > now) c.n += delta;
    }
  }

  /** The counters of `u`'s bucket with the caller's `add` applied: the operation took effect at `now`. */
  used(u: UsageInput, now: Millis): Tally {
    const buckets = (this.usage ??= new Map());
    let b = buckets.get(u.bucket);
    if (!b || b.exp <= now) buckets.set(u.bucket, (b = { exp: u.expiresAt, f: newTally() }));
    else if (u.expiresAt > b.exp) b.exp = u.expiresAt;
    if (u.add) for (const field in u.add) addTo(b.f, field, u.add[field]!);
    return b.f;
  }

  /** Gives back every hold past its expiry (a 'release' entry each); returns how many. */
  releaseExpired(now: Millis): number {
    if (this.holds.size === 0) return 0;
    let released = 0;
    for (const [holdId, hold] of this.holds) {
      if (hold.expiresAt > now) continue;
      this.holds.delete(holdId);
      this.append({ amount: hold.amount, kind: 'release', reference: `hold:${holdId}`, memo: 'hold expired' }, now);
      released++;
    }
    return released;
  }

  private append(input: PostInput, now: Millis): LedgerEntry {
    this.balance += input.amount;
    // Frozen: the same object is the ledger's own copy and what callers get.
    const entry: LedgerEntry = Object.freeze({
      seq: this.log.length + 1, accountId: this.id, amount: input.amount, kind: input.kind, reference: input.reference ?? null,
      memo: input.memo ?? null, createdAt: now, balanceAfter: this.balance,
    });
    this.log.push(entry);
    if (input.reference !== undefined) this.references.add(input.reference);
    return entry;
  }

  incr(name: string, by: number, expiresAt: Millis, now: Millis): number {
    const c = this.counters.get(name);
    const n = (c && c.exp > now ? c.n : 0) + by;
    this.counters.set(name, { n, exp: expiresAt });
    return n;
  }

  post(input: PostInput, now: Millis): PostResult {
    if (input.reference !== undefined && this.references.has(input.reference)) return { ok: false, reason: 'duplicate', balance: this.balance };
    if (input.amount < 0 && this.balance + input.amount < 0) return { ok: false, reason: 'insufficient_funds', balance: this.balance };
    const before = this.balance;
    const entry = this.append(input, now);
    this.giveBack(input.caps, -input.amount, now);
    this.outbox.write(this.id, input.events?.done, this.balance, now);
    this.outbox.write(this.id, lowRows(input.events, before, this.balance), this.balance, now);
    if (input.usage) {
      const t = this.used(input.usage, now);
      for (const [field, n] of postCounts(input.kind, input.amount)) addTo(t, field, n);
    }
    return { ok: true, entry, balance: this.balance };
  }

  charge(input: ChargeInput, now: Millis): ChargeResult {
    const { voidable } = input;
    // The store's clock decides lateness: a charge this late was given up (and voided) by its caller.
    if (voidable && (tooLate(voidable) || this.charges.has(voidable.id))) return { ok: false, voided: true };
    const u = input.usage;
    if (u?.keyId !== undefined) (this.keyUse ??= new Map()).set(u.keyId, now);
    const name = freeCounter(input.window);
    const c = this.counters.get(name);
    const used = c && c.exp > now ? c.n : 0;
    if (used < input.freeLimit) {
      if (c && c.exp > now) c.n = used + 1;
      else this.counters.set(name, { n: 1, exp: input.windowExpiresAt });
      if (voidable) this.charges.set(voidable.id, { taken: 0, until: voidable.until });
      if (u) addTo(this.used(u, now), 'free', 1);
      return { ok: true, free: true, freeUsed: used + 1, balance: this.balance };
    }
    if (input.price <= 0) return { ok: false, freeUsed: used, balance: this.balance };
    // A cap first: buying credit would not lift it, so it is the answer that tells the caller what to do.
    const cap = capOver(input.caps, input.price, (name) => this.live(name, now));
    if (cap >= 0) {
      this.outbox.write(this.id, cappedRows(input.events, cap), this.balance, now);
      return { ok: false, freeUsed: used, balance: this.balance, cap };
    }
    if (this.balance < input.price) return { ok: false, freeUsed: used, balance: this.balance };
    const entry = this.append({ amount: -input.price, kind: 'debit', memo: input.memo }, now);
    this.spend(input.caps, input.price, now);
    this.outbox.write(this.id, lowRows(input.events, this.balance + input.price, this.balance), this.balance, now);
    if (voidable) this.charges.set(voidable.id, { taken: input.price, until: voidable.until });
    if (u) {
      const t = this.used(u, now);
      addTo(t, 'paid', 1);
      addTo(t, 'spent', input.price);
    }
    return { ok: true, free: false, freeUsed: used, balance: this.balance, entry };
  }

  /** Undoes the charge or hold `input.id` once (see Store.void). */
  void(input: VoidInput, now: Millis): VoidResult {
    const record = this.charges.get(input.id);
    const taken = takenBy(record, now);
    if (taken === VOIDED) return { outcome: 'already', balance: this.balance };
    this.charges.set(input.id, { taken: VOIDED, until: Math.max(input.until, record?.until ?? 0) });
    if (taken !== undefined && input.usage) {
      const t = this.used(input.usage, now);
      addTo(t, 'refunds', 1);
      addTo(t, 'refunded', taken);
    }
    if (taken === 0) {
      const c = this.counters.get(freeCounter(input.window));
      if (c && c.exp > now && c.n > 0) c.n -= 1;
      return { outcome: 'given_back', free: true, balance: this.balance, entry: null };
    }
    if (taken !== undefined) {
      const entry = this.append({ amount: taken, kind: 'refund', memo: input.memo }, now);
      this.giveBack(input.caps, -taken, now);
      this.outbox.write(this.id, input.events?.done, this.balance, now);
      return { outcome: 'given_back', free: false, balance: this.balance, entry };
    }
    const hold = this.holds.get(input.id);
    if (!hold) return { outcome: 'refused', balance: this.balance };
    this.holds.delete(input.id);
    const entry = this.append({ amount: hold.amount, kind: 'release', reference: `hold:${input.id}`, memo: input.memo }, now);
    this.giveBack(input.caps, -hold.amount, now);
    return { outcome: 'given_back', free: false, balance: this.balance, entry };
  }

  /** Drops charge records past their `until`; returns how many. */
  forgetCharges(now: Millis): number {
    let n = 0;
    for (const [id, r] of this.charges) {
      if (r.until <= now) {
        this.charges.delete(id);
        n++;
      }
    }
    return n;
  }

  hold(input: HoldInput, now: Millis): HoldResult {
    if (this.charges.has(input.holdId)) return { ok: false, reason: 'voided', balance: this.balance };
    if (this.holds.has(input.holdId)) return { ok: false, reason: 'duplicate', balance: this.balance };
    const cap = capOver(input.caps, input.amount, (name) => this.live(name, now));
    if (cap >= 0) {
      this.outbox.write(this.id, cappedRows(input.events, cap), this.balance, now);
      return { ok: false, reason: 'spend_cap', cap, balance: this.balance };
    }
    if (this.balance < input.amount) return { ok: false, reason: 'insufficient_funds', balance: this.balance };
    this.holds.set(input.holdId, { amount: input.amount, expiresAt: input.expiresAt });
    this.append({ amount: -input.amount, kind: 'hold', reference: `hold:${input.holdId}`, memo: input.memo }, now);
    this.spend(input.caps, input.amount, now);
    this.outbox.write(this.id, lowRows(input.events, this.balance + input.amount, this.balance), this.balance, now);
    return { ok: true, balance: this.balance };
  }

  settle(holdId: string, actual: number, now: Millis, memo?: string, usage?: UsageInput, caps?: string[]): SettleResult {
    const hold = this.holds.get(holdId);
    if (!hold) return { ok: false, reason: 'unknown_hold', balance: this.balance };
    this.holds.delete(holdId);
    // Beyond the hold, charge only what the balance covers: the balance never goes below 0.
    const charged = Math.min(actual, hold.amount + this.balance);
    const back = hold.amount - charged;
    const entry = back === 0 ? null : this.append({ amount: back, kind: 'settle', memo }, now);
    this.giveBack(caps, -back, now);
    if (usage) {
      const t = this.used(usage, now);
      if (charged > 0) (addTo(t, 'paid', 1), addTo(t, 'spent', charged));
    }
    return { ok: true, charged, balance: this.balance, entry };
  }

  /** Entries newest first, with seq < `before` when given. */
  entries(query: { before?: number; limit: number }): LedgerEntry[] {
    const out: LedgerEntry[] = [];
    for (let seq = Math.min(this.log.length, (query.before ?? Infinity) - 1); seq >= 1 && out.length < query.limit; seq--) out.push(this.log[seq - 1]!);
    return out;
  }
}
