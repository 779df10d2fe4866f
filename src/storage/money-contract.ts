// The money operations' inputs and results of the storage contract (Store.charge, hold, void, settle).
import type { LedgerEntry, Millis } from './contract.js';
import type { OperationEvents, SpendCap } from './outbox.js';
import type { UsageInput } from './usage.js';

/**
 * Authenticates the caller inside `charge`, so that "is this API key valid?" and "take the free call
 * or the price" are one atomic store operation (one round trip) instead of a read and then a charge.
 * The charge proceeds only if the record (account, collection, key) is live at `now`, has tag `tag`
 * (or a scoped tag naming `scope`) and its value begins with the 32 bytes `hash`. The store may compare
 * `hash` with a plain, early-exit comparison: both sides are SHA-256 digests, and a caller chooses only
 * the preimage (the presented key), so timing reveals at most how many leading bytes of the digest of
 * their own guess match, which preimage resistance makes useless for finding a key (charge-auth.ts).
 */
export interface ChargeAuth {
  collection: string;
  key: string;
  tag: string;
  /** The 32-byte SHA-256 of the presented secret; any other length never matches. */
  hash: Uint8Array;
  /** A scope the call needs (no ',' or ';'): a record tagged `${tag};<scope>,…` naming it matches too (a scoped key); `tag` alone always does. */
  scope?: string;
}

/** "A free call left today, else a debit of `price`", as one atomic operation. */
export interface ChargeInput {
  /** Window id for the free calls, e.g. the UTC day "2026-11-24". */
  window: string;
  /** When the window's counter may be forgotten. */
  windowExpiresAt: Millis;
  freeLimit: number;
  /** micro-USD debited when no free call is left; 0 means free calls only. */
  price: number;
  memo?: string;
  /**
   * When given, checked first: if it fails, nothing is read or written beyond the check (no free
   * call, no debit, no account created) and the answer is `{ ok: false, unauthorized: true }`.
   */
  auth?: ChargeAuth;
  /**
   * The charge's identity, so that `void` can undo it (DESIGN.md 9, "Charges have identities"). The
   * store then remembers what the charge took under `voidable.id` until `voidable.until`, and refuses
   * the charge (`{ ok: false, voided: true }`, nothing taken) when that id is already known (voided
   * before the charge arrived, or used) or when the charge reaches the store after `voidable.until` by
   * the store's own clock (a charge that late has been given up by its caller).
   */
  voidable?: ChargeId;
  /** Counted when it took a free call or the price; its `keyId`'s last use once the key check passed. */
  usage?: UsageInput;
  /** Limits on the price (never on a free call): refused, nothing taken, `cap` = the index of the first over its limit. */
  caps?: SpendCap[];
  /** `low` when the debit crosses the threshold; `capped[i]` when caps[i] refuses. */
  events?: OperationEvents;
}

/** Identity of a charge: unique per account, remembered by the store until `until`. */
export interface ChargeId {
  id: string;
  until: Millis;
}

export type ChargeResult =
  | { ok: true; free: true; freeUsed: number; balance: number }
  | { ok: true; free: false; freeUsed: number; balance: number; entry: LedgerEntry }
  /** `cap`: refused by `caps[cap]` (the balance may have covered the price). */
  | { ok: false; freeUsed: number; balance: number; cap?: number }
  /** Only when `auth` was given and did not match; says nothing about the account. */
  | { ok: false; unauthorized: true }
  /** Only with `voidable`: the id was voided or used before, or the charge arrived too late; nothing was taken. */
  | { ok: false; voided: true };

export interface HoldInput {
  holdId: string;
  amount: number;
  expiresAt: Millis;
  memo?: string;
  /** As ChargeInput.caps, on `amount`; an expired hold's release (sweep) gives nothing back to them. */
  caps?: SpendCap[];
  events?: OperationEvents;
}

/** 'voided': a `void` of this hold id came first (the hold's answer was lost and its caller gave up). */
export type HoldResult =
  | { ok: true; balance: number }
  | { ok: false; reason: 'insufficient_funds' | 'duplicate' | 'voided'; balance: number }
  | { ok: false; reason: 'spend_cap'; cap: number; balance: number };

/** What `void` undoes: a charge (by `ChargeInput.voidable.id`) or a hold (by its holdId). */
export interface VoidInput {
  id: string;
  /** The free-call window the charge counted in (`ChargeInput.window`); unused for a hold. */
  window: string;
  /**
   * Until when the void is remembered: a charge or hold with this id reaching the store before then is
   * refused. The charge's `voidable.until`; a hold's `expiresAt` (a hold arriving later releases itself).
   */
  until: Millis;
  /** Memo of the entry that gives the money back. */
  memo?: string;
  /** Counted when a charge is given back (a refund of the call; a hold's release counts nothing). */
  usage?: UsageInput;
  /** Spend-cap counters given back what was given back (a paid charge's price, a hold's amount). */
  caps?: string[];
  /** `done` when a paid charge's price is given back (not a free call, not a hold). */
  events?: OperationEvents;
}

export type VoidResult =
  /** It had committed: what it took is given back now (a free call, a 'refund' entry, or a hold's 'release' entry). */
  | { outcome: 'given_back'; free: boolean; balance: number; entry: LedgerEntry | null }
  /** Nothing had committed under this id: until `until`, a charge or hold with it is refused. */
  | { outcome: 'refused'; balance: number }
  /** Voided before: nothing changes (a void is idempotent, so a void whose answer was lost is simply sent again). */
  | { outcome: 'already'; balance: number };

/** Settles a hold at `actual` micro-USD: the unused part comes back in one 'settle' entry. */
export type SettleResult =
  | { ok: true; charged: number; balance: number; entry: LedgerEntry | null }
  | { ok: false; reason: 'unknown_hold'; balance: number };
