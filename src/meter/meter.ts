// The meter: "a free call left today, else a debit of the price" in one store operation, and its refund.
import type { AipaygentError } from '../errors.js';
import { paymentRequired, type WaysToPay } from '../ledger/payment-required.js';
import type { ChargeAuth, ChargeInput, Store } from '../storage/contract.js';
import { utcDay } from '../time.js';

/** What the meter decided for one call; handlers read it as `ctx.charge`. */
export interface Charge {
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
}

export type ChargeOutcome =
  | { ok: true; charge: Charge }
  | { ok: false; price: number; balance: number; freeRemaining: number; resetAt: number }
  /** Only with `auth`: the key did not verify, and nothing was taken. */
  | { ok: false; unauthorized: true };

export interface QuotaStatus {
  freeCallsPerDay: number;
  freeCallsRemaining: number;
  resetAt: number;
}

/** Kept one hour past midnight so a refund of a call charged at 23:59:59 still finds its counter. */
const WINDOW_GRACE_MS = 3_600_000;

/** Name of the store counter holding a window's used free calls (the name `store.charge` uses). */
export const freeCounterName = (window: string): string => `free:${window}`;

export class Meter {
  constructor(
    private readonly store: Store,
    readonly freeCallsPerDay: number,
    private readonly ways: WaysToPay = {},
  ) {}

  /**
   * One store round trip. `price` > 0: a free call, else a debit of `price`, else refused.
   * `price` 0 (token-billed routes): a free call when one is left, else ok with nothing taken;
   * the handler then reserves and settles the real cost itself (`store.hold` / `store.settle`).
   * `auth` (KeyService.chargeAuth) verifies the caller's API key in that same store operation.
   */
  async charge(accountId: string, price: number, now: number, memo: string, auth?: ChargeAuth): Promise<ChargeOutcome> {
    const { day, endsAt } = utcDay(now);
    const input: ChargeInput = { window: day, windowExpiresAt: endsAt + WINDOW_GRACE_MS, freeLimit: this.freeCallsPerDay, price, memo };
    if (auth) input.auth = auth;
    const r = await this.store.charge(accountId, input, now);
    if ('unauthorized' in r) return r;
    const freeRemaining = Math.max(0, this.freeCallsPerDay - r.freeUsed);
    if (r.ok) return { ok: true, charge: { free: r.free, price: r.free ? 0 : price, balance: r.balance, freeRemaining, window: day, resetAt: endsAt } };
    if (price === 0) return { ok: true, charge: { free: false, price: 0, balance: r.balance, freeRemaining, window: day, resetAt: endsAt } };
    return { ok: false, price, balance: r.balance, freeRemaining, resetAt: endsAt };
  }

  /** Whether `charge` can verify the API key itself (StoreInfo.chargeAuth); false until the store is open. */
  get verifiesKeys(): boolean {
    return this.store.info?.chargeAuth === true;
  }

  /** Gives back what `charge` took (the free call, or the price as a 'refund' entry); returns the new state. */
  async refund(accountId: string, charge: Charge, now: number, memo: string): Promise<Charge> {
    if (!charge.free && charge.price === 0) return charge;
    const balance = await this.store.refund(accountId, { window: charge.window, free: charge.free, amount: charge.price, memo }, now);
    const freeRemaining = charge.free ? Math.min(this.freeCallsPerDay, charge.freeRemaining + 1) : charge.freeRemaining;
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
    state: { price: number; balance: number; freeRemaining: number; resetAt: number },
    headers?: Record<string, string>,
    x402 = false,
  ): Promise<AipaygentError> {
    return paymentRequired(
      {
        accountId, price: state.price, balance: state.balance, freeCallsPerDay: this.freeCallsPerDay,
        freeCallsRemaining: state.freeRemaining, freeCallsResetAt: state.resetAt,
      },
      x402 ? { ...this.ways, x402 } : this.ways,
      headers,
    );
  }
}
