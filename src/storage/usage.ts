// Usage counters of the storage contract: what a money operation adds to its account's hour bucket, in the same atomic operation.
import type { LedgerKind, Millis } from './contract.js';

/**
 * Counts one operation in its account's usage. Given with `charge`, `post`, `void`, `settle` or `incr`, the store
 * adds to the bucket's counters in the same atomic operation as what they count, and only when it took effect:
 * a count exists exactly when the money moved (a lost answer, a retry, a crash cannot split them).
 */
export interface UsageInput {
  /** The UTC hour the operation counts in, "2026-12-06T13" (see `usageBucket`). */
  bucket: string;
  /** When the bucket may be forgotten (the end of its hour plus the retention). */
  expiresAt: Millis;
  /**
   * The API key that made the call: a charge that passed its key check (and was not refused as voided) keeps
   * its `now` as the key's last use (per account), whether or not it could be paid.
   */
  keyId?: string;
  /**
   * Counters the caller adds as given (integers), e.g. Claude tokens `tok:<model>:input`; applied only when the
   * operation took effect (a name of USAGE_FIELDS adds to the store's own count).
   */
  add?: Readonly<Record<string, number>>;
}

/** One hour bucket of an account and its counters (see USAGE_FIELDS; `add` names too). */
export interface UsageBucket {
  bucket: string;
  fields: Record<string, number>;
}

/**
 * The reads of usage, optional in the Store contract: a store without them (StoreInfo.usage not true) ignores every
 * `usage` it is given, so it keeps working unchanged; the admin API then answers that usage is not counted.
 */
export interface UsageReads {
  /** The account's buckets from `from` to `to` (hour buckets, both included), oldest first; only buckets with counters, live at `now`. */
  usage?(account: string, from: string, to: string, now: Millis): Promise<UsageBucket[]>;
  /** When each API key of the account was last used (UsageInput.keyId), by key id. */
  lastUsed?(account: string): Promise<Record<string, Millis>>;
}

/**
 * The counters the stores decide by themselves (calls = free + paid):
 * - free: charges that took a free call;
 * - paid: charges that debited their price, settles that charged something, posted 'debit' entries;
 * - spent: micro-USD those took;
 * - refunds: calls given back (a voided charge, free or paid; a posted 'refund' entry);
 * - refunded: micro-USD given back by those;
 * - credited: micro-USD of posted 'grant' and 'purchase' entries.
 * A hold, a hold's release and a void that finds nothing count nothing.
 */
export const USAGE_FIELDS = ['free', 'paid', 'spent', 'refunds', 'refunded', 'credited'] as const;

/** Counters as the stores that run in JS keep them (no prototype: any counter name is a plain key). */
export type Tally = Record<string, number>;
export const newTally = (): Tally => Object.create(null) as Tally;

export function addTo(t: Tally, field: string, n: number): void {
  if (n !== 0) t[field] = (t[field] ?? 0) + n;
}

/** What a posted entry counts (the caller's `add` included), as [counter, n] pairs with distinct names. */
export function postCounts(kind: LedgerKind, amount: number, add?: Readonly<Record<string, number>>): Array<[string, number]> {
  const t = newTally();
  if (kind === 'grant' || kind === 'purchase') addTo(t, 'credited', amount);
  else if (kind === 'refund') (addTo(t, 'refunds', 1), addTo(t, 'refunded', amount));
  else if (kind === 'debit') (addTo(t, 'paid', 1), addTo(t, 'spent', -amount));
  if (add) for (const [field, n] of Object.entries(add)) addTo(t, field, n);
  return Object.entries(t);
}

/** The caller's counters as [counter, n] pairs. */
export const addCounts = (add: Readonly<Record<string, number>> | undefined): Array<[string, number]> =>
  add ? Object.entries(add).filter(([, n]) => n !== 0) : [];

const HOUR_MS = 3_600_000;

/** The UTC hour bucket of `ms`: "2026-12-06T13". */
export const usageBucket = (ms: Millis): string => new Date(ms - (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS)).toISOString().slice(0, 13);

/** When the hour of `bucket` starts. */
export const bucketStart = (bucket: string): Millis => Date.parse(`${bucket}:00:00.000Z`);

/** The UTC days ("2026-12-06") that hold the buckets from `from` to `to`, in order: how the day-keyed stores find them. */
export function bucketDays(from: string, to: string): string[] {
  const days: string[] = [];
  const last = Date.parse(`${to.slice(0, 10)}T00:00:00.000Z`);
  for (let t = Date.parse(`${from.slice(0, 10)}T00:00:00.000Z`); t <= last; t += 24 * HOUR_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/**
 * Buckets from stores that keep one record per UTC day (hour -> counters): those between `from` and `to`,
 * oldest first, without empty ones.
 */
export function fromDays(days: Array<[day: string, hours: Record<string, Tally> | null]>, from: string, to: string): UsageBucket[] {
  const out: UsageBucket[] = [];
  for (const [day, hours] of days) {
    if (!hours) continue;
    for (const hour of Object.keys(hours).sort()) {
      const bucket = `${day}T${hour}`;
      const fields = hours[hour]!;
      if (bucket >= from && bucket <= to && Object.keys(fields).length > 0) out.push({ bucket, fields: { ...fields } });
    }
  }
  return out;
}
