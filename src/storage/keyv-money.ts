// Money of the generic Keyv store: one account document (balance, seq, holds) plus one Keyv entry per ledger entry.
import type { Keyv } from 'keyv';
import type {
  ChargeInput, ChargeResult, HoldInput, HoldResult, LedgerEntry, Millis, PostInput, PostResult, SettleResult, StoredRecord, VoidInput, VoidResult,
} from './contract.js';
import { capOver, cappedRows, lowRows } from './caps.js';
import { authMatches } from './charge-auth.js';
import { takenBy, tooLate, VOIDED, type ChargeRecord } from './charge-ids.js';
import type { KeyedLock } from './lock.js';
import type { KeyvOutbox } from './keyv-outbox.js';
import type { SpendCap } from './outbox.js';
import { ttlUntil, type Counter } from './keyv-store.js';
import { KeyvUsage } from './keyv-usage.js';
import { postCounts, type UsageInput } from './usage.js';

interface Account {
  balance: number;
  seq: number;
  holds: { [holdId: string]: { amount: number; expiresAt: Millis } };
}

const k = (...parts: string[]): string => JSON.stringify(parts);

/** Every operation runs inside the account's in-process lock (one process only, like KeyvStore). */
export class KeyvMoney {
  /** Usage counters, written inside the same lock as the money they count. */
  readonly usage: KeyvUsage;

  constructor(
    private readonly keyv: Keyv,
    private readonly lock: KeyedLock,
    private readonly getRecord: (account: string, collection: string, key: string, now: Millis) => Promise<StoredRecord | null>,
    /** Where the operations write their events, inside the account's lock. */
    private readonly outbox: KeyvOutbox,
  ) {
    this.usage = new KeyvUsage(keyv);
  }

  private async read<T>(key: string): Promise<T | null> {
    const value = (await this.keyv.get(key)) as T | undefined;
    return value ?? null;
  }

  /** `refuse`, when given, runs first inside the lock: a non-undefined answer ends the operation untouched. */
  private withAccount<T>(account: string, now: Millis, fn: (a: Account) => Promise<T>, refuse?: () => Promise<T | undefined>): Promise<T> {
    return this.lock.run(k('a', account), async () => {
      const refused = await refuse?.();
      if (refused !== undefined) return refused;
      const stored = await this.read<Account>(k('a', account));
      const a: Account = stored ? { ...stored, holds: { ...stored.holds } } : { balance: 0, seq: 0, holds: {} };
      for (const [holdId, hold] of Object.entries(a.holds)) {
        if (hold.expiresAt <= now) {
          delete a.holds[holdId];
          await this.append(a, account, { amount: hold.amount, kind: 'release', reference: `hold:${holdId}`, memo: 'hold expired' }, now);
        }
      }
      const result = await fn(a);
      await this.keyv.set(k('a', account), a);
      return result;
    });
  }

  private async append(a: Account, account: string, input: PostInput, now: Millis): Promise<LedgerEntry> {
    a.seq += 1;
    a.balance += input.amount;
    const entry: LedgerEntry = {
      seq: a.seq, accountId: account, amount: input.amount, kind: input.kind, reference: input.reference ?? null,
      memo: input.memo ?? null, createdAt: now, balanceAfter: a.balance,
    };
    await this.keyv.set(k('l', account, String(a.seq)), entry);
    if (input.reference !== undefined) await this.keyv.set(k('ref', account, input.reference), a.seq);
    return entry;
  }

  /** A live counter's value, 0 when absent or expired (the counters of `incr`/`counter`). */
  private async live(account: string, name: string, now: Millis): Promise<number> {
    const c = await this.read<Counter>(k('c', account, name));
    return c && c.exp > now ? c.n : 0;
  }

  /**
   * The first cap that `amount` more would take over its limit, else -1. Cap counters are written only by the money
   * operations, under the account's lock (an `incr` on one, under the counter's own lock, would not be atomic with them).
   */
  private async capOver(account: string, caps: readonly SpendCap[] | undefined, amount: number, now: Millis): Promise<number> {
    const used = new Map<string, number>();
    for (const cap of caps ?? []) used.set(cap.counter, await this.live(account, cap.counter, now));
    return capOver(caps, amount, (name) => used.get(name)!);
  }

  /** Adds `amount` to each cap's counter (created with the cap's expiry; an existing expiry is never shortened). */
  private async spend(account: string, caps: readonly SpendCap[] | undefined, amount: number, now: Millis): Promise<void> {
    for (const cap of caps ?? []) {
      const c = await this.read<Counter>(k('c', account, cap.counter));
      const exp = Math.max(cap.expiresAt, c?.exp ?? 0);
      await this.keyv.set(k('c', account, cap.counter), { n: (c && c.exp > now ? c.n : 0) + amount, exp } satisfies Counter, ttlUntil(exp, now));
    }
  }

  /** Adds `delta` to each live counter named (a give-back never creates one). */
  private async giveBack(account: string, names: readonly string[] | undefined, delta: number, now: Millis): Promise<void> {
    if (delta === 0) return;
    for (const name of names ?? []) {
      const c = await this.read<Counter>(k('c', account, name));
      if (c && c.exp > now) await this.keyv.set(k('c', account, name), { n: c.n + delta, exp: c.exp } satisfies Counter, ttlUntil(c.exp, now));
    }
  }

  async balance(account: string, now: Millis): Promise<number> {
    return this.withAccount(account, now, async (a) => a.balance);
  }

  async post(account: string, input: PostInput, now: Millis): Promise<PostResult> {
    return this.withAccount(account, now, async (a) => {
      if (input.reference !== undefined && (await this.read(k('ref', account, input.reference))) !== null) {
        return { ok: false, reason: 'duplicate', balance: a.balance };
      }
      if (input.amount < 0 && a.balance + input.amount < 0) return { ok: false, reason: 'insufficient_funds', balance: a.balance };
      const before = a.balance;
      const entry = await this.append(a, account, input, now);
      await this.giveBack(account, input.caps, -input.amount, now);
      await this.outbox.write(account, input.events?.done, a.balance, now);
      await this.outbox.write(account, lowRows(input.events, before, a.balance), a.balance, now);
      if (input.usage) await this.usage.count(account, input.usage, now, postCounts(input.kind, input.amount));
      return { ok: true, entry, balance: a.balance };
    });
  }

  async charge(account: string, input: ChargeInput, now: Millis): Promise<ChargeResult> {
    const counterKey = k('c', account, `free:${input.window}`);
    const { auth } = input;
    // The key record is read inside the money lock, before the account: a refused caller leaves no trace.
    const refuse = auth && (async (): Promise<ChargeResult | undefined> =>
      authMatches(await this.getRecord(account, auth.collection, auth.key, now), auth, now) ? undefined : { ok: false, unauthorized: true });
    const { voidable } = input;
    const idKey = voidable && k('g', account, voidable.id);
    return this.withAccount(account, now, async (a): Promise<ChargeResult> => {
      if (voidable && (tooLate(voidable) || (await this.read(idKey!)) !== null)) return { ok: false, voided: true };
      const u = input.usage;
      if (u?.keyId !== undefined) await this.usage.keyUsed(account, u.keyId, now);
      // Remembers what this charge took, for `void`; expires with the id.
      const remember = (taken: number) => voidable && this.keyv.set(idKey!, { taken, until: voidable.until }, ttlUntil(voidable.until, now));
      const c = await this.read<Counter>(counterKey);
      const used = c && c.exp > now ? c.n : 0;
      if (used < input.freeLimit) {
        await this.keyv.set(counterKey, { n: used + 1, exp: input.windowExpiresAt }, ttlUntil(input.windowExpiresAt, now));
        await remember(0);
        if (u) await this.usage.count(account, u, now, [['free', 1]]);
        return { ok: true, free: true, freeUsed: used + 1, balance: a.balance };
      }
      if (input.price <= 0) return { ok: false, freeUsed: used, balance: a.balance };
      // A cap first, as the reference store: buying credit would not lift it.
      const cap = await this.capOver(account, input.caps, input.price, now);
      if (cap >= 0) {
        await this.outbox.write(account, cappedRows(input.events, cap), a.balance, now);
        return { ok: false, freeUsed: used, balance: a.balance, cap };
      }
      if (a.balance < input.price) return { ok: false, freeUsed: used, balance: a.balance };
      const entry = await this.append(a, account, { amount: -input.price, kind: 'debit', memo: input.memo }, now);
      await this.spend(account, input.caps, input.price, now);
      await this.outbox.write(account, lowRows(input.events, a.balance + input.price, a.balance), a.balance, now);
      await remember(input.price);
      if (u) await this.usage.count(account, u, now, [['paid', 1], ['spent', input.price]]);
      return { ok: true, free: false, freeUsed: used, balance: a.balance, entry };
    }, refuse);
  }

  async void(account: string, input: VoidInput, now: Millis): Promise<VoidResult> {
    const idKey = k('g', account, input.id);
    return this.withAccount(account, now, async (a): Promise<VoidResult> => {
      const record = await this.read<ChargeRecord>(idKey);
      const taken = takenBy(record, now);
      if (taken === VOIDED) return { outcome: 'already', balance: a.balance };
      const until = Math.max(input.until, record?.until ?? 0);
      await this.keyv.set(idKey, { taken: VOIDED, until } satisfies ChargeRecord, ttlUntil(until, now));
      if (taken !== undefined && input.usage) await this.usage.count(account, input.usage, now, [['refunds', 1], ['refunded', taken]]);
      if (taken === 0) {
        const counterKey = k('c', account, `free:${input.window}`);
        const c = await this.read<Counter>(counterKey);
        if (c && c.exp > now && c.n > 0) await this.keyv.set(counterKey, { n: c.n - 1, exp: c.exp }, ttlUntil(c.exp, now));
        return { outcome: 'given_back', free: true, balance: a.balance, entry: null };
      }
      if (taken !== undefined) {
        const entry = await this.append(a, account, { amount: taken, kind: 'refund', memo: input.memo }, now);
        await this.giveBack(account, input.caps, -taken, now);
        await this.outbox.write(account, input.events?.done, a.balance, now);
        return { outcome: 'given_back', free: false, balance: a.balance, entry };
      }
      const hold = a.holds[input.id];
      if (!hold) return { outcome: 'refused', balance: a.balance };
      delete a.holds[input.id];
      const entry = await this.append(a, account, { amount: hold.amount, kind: 'release', reference: `hold:${input.id}`, memo: input.memo }, now);
      await this.giveBack(account, input.caps, -hold.amount, now);
      return { outcome: 'given_back', free: false, balance: a.balance, entry };
    });
  }

  async refund(account: string, input: { window: string; free: boolean; amount: number; memo?: string }, now: Millis): Promise<number> {
    const counterKey = k('c', account, `free:${input.window}`);
    return this.withAccount(account, now, async (a) => {
      if (input.free) {
        const c = await this.read<Counter>(counterKey);
        if (c && c.exp > now && c.n > 0) await this.keyv.set(counterKey, { n: c.n - 1, exp: c.exp }, ttlUntil(c.exp, now));
      } else if (input.amount > 0) {
        await this.append(a, account, { amount: input.amount, kind: 'refund', memo: input.memo }, now);
      }
      return a.balance;
    });
  }

  async hold(account: string, input: HoldInput, now: Millis): Promise<HoldResult> {
    return this.withAccount(account, now, async (a) => {
      if ((await this.read(k('g', account, input.holdId))) !== null) return { ok: false, reason: 'voided', balance: a.balance };
      if (a.holds[input.holdId]) return { ok: false, reason: 'duplicate', balance: a.balance };
      const cap = await this.capOver(account, input.caps, input.amount, now);
      if (cap >= 0) {
        await this.outbox.write(account, cappedRows(input.events, cap), a.balance, now);
        return { ok: false, reason: 'spend_cap', cap, balance: a.balance };
      }
      if (a.balance < input.amount) return { ok: false, reason: 'insufficient_funds', balance: a.balance };
      a.holds[input.holdId] = { amount: input.amount, expiresAt: input.expiresAt };
      await this.append(a, account, { amount: -input.amount, kind: 'hold', reference: `hold:${input.holdId}`, memo: input.memo }, now);
      await this.spend(account, input.caps, input.amount, now);
      await this.outbox.write(account, lowRows(input.events, a.balance + input.amount, a.balance), a.balance, now);
      return { ok: true, balance: a.balance };
    });
  }

  async settle(account: string, holdId: string, actual: number, now: Millis, memo?: string, usage?: UsageInput, caps?: string[]): Promise<SettleResult> {
    return this.withAccount(account, now, async (a) => {
      const hold = a.holds[holdId];
      if (!hold) return { ok: false, reason: 'unknown_hold', balance: a.balance };
      delete a.holds[holdId];
      // Beyond the hold, charge only what the balance covers: the balance never goes below 0.
      const charged = Math.min(actual, hold.amount + a.balance);
      const back = hold.amount - charged;
      const entry = back === 0 ? null : await this.append(a, account, { amount: back, kind: 'settle', memo }, now);
      await this.giveBack(account, caps, -back, now);
      if (usage) await this.usage.count(account, usage, now, charged > 0 ? [['paid', 1], ['spent', charged]] : []);
      return { ok: true, charged, balance: a.balance, entry };
    });
  }

  /** Adds the caller's counters of `usage` under the account's lock (Store.incr with usage). */
  countUsage(account: string, usage: UsageInput, now: Millis): Promise<void> {
    return this.lock.run(k('a', account), () => this.usage.count(account, usage, now));
  }

  /** The stored balance (no hold released): the balance a put's events carry, as in the reference store. */
  async storedBalance(account: string): Promise<number> {
    return (await this.read<Account>(k('a', account)))?.balance ?? 0;
  }

  async ledger(account: string, query: { before?: number; limit: number }): Promise<LedgerEntry[]> {
    const a = await this.read<Account>(k('a', account));
    if (!a) return [];
    const out: LedgerEntry[] = [];
    for (let seq = Math.min(a.seq, (query.before ?? Infinity) - 1); seq >= 1 && out.length < query.limit; seq--) {
      const e = await this.read<LedgerEntry>(k('l', account, String(seq)));
      if (e) out.push(e);
    }
    return out;
  }
}
