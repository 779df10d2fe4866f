// Spend caps: per key and per account, per UTC day and month, in micro-USD; what a paid operation carries to the store.
import type { KeyMeta } from '../keys/key-record.js';
import type { SpendCap } from '../storage/outbox.js';
import { utcDay } from '../time.js';

export const CAP_NAMES = ['key_daily', 'key_monthly', 'account_daily', 'account_monthly'] as const;
export type CapName = (typeof CAP_NAMES)[number];

/** Defaults for keys and accounts without their own (option `spendCaps`); each in micro-USD. */
export interface SpendCapOptions {
  keyDailyMicroUsd?: number;
  keyMonthlyMicroUsd?: number;
  accountDailyMicroUsd?: number;
  accountMonthlyMicroUsd?: number;
}

/** The limits that apply to one (account, key): undefined where none. */
export type CapLimits = Partial<Record<CapName, number>>;

/** A key's own caps as kept in its record (KeyMeta), and an account's in its settings; absent or null: the default applies. */
export interface OwnCaps {
  daily_spend_cap_micro_usd?: number | null;
  monthly_spend_cap_micro_usd?: number | null;
}

export function parseSpendCaps(o: SpendCapOptions | undefined, problems: string[]): CapLimits {
  const out: CapLimits = {};
  const fields: Array<[keyof SpendCapOptions, CapName]> = [
    ['keyDailyMicroUsd', 'key_daily'], ['keyMonthlyMicroUsd', 'key_monthly'], ['accountDailyMicroUsd', 'account_daily'], ['accountMonthlyMicroUsd', 'account_monthly'],
  ];
  for (const [field, name] of fields) {
    const v = o?.[field];
    if (v === undefined) continue;
    if (!(Number.isSafeInteger(v) && v >= 0)) problems.push(`spendCaps.${field} must be a non-negative integer of micro-USD (got ${String(v)})`);
    else out[name] = v;
  }
  return out;
}

/** The limits of a call: the key's and the account's own caps where set, the defaults elsewhere. */
export function capLimits(defaults: CapLimits, key: OwnCaps | undefined, account: OwnCaps | undefined): CapLimits {
  const pick = (own: number | null | undefined, fallback: number | undefined) => own ?? fallback;
  const out: CapLimits = {};
  const set = (name: CapName, v: number | undefined) => v !== undefined && (out[name] = v);
  if (key !== undefined) {
    set('key_daily', pick(key.daily_spend_cap_micro_usd, defaults.key_daily));
    set('key_monthly', pick(key.monthly_spend_cap_micro_usd, defaults.key_monthly));
  }
  set('account_daily', pick(account?.daily_spend_cap_micro_usd, defaults.account_daily));
  set('account_monthly', pick(account?.monthly_spend_cap_micro_usd, defaults.account_monthly));
  return out;
}

/** The UTC month of `ms` ("2026-12") and when the next one starts. */
export function utcMonth(ms: number): { month: string; endsAt: number } {
  const d = new Date(ms);
  return { month: d.toISOString().slice(0, 7), endsAt: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

/** A cap's counter is kept one hour past its period, so a refund of a call made just before the reset still finds it. */
const GRACE_MS = 3_600_000;

/** One cap as applied to a call: what the store counts, and what a 402 or a webhook says of it. */
export interface AppliedCap extends SpendCap {
  name: CapName;
  /** The period: "2026-12-06" or "2026-12". */
  period: string;
  resetsAt: number;
}

/** The caps of a call at `now`, in a fixed order (key before account, day before month): counters live in the account. */
export function applyCaps(limits: CapLimits, keyId: string | undefined, now: number): AppliedCap[] {
  const out: AppliedCap[] = [];
  let day: { day: string; endsAt: number } | undefined;
  let month: { month: string; endsAt: number } | undefined;
  for (const name of CAP_NAMES) {
    const limit = limits[name];
    if (limit === undefined) continue;
    const daily = name.endsWith('daily');
    const period = daily ? (day ??= utcDay(now)).day : (month ??= utcMonth(now)).month;
    const resetsAt = daily ? day!.endsAt : month!.endsAt;
    const who = name.startsWith('key') ? `k:${keyId}` : 'a';
    out.push({ name, counter: `cap:${period}:${who}`, limit, expiresAt: resetsAt + GRACE_MS, period, resetsAt });
  }
  return out;
}

/** A key's own caps from its record's metadata. */
export const keyCaps = (meta: KeyMeta): OwnCaps => ({ daily_spend_cap_micro_usd: meta.daily_spend_cap_micro_usd, monthly_spend_cap_micro_usd: meta.monthly_spend_cap_micro_usd });
