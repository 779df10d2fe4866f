// Voids that could not reach the store yet (it timed out or was cut): retried with backoff until they land, expire, or the service closes.
import { StoreUnavailableError } from '../errors.js';
import type { Millis, Store, VoidInput, VoidResult } from './contract.js';

/** Where faults are reported (structurally the host's Logger). */
export interface FaultLog {
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

interface Job {
  account: string;
  input: VoidInput;
  /** When retries stop: shortly before the store forgets the id (see UNTIL_MARGIN_MS). */
  giveUpAt: Millis;
}

/** Voids kept waiting at most: beyond it (a very long outage under heavy traffic) a void is logged as failed instead of kept. */
const MAX_PENDING = 100_000;
/** Voids sent at once when the queue drains. */
const BATCH = 32;
/**
 * Retries stop this long before a void's `until` (when the store forgets the charge id), leaving room for
 * clock skew; a tenth of the time left instead when that is shorter.
 */
const UNTIL_MARGIN_MS = 60_000;
const backoffMs = (failures: number): number => Math.min(5000, 50 * 2 ** failures) * (0.5 + Math.random() / 2);

const FAILED = 'aipaygent: VOID FAILED, a call answered 503 may stay charged (reconcile this charge id with /credits/ledger)';

/**
 * A void is idempotent (Store.void), so sending it again is always safe: a retry after a lost answer
 * finds the id already voided and changes nothing. The queue lives in this process: a void still
 * waiting when the process is killed is lost (each one is logged when queued, for reconciliation).
 */
export class VoidQueue {
  private readonly pending = new Map<string, Job>();
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private failures = 0;
  private closed = false;

  constructor(private readonly store: Store, private readonly log: FaultLog) {}

  /** How many voids wait for the store. */
  get size(): number {
    return this.pending.size;
  }

  /** Voids now; when the store fails, queues the void and rethrows the fault. */
  async void(account: string, input: VoidInput, now: Millis): Promise<VoidResult> {
    try {
      return await this.store.void(account, input, now);
    } catch (error) {
      this.defer(account, input, error);
      throw error;
    }
  }

  /**
   * Queues a void whose charge (or hold, or first void) got no answer from the store. Never throws. A fault
   * raised before anything reached the store (not a StoreUnavailableError, or one marked `sent: false`: the
   * store not open yet, a client offline) took nothing: there is nothing to void then.
   */
  defer(account: string, input: VoidInput, cause: unknown): void {
    if (!(cause instanceof StoreUnavailableError) || !cause.sent) return;
    const detail = { account, id: input.id, until: new Date(input.until).toISOString(), cause: String(cause) };
    if (this.closed || this.pending.size >= MAX_PENDING) {
      this.log.error(FAILED, { ...detail, why: this.closed ? 'the service was closing' : 'too many voids waiting' });
      return;
    }
    this.log.warn('aipaygent: the store did not answer a charge; voiding it by id in the background', detail);
    const giveUpAt = input.until - Math.min(UNTIL_MARGIN_MS, Math.max(0, input.until - Date.now()) / 10);
    this.pending.set(`${account}\u0000${input.id}`, { account, input, giveUpAt });
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer || this.draining || this.closed) return;
    // Housekeeping never keeps the host process alive; close() flushes what is left.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // drain() never rejects by itself; a throwing host logger must not become an unhandled rejection.
      this.draining = this.drain().catch(() => {}).finally(() => {
        this.draining = undefined;
        if (this.pending.size > 0) this.schedule(backoffMs(this.failures));
      });
    }, ms).unref();
  }

  /** One round: sends the waiting voids, BATCH at a time, and stops at the first batch the store fails. */
  private async drain(): Promise<void> {
    const jobs = [...this.pending.entries()];
    for (let i = 0; i < jobs.length; i += BATCH) {
      const results = await Promise.all(jobs.slice(i, i + BATCH).map(([key, job]) => this.attempt(key, job)));
      if (results.includes(false)) {
        this.failures++;
        return;
      }
      this.failures = 0;
    }
  }

  /** True when the void landed (or was given up); false when the store failed again. */
  private async attempt(key: string, job: Job): Promise<boolean> {
    const now = Date.now();
    if (now >= job.giveUpAt) {
      this.pending.delete(key);
      this.log.error(FAILED, { account: job.account, id: job.input.id, why: 'the store did not answer before the charge id expired' });
      return true;
    }
    try {
      await this.store.void(job.account, job.input, now);
      this.pending.delete(key);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stops retrying in the background and flushes: sends what waits, again with backoff, for up to
   * `timeoutMs`; whatever is left then is logged as failed. Call before the store closes.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.draining;
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < deadline) {
      await this.drain();
      if (this.pending.size > 0) await new Promise((r) => setTimeout(r, Math.min(backoffMs(this.failures), Math.max(0, deadline - Date.now()))));
    }
    for (const job of this.pending.values()) this.log.error(FAILED, { account: job.account, id: job.input.id, why: 'the service closed first' });
    this.pending.clear();
  }

  /** A refund whose charge id the store no longer knew (kept CHARGE_VOIDABLE_MS): nothing was given back. */
  forgotten(account: string, input: VoidInput): void {
    this.log.error(FAILED, { account, id: input.id, why: 'the call outlived the time its charge can be voided; nothing was given back' });
  }

  /** Drops every waiting void without a word: for a store that never opened, which took no charge. */
  abandon(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.pending.clear();
  }
}
