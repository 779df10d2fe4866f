// Reserve-then-settle billing of Claude calls on the store's atomic hold/settle (never get-then-set).
import { randomBytes } from 'node:crypto';
import type { MoneyRules } from '../meter/money-rules.js';
import type { AppliedCap } from '../meter/spend-caps.js';
import { claudeTokens, type UsageRecorder } from '../meter/usage.js';
import type { Logger } from '../observe/logger.js';
import type { Store } from '../storage/contract.js';
import type { VoidQueue } from '../storage/void-queue.js';
import type { TokenUsage } from './prices.js';

/** `caps`: the spend-cap counters the hold counted in (its settle gives back the unused part); `cap`: refused by this spend cap. */
export type Reservation = { ok: true; holdId: string; amount: number; balance: number; caps?: string[] } | { ok: false; balance: number; cap?: AppliedCap };

/** Random bytes for hold ids, drawn 256 ids at a time (one randomFillSync per call was a visible cost). */
let pool = Buffer.alloc(0);
let taken = 0;
const ID_BYTES = 12;
function randomId(): string {
  if (taken + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * 256);
    taken = 0;
  }
  taken += ID_BYTES;
  return pool.toString('base64url', taken - ID_BYTES, taken);
}

/** Settling is retried this many times (with these pauses) before the hold is left to expire. */
const SETTLE_PAUSES_MS = [50, 250, 1000];

export class ClaudeBilling {
  constructor(
    private readonly store: Store,
    /** Holds whose answer was lost are voided by id (released, or refused should they arrive later). */
    private readonly voids: VoidQueue,
    private readonly logger: Logger,
    /** A hold left unsettled (crash) gives its money back by itself after this long. */
    private readonly holdTtlMs: number,
    /** Counts each settled call (spend, tokens by model) in the account's usage, in the settle itself. */
    private readonly usage?: UsageRecorder,
    /** Spend caps a hold counts against (Claude holds count as spent until settled), and the events a hold may cause. */
    private readonly rules?: MoneyRules,
  ) {}

  /**
   * Reserves `worstCase` micro-USD. One micro-USD more is held than the worst case so that the
   * settle always returns something, and so always writes the ledger entry that carries the
   * request id and usage (a settle returning exactly 0 writes no entry).
   */
  async reserve(accountId: string, worstCase: number, now: number, memo: string, keyId?: string): Promise<Reservation> {
    const holdId = `clh_${randomId()}`;
    const amount = worstCase + 1;
    const expiresAt = now + this.holdTtlMs;
    const rules = this.rules && (await this.rules.forCall(accountId, keyId, now));
    const caps = rules && rules.applied.length > 0 ? rules.applied.map((c) => c.counter) : undefined;
    let r;
    try {
      r = await this.store.hold(accountId, { holdId, amount, expiresAt, memo: `${memo} ${holdId}`, ...(caps && { caps: rules!.applied }), ...(rules?.events && { events: rules.events }) }, now);
    } catch (error) {
      // No answer: the hold may have been placed (or may still be). The call ends without calling Claude,
      // so the hold is voided by id: released if it was placed, refused if it arrives later.
      this.voids.defer(accountId, { id: holdId, window: '', until: expiresAt, memo: `void: ${memo} (answer lost) ${holdId}`, caps }, error);
      throw error;
    }
    if (r.ok) return { ok: true, holdId, amount, balance: r.balance, ...(caps && { caps }) };
    if (r.reason === 'spend_cap') return { ok: false, balance: r.balance, cap: rules!.applied[r.cap]! };
    if (r.reason !== 'insufficient_funds') throw new Error(`aipaygent: random hold id ${r.reason === 'duplicate' ? 'collided' : 'was voided'}`);
    return { ok: false, balance: r.balance };
  }

  /**
   * Charges `actual` against the hold and gives the rest back, in one store operation. A store
   * fault is retried briefly: the stream is already delivered, and giving up means the hold expires
   * and the call goes unpaid, which is logged loudly for reconciliation.
   * Returns what was charged and the balance after, or null when settling failed. `tokens`: the call's model and
   * usage, counted with the settle (a retry that finds the hold gone counts nothing more).
   */
  async settle(
    accountId: string, holdId: string, actual: number, memo: string, tokens?: { model: string; usage: TokenUsage }, caps?: string[],
  ): Promise<{ charged: number; balance: number } | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        const now = Date.now();
        const usage = this.usage?.input(now, undefined, tokens && claudeTokens(tokens.model, tokens.usage));
        const r = await this.store.settle(accountId, holdId, actual, now, memo, usage, caps);
        if (r.ok) {
          this.usage?.active(accountId, now);
          return { charged: r.charged, balance: r.balance };
        }
        if (attempt > 0) {
          // A retry finding no hold: the attempt that "failed" most likely went through (its answer was
          // lost). Debiting again could charge twice, so this is left to reconciliation.
          this.logger.warn('aipaygent: Claude settle retried and found its hold gone; assuming the first attempt settled it', { accountId, holdId, actual, memo });
          return { charged: actual, balance: r.balance };
        }
        // The hold expired before the call ended (a very long stream): debit the cost if the balance allows.
        return await this.lateDebit(accountId, actual, memo, tokens);
      } catch (error) {
        if (attempt >= SETTLE_PAUSES_MS.length) {
          this.logger.error('aipaygent: CLAUDE SETTLE FAILED, the call is unpaid', { accountId, holdId, actual, memo, error });
          return null;
        }
        await new Promise((resolve) => setTimeout(resolve, SETTLE_PAUSES_MS[attempt]));
      }
    }
  }

  private async lateDebit(accountId: string, actual: number, memo: string, tokens?: { model: string; usage: TokenUsage }): Promise<{ charged: number; balance: number } | null> {
    if (actual === 0) return { charged: 0, balance: await this.store.balance(accountId, Date.now()) };
    const now = Date.now();
    const usage = this.usage?.input(now, undefined, tokens && claudeTokens(tokens.model, tokens.usage));
    const r = await this.store.post(accountId, { amount: -actual, kind: 'debit', memo: `${memo} (hold expired)`, usage }, now);
    if (r.ok) {
      this.usage?.active(accountId, now);
      return { charged: actual, balance: r.balance };
    }
    this.logger.error('aipaygent: Claude call outlived its hold and the balance cannot cover it', { accountId, actual, memo, balance: r.balance });
    return null;
  }
}
