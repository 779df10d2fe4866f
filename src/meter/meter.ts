// The meter: "a free call left today, else a debit of the price" in one store operation, and its refund (a void by charge id).
import { randomBytes } from 'node:crypto';
import { StoreUnavailableError, type AipaygentError } from '../errors.js';
import { paymentRequired, type WaysToPay } from '../ledger/payment-required.js';
import type { ChargeAuth, ChargeInput, Store, VoidInput } from '../storage/contract.js';
import type { VoidQueue } from '../storage/void-queue.js';
import { utcDay } from '../time.js';
import type { MoneyRules } from './money-rules.js';
import type { AppliedCap } from './spend-caps.js';
import type { UsageRecorder } from './usage.js';
import type { Notifier } from '../observe/webhooks/notifier.js';

/**
 * How long a charge can be voided: the store keeps its id that long (one small record per charge), and
 * a void that cannot reach the store is retried until shortly before then (see VoidQueue).
 */
export const CHARGE_VOIDABLE_MS = 15 * 60_000;

/** Charge ids: a random prefix per process (72 bits) and a counter, so unique without a syscall per call. */
const ID_PREFIX = `chg_${randomBytes(9).toString('base64url')}`;
let idCounter = 0;
const newChargeId = (): string => `${ID_PREFIX}${(idCounter++).toString(36)}`;

/** What the meter decided for one call; handlers read it as `ctx.charge`. */
export interface Charge {
  /** The charge's identity (also in the memo of its ledger entry): `refund` voids it by this id. */
  id: string;
  /** Until when the charge can be voided; null when it was not made voidable (a store whose answers cannot be lost). */
  voidableUntil: number | null;
  /** True when the call took one of today's free calls. */
  free: boolean;
  /** micro-USD the meter debited (0 when free; always 0 on token-billed routes, which hold/settle themselves). */
  price: number;
  /** Balance in micro-USD right after the meter's operation. */
  balance: number;
  /** Free calls left today after this call. */
  freeRemaining: number;
  /** The free-call window (UTC day) the call counted in, and when it resets. */
  window: string;
  resetAt: number;
  /** The spend-cap counters the price counted in (given back with it by `refund`). */
  caps?: string[];
}

/** Why a paid call was refused: the balance (no `cap`), or a spend cap, which buying credit does not lift. */
export interface Refusal {
  price: number;
  balance: number;
  freeRemaining: number;
  resetAt: number;
  cap?: AppliedCap;
}

export type ChargeOutcome =
  | { ok: true; charge: Charge }
  | ({ ok: false } & Refusal)
  /** Only with `auth`: the key did not verify, and nothing was taken. */
  | { ok: false; unauthorized: true };

export interface QuotaStatus {
  freeCallsPerDay: number;
  freeCallsRemaining: number;
  resetAt: number;
}

/** Kept one hour past midnight so a refund of a call charged at 23:59:59 still finds its counter. */
const WINDOW_GRACE_MS = 3_600_000;

/** What a free call given back with `incr` counts (a void counts it by itself). */
const FREE_REFUND = Object.freeze({ refunds: 1 });

/** Name of the store counter holding a window's used free calls (the name `store.charge` uses). */
export const freeCounterName = (window: string): string => `free:${window}`;

export class Meter {
  constructor(
    private readonly store: Store,
    readonly freeCallsPerDay: number,
    /** Voids that could not reach the store, retried in the background. */
    private readonly voids: VoidQueue,
    private readonly ways: WaysToPay = {},
    /** Counts each charge and refund in the account's usage (in the same store operation); none: not counted. */
    readonly usage?: UsageRecorder,
    /** Spend caps and the events a charge may cause; none: neither. */
    private readonly rules?: MoneyRules,
    private readonly notifier?: Notifier,
  ) {}

  /**
   * One store round trip. `price` > 0: a free call, else a debit of `price`, else refused.
   * `price` 0 (token-billed routes): a free call when one is left, else ok with nothing taken;
   * the handler then reserves and settles the real cost itself (`store.hold` / `store.settle`).
   * `auth` (KeyService.chargeAuth) verifies the caller's API key in that same store operation; `keyId` (the key
   * already verified, else auth's) has its last use kept with the usage.
   */
  async charge(accountId: string, price: number, now: number, memo: string, auth?: ChargeAuth, keyId: string | undefined = auth?.key): Promise<ChargeOutcome> {
    const { day, endsAt } = utcDay(now);
    const id = newChargeId();
    const until = now + CHARGE_VOIDABLE_MS;
    const input: ChargeInput = { window: day, windowExpiresAt: endsAt + WINDOW_GRACE_MS, freeLimit: this.freeCallsPerDay, price, memo: `${memo} ${id}` };
    // A store whose answers cannot be lost keeps no record per charge id: nothing could ever need voiding.
    const voidableUntil = this.store.info?.inProcess === true ? null : until;
    if (voidableUntil !== null) input.voidable = { id, until };
    if (auth) input.auth = auth;
    const usage = this.usage?.input(now, keyId);
    if (usage) input.usage = usage;
    let rules = this.rules && price > 0 ? this.rules.forCall(accountId, keyId, now) : undefined;
    if (rules instanceof Promise) rules = await rules;
    if (rules && rules.applied.length > 0) input.caps = rules.applied;
    if (rules?.events) input.events = rules.events;
    let r;
    try {
      r = await this.store.charge(accountId, input, now);
    } catch (error) {
      if (voidableUntil === null) throw error; // it threw before it took anything
      // No answer (a timeout, a broken connection): the charge may have committed, or may still. The call is
      // answered 503, so the charge is voided by id: given back if it committed, refused if it arrives later.
      this.voids.defer(accountId, { id, window: day, until, memo: `void: ${memo} (answer lost) ${id}`, usage: this.usage?.input(now), caps: input.caps?.map((c) => c.counter) }, error);
      throw error;
    }
    if ('unauthorized' in r) return r;
    if (usage?.keyId !== undefined && !('voided' in r)) this.usage!.keyUsed(usage.keyId, now);
    // Only a charge sent again under a voided id is refused so; ours are new, so this is a fault.
    if ('voided' in r) throw new StoreUnavailableError(new Error(`charge id ${id} refused as voided`));
    const freeRemaining = Math.max(0, this.freeCallsPerDay - r.freeUsed);
    if (r.ok) {
      this.usage?.active(accountId, now);
      const charge: Charge = { id, voidableUntil, free: r.free, price: r.free ? 0 : price, balance: r.balance, freeRemaining, window: day, resetAt: endsAt };
      if (!r.free && input.caps) charge.caps = input.caps.map((c) => c.counter);
      return { ok: true, charge };
    }
    if (price === 0) return { ok: true, charge: { id, voidableUntil, free: false, price: 0, balance: r.balance, freeRemaining, window: day, resetAt: endsAt } };
    const cap = r.cap === undefined ? undefined : rules?.applied[r.cap];
    return { ok: false, price, balance: r.balance, freeRemaining, resetAt: endsAt, ...(cap && { cap }) };
  }

  /** Whether `charge` can verify the API key itself (StoreInfo.chargeAuth); false until the store is open. */
  get verifiesKeys(): boolean {
    return this.store.info?.chargeAuth === true;
  }

  /**
   * Gives back what `charge` took (the free call, or the price as a 'refund' entry) by voiding it, so at
   * most once; returns the new state. When the store fails, the void is retried in the background and
   * the fault is thrown.
   */
  async refund(accountId: string, charge: Charge, now: number, memo: string): Promise<Charge> {
    if (!charge.free && charge.price === 0) return charge;
    const fullMemo = `${memo} ${charge.id}`;
    let balance = charge.balance;
    let freeBack = charge.free;
    this.usage?.active(accountId, now);
    // Only a paid call's refund is money back to the account (a free call given back is not credit).
    const events = charge.free ? undefined : this.notifier?.done('credits.refunded', { account_id: accountId, amount_micro_usd: charge.price, charge_id: charge.id, reason: memo });
    if (charge.voidableUntil === null) {
      // Not voidable: its answer was never lost and this runs once, so the plain operations give it back (and count it).
      if (charge.free) await this.store.incr(accountId, freeCounterName(charge.window), -1, charge.resetAt + WINDOW_GRACE_MS, this.usage?.input(now, undefined, FREE_REFUND));
      else balance = (await this.store.post(accountId, { amount: charge.price, kind: 'refund', memo: fullMemo, usage: this.usage?.input(now), caps: charge.caps, events }, now)).balance;
    } else {
      const input: VoidInput = { id: charge.id, window: charge.window, until: charge.voidableUntil, memo: fullMemo, usage: this.usage?.input(now), caps: charge.caps, events };
      const r = await this.voids.void(accountId, input, now);
      balance = r.balance;
      freeBack = r.outcome === 'given_back' && r.free;
      // The store forgot the id (the call outlived CHARGE_VOIDABLE_MS): the call stays charged, said out loud.
      if (r.outcome === 'refused') this.voids.forgotten(accountId, input);
    }
    const freeRemaining = freeBack ? Math.min(this.freeCallsPerDay, charge.freeRemaining + 1) : charge.freeRemaining;
    return Object.assign({}, charge, { balance, freeRemaining, free: false, price: 0 });
  }

  /** Today's free-call state of an account (one counter read). */
  async quota(accountId: string, now: number): Promise<QuotaStatus> {
    const { day, endsAt } = utcDay(now);
    const used = await this.store.counter(accountId, freeCounterName(day), now);
    return { freeCallsPerDay: this.freeCallsPerDay, freeCallsRemaining: Math.max(0, this.freeCallsPerDay - used), resetAt: endsAt };
  }

  /**
   * The 402 error for a caller who cannot pay `price`. Token-billed handlers use it when their
   * hold is refused, so every 402 carries the same `payment` object. `x402`: this answer offers
   * x402 for the call (its PAYMENT-REQUIRED header is among `headers`).
   */
  paymentRequired(
    accountId: string,
    state: Refusal,
    headers?: Record<string, string>,
    x402 = false,
  ): Promise<AipaygentError> {
    return paymentRequired(
      {
        accountId, price: state.price, balance: state.balance, freeCallsPerDay: this.freeCallsPerDay,
        freeCallsRemaining: state.freeRemaining, freeCallsResetAt: state.resetAt, cap: state.cap,
      },
      x402 ? { ...this.ways, x402 } : this.ways,
      headers,
    );
  }
}
