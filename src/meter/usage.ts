// Usage counting on the hot path: the UsageInput each money operation carries, and the index of accounts active per day.
import type { Store } from '../storage/contract.js';
import type { UsageInput } from '../storage/usage.js';
import { utcDay } from '../time.js';

/** Usage counters for the admin API (`GET /admin/usage`): per account and UTC hour, kept in the store. */
export interface UsageOptions {
  /** Days an hour of counters is kept (at most 3650). @default 400 */
  retentionDays?: number;
}

/** How an operator turns usage counting on (it is on by default). */
export const TURN_ON_USAGE = 'the usage option (on unless set to false; AIPAYGENT_USAGE_RETENTION_DAYS=0 turns it off for the standalone server)';

export interface UsageConfig {
  retentionDays: number;
}

export function parseUsage(options: boolean | UsageOptions | undefined, problems: string[]): UsageConfig | undefined {
  if (options === false) return undefined;
  if (options !== undefined && options !== true && (options === null || typeof options !== 'object')) {
    problems.push('usage must be true, false or an object such as { retentionDays: 400 }');
    return undefined;
  }
  const retentionDays = (options === true ? undefined : options?.retentionDays) ?? 400;
  if (!Number.isSafeInteger(retentionDays) || retentionDays < 1 || retentionDays > 3650) {
    problems.push(`usage.retentionDays must be an integer between 1 and 3650 (got ${String(retentionDays)})`);
  }
  return { retentionDays };
}

/**
 * The pseudo-account (not an acct_ id, so never anyone's) whose collections `active:<YYYY-MM-DD>` hold one record per
 * account with usage that day: how the all-accounts sum finds its accounts. It is an index, not money: written once
 * per account and day by each process, off the call's path, and retried on the next call when the write failed.
 */
export const REGISTRY_ACCOUNT = '_registry';
export const activeCollection = (day: string): string => `active:${day}`;

const HOUR_MS = 3_600_000;
/** A key's last use is sent to the store at most this often by one process: to the minute is enough, and it spares a write per call. */
const KEY_USE_EVERY_MS = 60_000;
/** Keys whose last use this process remembers sending, at most (then it forgets them all and sends again). */
const MAX_KEYS_NOTED = 100_000;
const DAY_MS = 24 * HOUR_MS;
const EMPTY = new Uint8Array(0);

/** Claude tokens of one call as the usage counters `tok:<model>:<kind>` (see UsageService). */
export function claudeTokens(model: string, t: { input: number; output: number; cacheRead: number; cacheWrite5m: number; cacheWrite1h: number }): Record<string, number> {
  return {
    [`tok:${model}:input`]: t.input, [`tok:${model}:output`]: t.output,
    [`tok:${model}:cache_read`]: t.cacheRead, [`tok:${model}:cache_write`]: t.cacheWrite5m + t.cacheWrite1h,
  };
}

export class UsageRecorder {
  /** The current hour's bucket, made once an hour: the hot path only compares a number. */
  private hourStart = NaN;
  private bucket = '';
  private expiresAt = 0;
  /** Accounts already written to today's activity index by this process. */
  private day = '';
  private seen = new Set<string>();
  /** When this process last had each key's use stored. */
  private keysNoted = new Map<string, number>();

  constructor(private readonly store: Store, private readonly config: UsageConfig) {}

  /**
   * The usage a money operation at `now` carries, or undefined when the store does not count usage (StoreInfo.usage):
   * a store written before usage existed gets nothing new and works as before. `keyId` is sent when this process
   * has not stored that key's use in the last minute (see `keyUsed`).
   */
  input(now: number, keyId?: string, add?: Record<string, number>): UsageInput | undefined {
    if (this.store.info?.usage !== true) return undefined;
    if (!(now >= this.hourStart && now < this.hourStart + HOUR_MS)) {
      this.hourStart = now - (((now % HOUR_MS) + HOUR_MS) % HOUR_MS);
      this.bucket = new Date(this.hourStart).toISOString().slice(0, 13);
      this.expiresAt = this.hourStart + HOUR_MS + this.config.retentionDays * DAY_MS;
    }
    const u: UsageInput = { bucket: this.bucket, expiresAt: this.expiresAt };
    if (keyId !== undefined) {
      const last = this.keysNoted.get(keyId);
      if (last === undefined || now < last || now - last >= KEY_USE_EVERY_MS) u.keyId = keyId;
    }
    if (add !== undefined) u.add = add;
    return u;
  }

  /** The store took a charge carrying `keyId` (its key check passed): its last use is fresh for a minute. */
  keyUsed(keyId: string, now: number): void {
    if (this.keysNoted.size >= MAX_KEYS_NOTED) this.keysNoted.clear();
    this.keysNoted.set(keyId, now);
  }

  /**
   * Notes the account in the activity index of `now`'s day: the first time this process sees it that day, one record
   * written in the background (never awaited by the call). A failed write is tried again on the account's next call.
   */
  active(accountId: string, now: number): void {
    if (this.store.info?.usage !== true) return;
    const { day, endsAt } = utcDay(now);
    if (day !== this.day) {
      this.day = day;
      this.seen = new Set();
    }
    if (this.seen.has(accountId)) return;
    const seen = this.seen;
    seen.add(accountId);
    const record = { value: EMPTY, size: 0, tag: '', expiresAt: endsAt + this.config.retentionDays * DAY_MS };
    // Not logged: a store that fails this write fails the calls around it too, and those are reported.
    this.store.put(REGISTRY_ACCOUNT, activeCollection(day), accountId, record, now).catch(() => seen.delete(accountId));
  }
}
