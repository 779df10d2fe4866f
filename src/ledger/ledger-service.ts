// Credits of an account: grants, balance with today's free calls, and the append-only ledger. No HTTP types.
import type { Notifier } from '../observe/webhooks/notifier.js';
import { invalid } from '../errors.js';
import type { Meter } from '../meter/meter.js';
import type { UsageRecorder } from '../meter/usage.js';
import type { LedgerEntry, Store } from '../storage/contract.js';
import { checkText } from '../text.js';

export interface GrantInput {
  accountId: string;
  /** Positive integer micro-USD. */
  amountMicroUsd: number;
  /** Why (shown in the ledger as the entry's memo). */
  reason: string;
  /** Makes the grant idempotent: a second grant with the same reference adds nothing. */
  reference?: string | undefined;
}

export type GrantResult =
  | { granted: true; balance: number; entry: LedgerEntry }
  | { granted: false; reason: 'duplicate'; balance: number };

/** An operator's grant (admin API, CLI): refused when no such account exists, rather than credit one nobody can use. */
export type OperatorGrantResult = GrantResult | { granted: false; reason: 'no_account' };

export interface AccountBalance {
  accountId: string;
  balanceMicroUsd: number;
  freeCallsPerDay: number;
  freeCallsRemaining: number;
  /** Next UTC midnight, in ms. */
  freeCallsResetAt: number;
}

/** Largest single grant: $1,000,000. Bigger amounts are almost certainly a units mistake (USD vs micro-USD). */
export const MAX_GRANT_MICRO_USD = 1_000_000_000_000;

export class LedgerService {
  constructor(
    private readonly store: Store,
    private readonly meter: Meter,
    /** Whether an account exists (accounts exist through their keys). */
    private readonly accountExists: (accountId: string, now: number) => Promise<boolean> = async () => true,
    /** Counts grants as credited in the account's usage (in the same store operation). */
    private readonly usage?: UsageRecorder,
    /** credits.granted, written with the grant's ledger entry. */
    private readonly notifier?: Notifier,
  ) {}

  /** `grant` for an operator door: a typo'd account id is refused (`no_account`), never credited. */
  async grantToAccount(input: GrantInput, now: number = Date.now()): Promise<OperatorGrantResult> {
    if (!(await this.accountExists(input.accountId, now))) return { granted: false, reason: 'no_account' };
    return this.grant(input, now);
  }

  /**
   * Adds credit to an account as a 'grant' entry.
   * @example await ai.api.ledger.grant({ accountId, amountMicroUsd: 5_000_000, reason: 'welcome $5', reference: 'welcome' })
   */
  async grant(input: GrantInput, now: number = Date.now()): Promise<GrantResult> {
    const { amountMicroUsd: amount } = input;
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_GRANT_MICRO_USD) {
      throw invalid(`amount_micro_usd must be an integer between 1 and ${MAX_GRANT_MICRO_USD}`);
    }
    // Every door (the admin route, ai.api) gets the same answer, whatever the store.
    checkText('reason', input.reason);
    checkText('reference', input.reference);
    const reference = input.reference === undefined ? undefined : `grant:${input.reference}`;
    const events = this.notifier?.done('credits.granted', { account_id: input.accountId, amount_micro_usd: amount, reason: input.reason, reference: input.reference ?? null });
    const r = await this.store.post(input.accountId, { amount, kind: 'grant', reference, memo: input.reason, usage: this.usage?.input(now), events }, now);
    if (r.ok) {
      this.usage?.active(input.accountId, now);
      return { granted: true, balance: r.balance, entry: r.entry };
    }
    // A positive amount is never refused for funds; only the reference can clash.
    return { granted: false, reason: 'duplicate', balance: r.balance };
  }

  /** Balance and today's free calls; the two reads run in parallel. */
  async balance(accountId: string, now: number = Date.now()): Promise<AccountBalance> {
    const [balance, quota] = await Promise.all([this.store.balance(accountId, now), this.meter.quota(accountId, now)]);
    return {
      accountId, balanceMicroUsd: balance, freeCallsPerDay: quota.freeCallsPerDay,
      freeCallsRemaining: quota.freeCallsRemaining, freeCallsResetAt: quota.resetAt,
    };
  }

  /** Entries newest first; `before` is the `seq` of the last entry of the previous page. */
  entries(accountId: string, query: { limit: number; before?: number | undefined }): Promise<LedgerEntry[]> {
    return this.store.ledger(accountId, query.before === undefined ? { limit: query.limit } : { before: query.before, limit: query.limit });
  }
}
