// Usage of one account or of all, by hour or day: read from the store's counters (UsageReads) for every door (admin API, api.usage).
import { AipaygentError, invalid } from '../errors.js';
import type { Store } from '../storage/contract.js';
import { bucketStart, usageBucket, type UsageBucket } from '../storage/usage.js';
import { activeCollection, REGISTRY_ACCOUNT, TURN_ON_USAGE } from './usage.js';

export type UsageBucketSize = 'hour' | 'day';

export interface ClaudeTokens {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** What an account (or all of them) did in a span of time. calls = freeCalls + paidCalls. */
export interface UsageTotals {
  calls: number;
  freeCalls: number;
  paidCalls: number;
  /** Calls given back (answered with an error, so never charged in the end); counted when given back. */
  refundedCalls: number;
  spentMicroUsd: number;
  refundedMicroUsd: number;
  /** Grants and purchases. */
  creditedMicroUsd: number;
  /** Tokens of the Claude calls paid by tokens, by model. */
  claudeTokens: Record<string, ClaudeTokens>;
}

/** A span of whole buckets: `from` is the first one's start, `to` the last one's end (exclusive). */
export interface UsageRange {
  bucket: UsageBucketSize;
  from: number;
  to: number;
}

export interface UsageReport extends UsageRange {
  /** null: the sum over all accounts. */
  accountId: string | null;
  /** Every bucket of the range, oldest first (zeros where nothing happened). */
  buckets: Array<UsageTotals & { start: number }>;
  totals: UsageTotals;
}

const HOUR_MS = 3_600_000;
const SIZE_MS: Record<UsageBucketSize, number> = { hour: HOUR_MS, day: 24 * HOUR_MS };
/** Buckets one report may hold: 31 days of hours, 400 days. */
export const MAX_BUCKETS: Record<UsageBucketSize, number> = { hour: 744, day: 400 };
/** Buckets a report covers when `from` is not given. */
const DEFAULT_BUCKETS: Record<UsageBucketSize, number> = { hour: 24, day: 30 };
/** Accounts whose counters are read at once for the all-accounts sum. */
const PARALLEL_READS = 8;

const emptyTotals = (): UsageTotals => ({
  calls: 0, freeCalls: 0, paidCalls: 0, refundedCalls: 0, spentMicroUsd: 0, refundedMicroUsd: 0, creditedMicroUsd: 0, claudeTokens: {},
});

const TOKEN_KINDS: Record<string, keyof ClaudeTokens> = { input: 'input', output: 'output', cache_read: 'cacheRead', cache_write: 'cacheWrite' };

/** Adds one hour's store counters to `t`. */
function addFields(t: UsageTotals, fields: Record<string, number>): void {
  for (const [field, n] of Object.entries(fields)) {
    if (field === 'free') (t.freeCalls += n, t.calls += n);
    else if (field === 'paid') (t.paidCalls += n, t.calls += n);
    else if (field === 'refunds') t.refundedCalls += n;
    else if (field === 'spent') t.spentMicroUsd += n;
    else if (field === 'refunded') t.refundedMicroUsd += n;
    else if (field === 'credited') t.creditedMicroUsd += n;
    else if (field.startsWith('tok:')) {
      const cut = field.lastIndexOf(':');
      const kind = TOKEN_KINDS[field.slice(cut + 1)];
      if (kind && cut > 4) (t.claudeTokens[field.slice(4, cut)] ??= { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 })[kind] += n;
    }
  }
}

function addTotals(t: UsageTotals, o: UsageTotals): void {
  t.calls += o.calls;
  t.freeCalls += o.freeCalls;
  t.paidCalls += o.paidCalls;
  t.refundedCalls += o.refundedCalls;
  t.spentMicroUsd += o.spentMicroUsd;
  t.refundedMicroUsd += o.refundedMicroUsd;
  t.creditedMicroUsd += o.creditedMicroUsd;
  for (const [model, k] of Object.entries(o.claudeTokens)) {
    const m = (t.claudeTokens[model] ??= { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });
    m.input += k.input;
    m.output += k.output;
    m.cacheRead += k.cacheRead;
    m.cacheWrite += k.cacheWrite;
  }
}

const floorTo = (ms: number, size: number): number => ms - (((ms % size) + size) % size);
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export class UsageService {
  constructor(
    private readonly store: Store,
    /** false: the `usage` option is off. */
    private readonly enabled: boolean,
  ) {}

  /** Whether usage is counted: the option is on and the store counts it (StoreInfo.usage). */
  get counting(): boolean {
    return this.enabled && this.store.info?.usage === true && typeof this.store.usage === 'function';
  }

  /** Throws 404 `not_found` naming why when usage is not counted. */
  ensureCounting(): void {
    if (this.counting) return;
    const why = this.enabled ? 'its store does not count usage (a Store without StoreInfo.usage)' : `it is off (${TURN_ON_USAGE})`;
    throw new AipaygentError('not_found', `Usage is not counted on this server: ${why}.`);
  }

  /**
   * The whole buckets from the one holding `from` to the one holding `to` (default: now; `from` defaults to 24 hours or
   * 30 days before). Refused (400) when `from` is after `to` or the span holds more than MAX_BUCKETS.
   */
  range(q: { from?: number | undefined; to?: number | undefined; bucket?: UsageBucketSize | undefined }, now: number): UsageRange {
    const bucket = q.bucket ?? 'hour';
    const size = SIZE_MS[bucket];
    const last = floorTo(q.to ?? now, size);
    const first = q.from === undefined ? last - (DEFAULT_BUCKETS[bucket] - 1) * size : floorTo(q.from, size);
    if (first > last) throw invalid(`from (${new Date(q.from!).toISOString()}) must not be after to (${new Date(q.to ?? now).toISOString()})`);
    const count = (last - first) / size + 1;
    if (count > MAX_BUCKETS[bucket]) {
      const hint = bucket === 'hour' ? ' (31 days): ask for bucket=day, or a shorter span' : ': ask for a shorter span';
      throw invalid(`from..to spans ${count} ${bucket} buckets; at most ${MAX_BUCKETS[bucket]} per request${hint}`);
    }
    return { bucket, from: first, to: last + size };
  }

  /** Usage of one account, or of all accounts (`accountId` null: the sum over the accounts active in the range). */
  async report(accountId: string | null, range: UsageRange, now: number = Date.now()): Promise<UsageReport> {
    this.ensureCounting();
    const size = SIZE_MS[range.bucket];
    const buckets = Array.from({ length: (range.to - range.from) / size }, (_, i) => ({ start: range.from + i * size, ...emptyTotals() }));
    const add = (hours: UsageBucket[]) => {
      for (const h of hours) {
        const i = Math.floor((bucketStart(h.bucket) - range.from) / size);
        if (i >= 0 && i < buckets.length) addFields(buckets[i]!, h.fields);
      }
    };
    const [fromBucket, toBucket] = [usageBucket(range.from), usageBucket(range.to - 1)];
    const accounts = accountId === null ? await this.activeAccounts(range.from, range.to - 1, now) : [accountId];
    for (let i = 0; i < accounts.length; i += PARALLEL_READS) {
      const read = await Promise.all(accounts.slice(i, i + PARALLEL_READS).map((a) => this.store.usage!(a, fromBucket, toBucket, now)));
      for (const hours of read) add(hours);
    }
    const totals = emptyTotals();
    for (const b of buckets) addTotals(totals, b);
    return { accountId, ...range, buckets, totals };
  }

  /** Totals of one account for the UTC day of `now` (GET /admin/accounts). */
  async today(accountId: string, now: number = Date.now()): Promise<UsageTotals> {
    return (await this.report(accountId, this.range({ to: now, from: now, bucket: 'day' }, now), now)).totals;
  }

  /** When each API key of the account was last used (ms), by key id; {} when usage is not counted. */
  async lastUsed(accountId: string): Promise<Record<string, number>> {
    if (!this.counting || typeof this.store.lastUsed !== 'function') return {};
    return this.store.lastUsed(accountId);
  }

  /** Accounts with usage on a UTC day from `from` to `to`, from the activity index (see REGISTRY_ACCOUNT). */
  async activeAccounts(from: number, to: number, now: number = Date.now()): Promise<string[]> {
    const accounts = new Set<string>();
    for (let day = floorTo(from, SIZE_MS.day); day <= to; day += SIZE_MS.day) {
      let after: string | undefined;
      for (;;) {
        const page = await this.store.list(REGISTRY_ACCOUNT, activeCollection(dayOf(day)), { limit: 1000, ...(after !== undefined && { after }) }, now);
        for (const r of page) accounts.add(r.key);
        if (page.length < 1000) break;
        after = page[page.length - 1]!.key;
      }
    }
    return [...accounts];
  }
}
