// The rules a paid operation carries into the store: its spend caps and the events it may cause (balance.low,
// spend_cap.reached), from the options, the account's settings and the key's own caps (cached briefly per key).
import { invalid } from '../errors.js';
import { decodeKeyValue, KEYS_COLLECTION, readCatalog, type AccountSettings } from '../keys/key-record.js';
import { onceEventId, type Notifier } from '../observe/webhooks/notifier.js';
import type { Store } from '../storage/contract.js';
import type { OperationEvents, OutboxRow } from '../storage/outbox.js';
import { iso } from '../time.js';
import { applyCaps, capLimits, keyCaps, type AppliedCap, type CapLimits, type OwnCaps } from './spend-caps.js';

/**
 * How long one process trusts what it read of a key's caps and its account's settings: a change made through
 * another process applies within this long (the process that made it forgets at once). Counting is exact
 * regardless: the counters live in the store and are checked in the charge itself.
 */
export const RULES_TTL_MS = 10_000;
const CACHE_MAX = 10_000;

interface Rules {
  /** False when the key record was not found (a forged or revoked-and-expired key): such rules are not cached. */
  known: boolean;
  limits: CapLimits;
  /** The balance.low threshold, when webhooks want the event. */
  low: number | undefined;
  until: number;
}

/** What one paid operation carries: `caps` (in order) and `events`, and the caps as applied (index = the store's `cap`). */
export interface CallRules {
  applied: AppliedCap[];
  events: OperationEvents | undefined;
}

const NONE: CallRules = Object.freeze({ applied: [], events: undefined });
const NO_LIMITS: CapLimits = Object.freeze({});

export class MoneyRules {
  /** By account, then by key id ('' for a call without a key): no string is built per call. */
  private readonly cache = new Map<string, Map<string, Rules>>();
  private cached = 0;
  /** False when nothing can apply (no caps anywhere, no webhooks): then nothing is read or built. */
  readonly active: boolean;

  constructor(
    private readonly store: Store,
    private readonly defaults: CapLimits,
    private readonly notifier: Notifier,
    /** Whether keys and accounts may have their own caps (the admin API is served). */
    ownCaps: boolean,
  ) {
    this.active = ownCaps || Object.keys(defaults).length > 0 || notifier.wants('balance.low');
  }

  /**
   * The rules of a paid operation of (account, key) at `now`; one read of the key and the account per RULES_TTL_MS.
   * Synchronous when cached (no promise on the hot path).
   */
  forCall(accountId: string, keyId: string | undefined, now: number): CallRules | Promise<CallRules> {
    if (!this.active || !this.enforced) return NONE;
    const rules = this.cache.get(accountId)?.get(keyId ?? '');
    if (rules !== undefined && rules.until > now) return this.build(rules, accountId, keyId, now);
    return this.read(accountId, keyId, now).then((fresh) => {
      // A key that does not exist is refused by the charge anyway: caching it would let a flood of forged keys evict real ones.
      if (!fresh.known) return this.build(fresh, accountId, keyId, now);
      if (this.cached >= CACHE_MAX) (this.cache.clear(), (this.cached = 0));
      let byKey = this.cache.get(accountId);
      if (!byKey) this.cache.set(accountId, (byKey = new Map()));
      if (!byKey.has(keyId ?? '')) this.cached++;
      byKey.set(keyId ?? '', fresh);
      return this.build(fresh, accountId, keyId, now);
    });
  }

  private build(rules: Rules, accountId: string, keyId: string | undefined, now: number): CallRules {
    if (rules.low === undefined && rules.limits === NO_LIMITS) return NONE;
    const applied = applyCaps(rules.limits, keyId, now);
    const events: OperationEvents = {};
    if (rules.low !== undefined) {
      const rows = this.notifier.rows('balance.low', { account_id: accountId, threshold_micro_usd: rules.low });
      if (rows) events.low = { below: rules.low, rows };
    }
    if (applied.length > 0 && this.notifier.wants('spend_cap.reached')) events.capped = applied.map((cap) => this.capRows(accountId, keyId, cap));
    return { applied, events: events.low || events.capped ? events : undefined };
  }

  /** Whether the store checks caps in its money operations (StoreInfo.outbox); false before it opens. */
  get enforced(): boolean {
    return this.store.info?.outbox === true;
  }

  /** The 400 for a cap set on a store that would not enforce it (a custom Store without StoreInfo.outbox). */
  refuseUnenforced(): void {
    if (!this.enforced) throw invalid(`spend caps are not enforced by this server's store (${this.store.info?.backend ?? 'not open'}): it does not check them in its money operations`);
  }

  /** Forgets what this process read of an account (its settings or a key's caps changed here). */
  forget(accountId: string): void {
    this.cached -= this.cache.get(accountId)?.size ?? 0;
    this.cache.delete(accountId);
  }

  private capRows(accountId: string, keyId: string | undefined, cap: AppliedCap): OutboxRow[] {
    const data = {
      account_id: accountId, ...(cap.name.startsWith('key') && { key_id: keyId }), cap: cap.name, limit_micro_usd: cap.limit,
      period: cap.period, resets_at: iso(cap.resetsAt),
    };
    // Once per cap and period, however many calls it refuses and in whichever process.
    return this.notifier.rows('spend_cap.reached', data, onceEventId(accountId, cap.counter)) ?? [];
  }

  private async read(accountId: string, keyId: string | undefined, now: number): Promise<Rules> {
    const [key, catalog] = await Promise.all([
      keyId === undefined ? undefined : this.store.get(accountId, KEYS_COLLECTION, keyId, now),
      readCatalog(this.store, accountId, now),
    ]);
    let own: OwnCaps | undefined;
    if (keyId !== undefined) own = key ? keyCaps(decodeKeyValue(key.value, keyId)) : {};
    const settings: AccountSettings | undefined = catalog?.catalog.settings;
    const found = capLimits(this.defaults, own, settings);
    const limits = Object.keys(found).length === 0 ? NO_LIMITS : found;
    const wanted = this.notifier.wants('balance.low');
    const threshold = settings?.balance_low_threshold_micro_usd === null ? undefined : settings?.balance_low_threshold_micro_usd ?? this.notifier.config?.balanceLowMicroUsd;
    return { known: keyId === undefined || key !== null, limits, low: wanted ? threshold : undefined, until: now + RULES_TTL_MS };
  }
}
