// What the stores that run in JS (memory, Keyv, SQLite) keep per charge id, so that `void` can undo a charge exactly once.
import type { ChargeId, Millis } from './contract.js';

/** What a charge id stands for: `taken` 0 = a free call, > 0 = the price debited, VOIDED; kept until `until`. */
export interface ChargeRecord {
  taken: number;
  until: Millis;
}

export const VOIDED = -1;

/**
 * Whether a charge with `voidable` must be refused before anything is read: it reached the store after
 * its `until` by the store's clock (here the process's own), so its caller has given it up long ago.
 */
export const tooLate = (voidable: ChargeId): boolean => Date.now() > voidable.until;

/** What a void finds under an id: the charge it undoes, VOIDED, or undefined (nothing, or expired at `now`). */
export const takenBy = (record: ChargeRecord | null | undefined, now: Millis): number | undefined =>
  record && record.until > now ? record.taken : undefined;
