// The storage contract's webhook outbox and spend caps: events written in the same atomic operation as their
// cause, delivered later by a worker; spend limits counted in the same operation as the money they limit.
import type { Millis } from './contract.js';

/**
 * One delivery of one event to one endpoint, as an operation writes it. Its id is unique per store and
 * insert-once: a row whose id exists is not written again (so a `spend_cap.reached` fires once per cap and
 * period, however many calls the cap refuses).
 */
export interface OutboxRow {
  /** `${eventId}.${endpoint}`; no ',' ';' or whitespace (ids and endpoint names are [A-Za-z0-9_.:-]). */
  id: string;
  /** The event's id: the `webhook-id` of every attempt of every delivery of the event. */
  eventId: string;
  /** The endpoint's stable name (a hash of its URL), resolved to a URL by the worker. */
  endpoint: string;
  type: string;
  /** The event's data as a JSON object text; the store keeps it as given. */
  data: string;
}

/**
 * Events an operation writes. `done`: when the operation took effect (posted, given back, put). `low`: when
 * the operation takes the balance from `>= below` to `< below` (a charge's debit, a hold, a negative post),
 * so once per crossing. `capped[i]`: when `caps[i]` refuses the operation (the first cap refusing is the one).
 */
export interface OperationEvents {
  done?: OutboxRow[];
  low?: { below: number; rows: OutboxRow[] };
  capped?: OutboxRow[][];
}

/**
 * A spend limit in micro-USD: a counter of the account (like the free calls' counter), read and raised in the
 * same atomic operation as the debit or hold it limits. A charge or hold is refused when `counter + amount`
 * would exceed `limit`; a void, a refund post or a settle gives back to the counters named by the caller.
 */
export interface SpendCap {
  /** Counter name, e.g. "cap:d:2026-12-06:a" (no ',' ';' or whitespace). */
  counter: string;
  limit: number;
  /** When the counter may be forgotten (the end of its period plus a grace). */
  expiresAt: Millis;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** A delivery as stored. */
export interface OutboxDelivery extends OutboxRow {
  account: string;
  createdAt: Millis;
  /** The account's balance right after the operation that wrote it. */
  balance: number;
  status: DeliveryStatus;
  /** Attempts started (claims); the claim that started attempt n is the only one whose `finish(…, n)` counts. */
  attempts: number;
  /** When a pending delivery is due. */
  nextAt: Millis;
  /** While later than now, one worker holds the delivery (pending deliveries only). */
  leaseUntil: Millis;
  lastError: string | null;
  updatedAt: Millis;
}

export type DeliveryOutcome =
  | { delivered: true }
  /** retryAt null: no more tries (failed, until an operator retries it). */
  | { delivered: false; error: string; retryAt: Millis | null };

export interface DeliveryQuery {
  status?: DeliveryStatus;
  /** Newest first; only deliveries strictly before this cursor (a delivery's `${createdAt}:${id}`). */
  before?: string;
  limit: number;
}

/**
 * The outbox's reads and the worker's operations (StoreInfo.outbox). Deliveries of every account; delivered and
 * failed ones are kept `OUTBOX_KEEP_MS` after their last update for the admin API, then swept.
 */
export interface Outbox {
  /**
   * Leases up to `limit` pending deliveries due at `now` whose lease has run out, oldest due first: each gets
   * attempts + 1 and `leaseUntil`, atomically, so two workers (processes) never hold the same delivery.
   */
  claim(now: Millis, leaseUntil: Millis, limit: number): Promise<OutboxDelivery[]>;
  /** Records how attempt `attempt` ended; ignored (false) when that attempt is not the delivery's latest or it is no longer pending. */
  finish(account: string, id: string, attempt: number, outcome: DeliveryOutcome, now: Millis): Promise<boolean>;
  list(query: DeliveryQuery): Promise<OutboxDelivery[]>;
  get(account: string, id: string): Promise<OutboxDelivery | null>;
  /** Makes a delivery pending, due now and unleased, with its tries back (attempts 0); false when unknown. */
  retry(account: string, id: string, now: Millis): Promise<boolean>;
}

/** How long delivered and failed deliveries stay listable. */
export const OUTBOX_KEEP_MS = 7 * 24 * 3_600_000;

/** The list cursor of a delivery. */
export const deliveryCursor = (d: Pick<OutboxDelivery, 'createdAt' | 'id'>): string => `${d.createdAt}:${d.id}`;

/** Orders deliveries newest first (createdAt, then id descending), the order `list` answers in. */
export function newestFirst(a: Pick<OutboxDelivery, 'createdAt' | 'id'>, b: Pick<OutboxDelivery, 'createdAt' | 'id'>): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** True when delivery `d` is before the cursor `before` in `newestFirst` order (strictly). */
export function beforeCursor(d: Pick<OutboxDelivery, 'createdAt' | 'id'>, before: string | undefined): boolean {
  if (before === undefined) return true;
  const i = before.indexOf(':');
  const at = Number(before.slice(0, i));
  const id = before.slice(i + 1);
  return d.createdAt < at || (d.createdAt === at && d.id < id);
}

/**
 * For the stores that keep deliveries as objects (memory, Keyv): applies attempt `attempt`'s outcome to `d` in place;
 * false (nothing changed) when it is not `account`'s, no longer pending, or another attempt's.
 */
export function applyOutcome(d: OutboxDelivery | undefined, account: string, attempt: number, outcome: DeliveryOutcome, now: Millis): d is OutboxDelivery {
  if (!d || d.account !== account || d.status !== 'pending' || d.attempts !== attempt) return false;
  d.leaseUntil = 0;
  d.updatedAt = now;
  if (outcome.delivered) d.status = 'delivered';
  else {
    d.lastError = outcome.error;
    if (outcome.retryAt === null) d.status = 'failed';
    else d.nextAt = outcome.retryAt;
  }
  return true;
}

/** For the same stores: one page of `list` from all deliveries. */
export const listPage = (all: Iterable<OutboxDelivery>, query: DeliveryQuery): OutboxDelivery[] =>
  [...all]
    .filter((d) => (query.status === undefined || d.status === query.status) && beforeCursor(d, query.before))
    .sort(newestFirst)
    .slice(0, query.limit)
    .map((d) => ({ ...d }));
