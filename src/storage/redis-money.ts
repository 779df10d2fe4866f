// Money of the Redis store: each operation is one Lua script over the keys of one account (see redis-scripts-money.ts).
import type {
  ChargeAuth, ChargeInput, ChargeResult, HoldInput, HoldResult, LedgerEntry, Millis, PostInput, PostResult, SettleResult, VoidInput, VoidResult,
} from './contract.js';
import { int, opt, repliedWith, S, usageArgs, type Arg, type RedisBase, type Script } from './redis-base.js';
import { crossed, extArg, type RedisOutbox } from './redis-outbox.js';
import { bucketDays, fromDays, newTally, postCounts, type Tally, type UsageBucket, type UsageInput } from './usage.js';

function entryOf(accountId: string, json: unknown): LedgerEntry {
  const { seq, amount, kind, reference, memo, createdAt, balanceAfter } = JSON.parse(String(json)) as LedgerEntry;
  return { seq, accountId, amount, kind, reference, memo, createdAt, balanceAfter };
}

/** Optional keys of a money script: the window's counter, the record `charge` authenticates with, a charge or hold id, the usage hashes of `usage`. */
interface Extra {
  counter?: string | undefined;
  record?: string | undefined;
  id?: string | undefined;
  usage?: UsageInput | undefined;
  /** Caps or events given (an ext ARGV): the script gets the global outbox index too on a standalone server. */
  outbox?: boolean | undefined;
}

/** The caps-and-events ARGV when there is one (nothing at all otherwise: the common call stays as it was). */
const extOf = (ext: string | undefined): Arg[] => (ext === undefined ? [] : [ext]);

/** ARGV of CHARGE's key check: the 32-byte hash, then the scope; '' (never matches) for a hash of another length. */
const authHash = (auth: ChargeAuth | undefined): Buffer | '' =>
  auth?.hash.length === 32 ? Buffer.concat([auth.hash, Buffer.from(auth.scope ?? '', 'utf8')]) : '';

export class RedisMoney {
  constructor(private readonly r: RedisBase, private readonly outbox: RedisOutbox) {}

  /**
   * Runs money script `s`. A script finding more expired holds than it may release at once refuses to
   * run (APG_DUE): the backlog is released in bounded batches first, then the script runs again.
   */
  private async run(s: Script, account: string, now: Millis, args: Arg[], extra: Extra = {}, credit = false): Promise<unknown> {
    const t = this.r.tag(account);
    const [day, keyUse] = extra.usage ? this.r.usageKeys(account, extra.usage.bucket) : [`${t}a`, `${t}a`];
    const keys = [`${t}a`, `${t}l`, `${t}f`, `${t}h`, `${t}hz`, extra.counter ?? `${t}a`, extra.record ?? `${t}a`, extra.id ?? `${t}a`, day, keyUse];
    // In a Cluster the global zset lives in another slot, so scripts cannot touch it there (see sweep).
    if (this.r.kind !== 'cluster') keys.push(this.r.dueKey, ...(extra.outbox ? [this.r.outboxDueKey] : []));
    const argv = [int(now, 'now'), account, ...args];
    for (;;) {
      try {
        return await this.r.eval(s, keys, argv, false, credit);
      } catch (error) {
        if (!repliedWith(error, 'APG_DUE')) throw error;
        await this.releaseExpired(account, now);
      }
    }
  }

  /** Releases every hold of the account expired at `now`, one bounded script at a time; returns how many. */
  async releaseExpired(account: string, now: Millis): Promise<number> {
    let released = 0;
    for (;;) {
      const [n, more] = (await this.run(S.RELEASE, account, now, [])) as [number, number];
      released += Number(n);
      if (Number(more) === 0) return released;
    }
  }

  async balance(account: string, now: Millis): Promise<number> {
    return Number(await this.run(S.BALANCE, account, now, []));
  }

  async post(account: string, input: PostInput, now: Millis): Promise<PostResult> {
    const { usage, events } = input;
    const ext = extArg(this.r, account, undefined, input.caps, events);
    const args = [
      int(input.amount, 'amount'), input.kind, opt(input.reference), opt(input.memo), ...extOf(ext),
      ...usageArgs(usage, usage && postCounts(input.kind, input.amount, usage.add)),
    ];
    const r = (await this.run(S.POST, account, now, args, { usage, outbox: !!ext }, input.amount > 0)) as unknown[];
    const balance = Number(r[1]);
    if (r[0] === 1) {
      await this.r.replicated(`${this.r.tag(account)}a`, input.amount > 0);
      if (events?.done?.length || crossed(events, balance - input.amount, balance)) await this.outbox.hint(account, now);
      return { ok: true, entry: entryOf(account, r[2]), balance };
    }
    return { ok: false, reason: r[0] === 2 ? 'duplicate' : 'insufficient_funds', balance };
  }

  async charge(account: string, input: ChargeInput, now: Millis): Promise<ChargeResult> {
    const { windowExpiresAt, freeLimit, price, auth, voidable, events } = input;
    const ext = extArg(this.r, account, input.caps, undefined, events);
    const args = [
      int(windowExpiresAt, 'windowExpiresAt'), int(freeLimit, 'freeLimit'), int(price, 'price'), opt(input.memo), opt(auth?.tag),
      authHash(auth), voidable ? int(voidable.until, 'voidable.until') : '', ...extOf(ext),
      // Last: the usage block is found from the end of ARGV.
      ...usageArgs(input.usage),
    ];
    const extra = {
      counter: this.r.counterKey(account, `free:${input.window}`),
      record: auth && this.r.recordKeys(account, auth.collection, auth.key)[0],
      id: voidable && this.r.idKey(account, voidable.id),
      usage: input.usage,
      outbox: !!ext,
    };
    const r = (await this.run(S.CHARGE, account, now, args, extra)) as unknown[];
    const [freeUsed, balance] = [Number(r[1]), Number(r[2])];
    if (r[0] === 1 || r[0] === 2) await this.r.replicated(`${this.r.tag(account)}a`, false);
    if (r[0] === 1) return { ok: true, free: true, freeUsed, balance };
    if (r[0] === 2) {
      if (crossed(events, balance + price, balance)) await this.outbox.hint(account, now);
      return { ok: true, free: false, freeUsed, balance, entry: entryOf(account, r[3]) };
    }
    if (r[0] === 3) return { ok: false, unauthorized: true };
    if (r[0] === 5) {
      const cap = Number(r[3]);
      if (events?.capped?.[cap]?.length) await this.outbox.hint(account, now);
      return { ok: false, freeUsed, balance, cap };
    }
    return r[0] === 4 ? { ok: false, voided: true } : { ok: false, freeUsed, balance };
  }

  async void(account: string, input: VoidInput, now: Millis): Promise<VoidResult> {
    const ext = extArg(this.r, account, undefined, input.caps, input.events);
    const args = [input.id, int(input.until, 'until'), opt(input.memo), ...extOf(ext), ...usageArgs(input.usage)];
    const extra = { counter: this.r.counterKey(account, `free:${input.window}`), id: this.r.idKey(account, input.id), usage: input.usage, outbox: !!ext };
    const r = (await this.run(S.VOID, account, now, args, extra, true)) as unknown[];
    const balance = Number(r[1]);
    // A void records the id even when nothing had committed: a failover losing it would let a late charge through.
    await this.r.replicated(`${this.r.tag(account)}a`, true);
    if (r[0] === 3) return { outcome: 'already', balance };
    if (r[0] === 2) return { outcome: 'refused', balance };
    const entry = r[3] == null ? null : entryOf(account, r[3]);
    if (entry?.kind === 'refund' && input.events?.done?.length) await this.outbox.hint(account, now);
    return { outcome: 'given_back', free: r[2] === 1, balance, entry };
  }

  async hold(account: string, input: HoldInput, now: Millis): Promise<HoldResult> {
    const { events } = input;
    const ext = extArg(this.r, account, input.caps, undefined, events);
    const args = [input.holdId, int(input.amount, 'amount'), int(input.expiresAt, 'expiresAt'), opt(input.memo), ...extOf(ext)];
    const r = (await this.run(S.HOLD, account, now, args, { id: this.r.idKey(account, input.holdId), outbox: !!ext })) as unknown[];
    const balance = Number(r[1]);
    if (r[0] === 1) {
      await this.r.replicated(`${this.r.tag(account)}a`, false);
      if (crossed(events, balance + input.amount, balance)) await this.outbox.hint(account, now);
      return { ok: true, balance };
    }
    if (r[0] === 4) {
      const cap = Number(r[2]);
      if (events?.capped?.[cap]?.length) await this.outbox.hint(account, now);
      return { ok: false, reason: 'spend_cap', cap, balance };
    }
    return { ok: false, reason: r[0] === 3 ? 'voided' : r[0] === 2 ? 'duplicate' : 'insufficient_funds', balance };
  }

  async settle(account: string, holdId: string, actual: number, now: Millis, memo?: string, usage?: UsageInput, caps?: string[]): Promise<SettleResult> {
    const args = [holdId, int(actual, 'actual'), opt(memo), ...extOf(extArg(this.r, account, undefined, caps)), ...usageArgs(usage)];
    const r = (await this.run(S.SETTLE, account, now, args, { usage }, true)) as unknown[];
    if (r[0] !== 1) return { ok: false, reason: 'unknown_hold', balance: Number(r[1]) };
    // The unused part of the hold comes back: money given.
    await this.r.replicated(`${this.r.tag(account)}a`, true);
    return { ok: true, charged: Number(r[1]), balance: Number(r[2]), entry: r[3] == null ? null : entryOf(account, r[3]) };
  }

  /** One script reads the usage hashes of the days asked for (all in the account's slot); the hours are picked here. */
  async usage(account: string, from: string, to: string, _now: Millis): Promise<UsageBucket[]> {
    const days = bucketDays(from, to);
    const hashes = (await this.r.eval(S.USAGE_READ, days.map((d) => this.r.usageKeys(account, d)[0]), [])) as string[][];
    return fromDays(days.map((day, i) => {
      const flat = hashes[i] ?? [];
      const hours: Record<string, Tally> = {};
      for (let j = 0; j < flat.length; j += 2) {
        const field = flat[j]!;
        (hours[field.slice(0, 2)] ??= newTally())[field.slice(3)] = Number(flat[j + 1]);
      }
      return [day, hours];
    }), from, to);
  }

  async lastUsed(account: string): Promise<Record<string, Millis>> {
    const key = this.r.usageKeys(account, '')[1];
    const flat = (await this.r.send(key, ['HGETALL', key])) as string[] | Record<string, string>;
    // RESP2 answers a flat list, RESP3 a map.
    const pairs = Array.isArray(flat) ? Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]) : Object.entries(flat);
    return Object.fromEntries(pairs.map(([id, ms]) => [id, Number(ms)]));
  }

  async ledger(account: string, query: { before?: number; limit: number }): Promise<LedgerEntry[]> {
    const before = query.before === undefined ? '' : int(query.before, 'before');
    const rows = (await this.r.eval(S.LEDGER, [`${this.r.tag(account)}l`], [before, int(query.limit, 'limit')])) as unknown[];
    return rows.reverse().map((json) => entryOf(account, json));
  }
}
