// Money operations on Postgres: each one is one call of a server-side function (sql-postgres-functions.ts) with
// bound parameters: one round trip, parsed and planned once per connection, exact across processes.
import type {
  ChargeInput, ChargeResult, HoldInput, HoldResult, LedgerEntry, Millis, PostInput, PostResult, SettleResult, VoidInput, VoidResult,
} from './contract.js';
import type { OperationEvents, SpendCap } from './outbox.js';
import { addCounts, postCounts, type UsageInput } from './usage.js';
import type { TableNames } from './sql-schema.js';
import { moneyFunctions, type MoneyFunctions } from './sql-postgres-functions.js';
import { functionCall } from './sql-postgres-plpgsql.js';
import { bool, int, intOrNull, toBuffer, toEntry, type Params, type Row } from './sql-rows.js';

/** Runs one statement with `@name` parameters (PostgresStore's named prepared statements). */
export type CallExec = (sql: string, params: Params) => Promise<Row[]>;

/** A money amount or time: refused here (a programming error) rather than sent for Postgres to reject. */
function int64(n: number): number {
  if (!Number.isSafeInteger(n)) throw new TypeError(`money amounts and times must be safe integers, got ${n}`);
  return n;
}

/** The usage parameters (USAGE_PARAMS): counters as one jsonb object, null when there are none. */
function usageParams(u: UsageInput | undefined, given: Array<[string, number]> | undefined): Params {
  if (!u) return { u_bucket: null, u_expires: null, u_add: null };
  const counts = given ?? addCounts(u.add);
  for (const [, n] of counts) int64(n);
  return { u_bucket: u.bucket, u_expires: int64(u.expiresAt), u_add: counts.length ? JSON.stringify(Object.fromEntries(counts)) : null };
}

const nullable = (s: string | undefined): string | null => s ?? null;

/** A limiting operation's caps and events (CAPS_PARAM, EVENTS_PARAM): jsonb texts, null when not given (no cost in the function). */
function capParams(caps: readonly SpendCap[] | undefined, events: OperationEvents | undefined): Params {
  return {
    caps: caps ? JSON.stringify(caps.map((c) => ({ counter: c.counter, limit: int64(c.limit), expiresAt: int64(c.expiresAt) }))) : null,
    events: events ? JSON.stringify(events) : null,
  };
}

/** A giving-back operation's counters and events. */
const giveBackParams = (caps: readonly string[] | undefined, events?: OperationEvents): Params => ({
  caps: caps ? JSON.stringify(caps) : null, events: events ? JSON.stringify(events) : null,
});

export class PostgresMoney {
  private readonly calls: Record<keyof MoneyFunctions, string>;

  constructor(private readonly exec: CallExec, namespace: string, t: TableNames) {
    const specs = moneyFunctions(t);
    this.calls = Object.fromEntries(Object.entries(specs).map(([k, spec]) => [k, functionCall(namespace, spec)])) as Record<keyof MoneyFunctions, string>;
  }

  private async call(fn: keyof MoneyFunctions, params: Params): Promise<Row> {
    const [row] = await this.exec(this.calls[fn], params);
    return row!;
  }

  /** Store.incr with usage (no account lock needed). */
  async incr(account: string, name: string, by: number, expiresAt: Millis, usage: UsageInput): Promise<number> {
    const row = await this.call('incr', { account, now: Date.now(), name, by: int64(by), expires_at: int64(expiresAt), ...usageParams(usage, undefined) });
    return int(row.o_value);
  }

  /** Releases expired holds of one account; returns how many. */
  async releaseExpired(account: string, now: Millis): Promise<number> {
    return int((await this.call('releaseExpired', { account, now: int64(now) })).o_released);
  }

  async balance(account: string, now: Millis): Promise<number> {
    return int((await this.call('balance', { account, now: int64(now) })).o_balance);
  }

  async post(account: string, input: PostInput, now: Millis): Promise<PostResult> {
    const given = input.usage && postCounts(input.kind, input.amount, input.usage.add);
    const row = await this.call('post', {
      account, now: int64(now), amount: int64(input.amount), kind: input.kind, reference: nullable(input.reference), memo: nullable(input.memo),
      ...usageParams(input.usage, given), ...giveBackParams(input.caps, input.events),
    });
    if (row.e_seq !== null) return { ok: true, entry: toEntry(account, row, 'e_'), balance: int(row.e_balance_after) };
    return { ok: false, reason: bool(row.o_dup) ? 'duplicate' : 'insufficient_funds', balance: int(row.o_balance) };
  }

  async charge(account: string, input: ChargeInput, now: Millis): Promise<ChargeResult> {
    const { auth, voidable } = input;
    const row = await this.call('charge', {
      account, now: int64(now), window: input.window, window_expires: int64(input.windowExpiresAt),
      free_limit: int64(input.freeLimit), price: int64(input.price), memo: nullable(input.memo),
      auth_collection: auth ? auth.collection : null, auth_key: auth ? auth.key : null, auth_tag: auth ? auth.tag : null,
      auth_scope: auth?.scope || null, auth_hash: auth ? toBuffer(auth.hash) : null,
      void_id: voidable ? voidable.id : null, void_until: voidable ? int64(voidable.until) : null,
      u_key_id: input.usage?.keyId ?? null, ...usageParams(input.usage, undefined), ...capParams(input.caps, input.events),
    });
    if (!bool(row.o_authed)) return { ok: false, unauthorized: true };
    if (!bool(row.o_fresh)) return { ok: false, voided: true };
    const freeUsed = intOrNull(row.o_free_used);
    if (freeUsed !== null) return { ok: true, free: true, freeUsed, balance: int(row.o_balance) };
    const used = int(row.o_used);
    if (row.e_seq === null) {
      const cap = intOrNull(row.o_cap);
      return cap === null ? { ok: false, freeUsed: used, balance: int(row.o_balance) } : { ok: false, freeUsed: used, balance: int(row.o_balance), cap };
    }
    const entry: LedgerEntry = toEntry(account, row, 'e_');
    return { ok: true, free: false, freeUsed: used, balance: entry.balanceAfter, entry };
  }

  /** Undoes the charge or hold `input.id` once (see the void function). */
  async void(account: string, input: VoidInput, now: Millis): Promise<VoidResult> {
    const row = await this.call('void', {
      account, now: int64(now), id: input.id, window: input.window, until: int64(input.until), memo: nullable(input.memo), ...usageParams(input.usage, undefined),
      ...giveBackParams(input.caps, input.events),
    });
    const taken = intOrNull(row.o_taken);
    const balance = row.e_seq === null ? int(row.o_balance) : int(row.e_balance_after);
    if (taken === -1) return { outcome: 'already', balance };
    if (taken === 0) return { outcome: 'given_back', free: true, balance, entry: null };
    if (row.e_seq === null) return { outcome: 'refused', balance };
    return { outcome: 'given_back', free: false, balance, entry: toEntry(account, row, 'e_') };
  }

  async hold(account: string, input: HoldInput, now: Millis): Promise<HoldResult> {
    const row = await this.call('hold', {
      account, now: int64(now), hold_id: input.holdId, amount: int64(input.amount), expires_at: int64(input.expiresAt), memo: nullable(input.memo),
      ...capParams(input.caps, input.events),
    });
    if (row.e_seq !== null) return { ok: true, balance: int(row.e_balance_after) };
    const balance = int(row.o_balance);
    if (bool(row.o_voided)) return { ok: false, reason: 'voided', balance };
    if (bool(row.o_dup)) return { ok: false, reason: 'duplicate', balance };
    const cap = intOrNull(row.o_cap);
    return cap === null ? { ok: false, reason: 'insufficient_funds', balance } : { ok: false, reason: 'spend_cap', cap, balance };
  }

  async settle(account: string, holdId: string, actual: number, now: Millis, memo?: string, usage?: UsageInput, caps?: string[]): Promise<SettleResult> {
    const row = await this.call('settle', {
      account, now: int64(now), hold_id: holdId, actual: int64(actual), memo: nullable(memo), ...usageParams(usage, undefined),
      caps: caps ? JSON.stringify(caps) : null,
    });
    if (row.o_held === null) return { ok: false, reason: 'unknown_hold', balance: int(row.o_balance) };
    const back = int(row.o_back);
    const charged = int(row.o_held) - back;
    if (row.e_seq === null) return { ok: true, charged, balance: int(row.o_balance), entry: null };
    const entry = toEntry(account, row, 'e_');
    return { ok: true, charged, balance: entry.balanceAfter, entry };
  }
}
