// The Redis store's webhook outbox (Outbox) and the caps-and-events argument of its scripts (OUTBOX in redis-lua-lib.ts).
//
// Deliveries live in their account's slot, written by the scripts of the operations that cause them. Finding the due
// ones across accounts: on a standalone server (or Sentinel) the global zset `outbox-due` (accounts by earliest pending
// score) is kept by the scripts themselves, atomically. In a Cluster it lives in another slot, so no script can touch
// it: the process adds the account after an operation wrote rows (a hint, not atomic with the write), and a full scan
// of every master for the accounts' pending zsets repairs the hints a crash (or a claim racing a write) lost, at the
// first claim after start and every REPAIR_MS. Each delivery is leased by one script in its account's slot, so two
// processes never hold the same lease whatever the index says.
import type { Millis } from './contract.js';
import {
  newestFirst, OUTBOX_KEEP_MS, type DeliveryOutcome, type DeliveryQuery, type OperationEvents, type Outbox, type OutboxDelivery,
  type OutboxRow, type SpendCap,
} from './outbox.js';
import { dec, int, S, type RedisBase } from './redis-base.js';

/** How often a Cluster's processes rescan the masters for accounts with pending deliveries. */
const REPAIR_MS = 60_000;
/** List entries one OB_PAGE script reads at most (the admin list skips expired and filtered-out deliveries). */
const PAGE_BUDGET = 1000;

const rowsArg = (rows: readonly OutboxRow[] | undefined) => (rows ?? []).map((r) => [r.id, r.eventId, r.endpoint, r.type, r.data]);

/**
 * The JSON ARGV of a script's caps and events (OUTBOX in redis-lua-lib.ts), or undefined when there are none: the
 * caller then sends nothing, and the script reads nothing. `caps` are counted, `giveBack` counters are given back.
 */
export function extArg(r: RedisBase, account: string, caps?: SpendCap[], giveBack?: string[], events?: OperationEvents): string | undefined {
  const x: Record<string, unknown> = {};
  if (caps?.length) x.c = caps.map((c) => [r.counterKey(account, c.counter), num(c.limit, 'cap limit'), num(c.expiresAt, 'cap expiresAt')]);
  if (giveBack?.length) x.g = giveBack.map((name) => r.counterKey(account, name));
  if (events?.done?.length) x.d = rowsArg(events.done);
  if (events?.low?.rows.length) (x.l = num(events.low.below, 'low.below'), (x.lr = rowsArg(events.low.rows)));
  if (events?.capped?.length) x.x = events.capped.map(rowsArg);
  if (Object.keys(x).length === 0) return undefined;
  return JSON.stringify({ t: r.tag(account), a: account, ...x });
}

/** A safe integer as a JSON number (exact in Lua's doubles). */
const num = (n: number, what: string): number => Number(int(n, what));

/** Whether an operation whose balance went from `before` to `after` wrote its `low` rows. */
export const crossed = (events: OperationEvents | undefined, before: number, after: number): boolean =>
  !!events?.low?.rows.length && before >= events.low.below && after < events.low.below;

function deliveryOf(m: Array<string | null>): OutboxDelivery {
  type S = string;
  const [id, account, eventId, endpoint, type, data, ca, ba, st, at, na, lu, le, ua] = m as [S, S, S, S, S, S, S, S, S, S, S, S, S | null, S];
  return {
    id, eventId, endpoint, type, data, account, createdAt: Number(ca), balance: Number(ba), status: st as OutboxDelivery['status'],
    attempts: Number(at), nextAt: Number(na), leaseUntil: Number(lu), lastError: le ?? null, updatedAt: Number(ua),
  };
}

/** The part of a node-redis cluster client the scans use: its masters and a client per node. */
export interface ClusterLike {
  readonly masters: unknown[];
  nodeClient(node: unknown): Promise<{ scanIterator(o: { MATCH: string; COUNT: number; TYPE: string }): AsyncIterable<string[]>; sendCommand(args: string[]): Promise<unknown> }>;
}

/** A prefix as a literal in a SCAN MATCH glob. */
export const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

export class RedisOutbox implements Outbox {
  private repairedAt = 0;

  constructor(private readonly r: RedisBase) {}

  private get cluster(): boolean {
    return this.r.kind === 'cluster';
  }

  /** [pending zset, list zset, the global due zset on a standalone server]. */
  private keys(account: string): string[] {
    const t = this.r.tag(account);
    return [`${t}ep`, `${t}ec`, ...(this.cluster ? [] : [this.r.outboxDueKey])];
  }

  /**
   * Cluster only: notes that `account` has deliveries due from `now` (after an operation wrote rows). A fault is not
   * the operation's: its money already moved, so the answer must not become an error; the next repair finds the account.
   */
  async hint(account: string, now: Millis): Promise<void> {
    if (!this.cluster) return;
    const due = this.r.outboxDueKey;
    await this.r.send(due, ['ZADD', due, int(now, 'now'), account]).catch(() => {});
  }

  async claim(now: Millis, leaseUntil: Millis, limit: number): Promise<OutboxDelivery[]> {
    if (this.cluster && Date.now() - this.repairedAt >= REPAIR_MS) await this.repair();
    const due = this.r.outboxDueKey;
    const out: OutboxDelivery[] = [];
    const seen = new Set<string>();
    while (out.length < limit) {
      const page = (await this.r.send(due, ['ZRANGEBYSCORE', due, '-inf', int(now, 'now'), 'LIMIT', '0', String(limit)])) as string[];
      const fresh = page.filter((a) => !seen.has(a));
      if (fresh.length === 0) break;
      for (const account of fresh) {
        seen.add(account);
        const [ep, , ...global] = this.keys(account);
        const args = [this.r.tag(account), int(now, 'now'), int(leaseUntil, 'leaseUntil'), String(limit - out.length), account];
        const [rows, next] = (await this.r.eval(S.OB_CLAIM, [ep!, ...global], args)) as [Array<Array<string | null>>, string | null];
        out.push(...rows.map(deliveryOf));
        // In a Cluster the index follows the script from here (a write racing this may be lost until the next repair).
        if (this.cluster) await this.r.send(due, next === null ? ['ZREM', due, account] : ['ZADD', due, next, account]);
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  async finish(account: string, id: string, attempt: number, outcome: DeliveryOutcome, now: Millis): Promise<boolean> {
    const [code, error, retryAt] = outcome.delivered ? ['d', '', ''] : outcome.retryAt === null ? ['f', outcome.error, ''] : ['r', outcome.error, int(outcome.retryAt, 'retryAt')];
    const args = [this.r.tag(account), id, int(attempt, 'attempt'), int(now, 'now'), code, error, retryAt, account, String(OUTBOX_KEEP_MS)];
    return Number(await this.r.eval(S.OB_FINISH, this.keys(account), args)) === 1;
  }

  async retry(account: string, id: string, now: Millis): Promise<boolean> {
    const ok = Number(await this.r.eval(S.OB_RETRY, this.keys(account), [this.r.tag(account), id, int(now, 'now'), account])) === 1;
    if (ok) await this.hint(account, now);
    return ok;
  }

  async get(account: string, id: string): Promise<OutboxDelivery | null> {
    const m = (await this.r.eval(S.OB_GET, [`${this.r.tag(account)}e:${id}`], [])) as Array<string | null> | null;
    return m ? deliveryOf(m) : null;
  }

  /** Every account's deliveries before the cursor, merged newest first (the admin API's, rare: it scans the key space). */
  async list(query: DeliveryQuery): Promise<OutboxDelivery[]> {
    const cut = query.before?.indexOf(':') ?? -1;
    const [at, id] = query.before === undefined ? ['', ''] : [query.before.slice(0, cut), query.before.slice(cut + 1)];
    let found: OutboxDelivery[] = [];
    for await (const [account] of this.zsets('ec')) {
      found.push(...(await this.page(account, at, id, query.status ?? '', query.limit)));
      if (found.length > 4 * query.limit) found = found.sort(newestFirst).slice(0, query.limit);
    }
    return found.sort(newestFirst).slice(0, query.limit);
  }

  /** Up to `limit` deliveries of one account before the cursor, in bounded scripts. */
  private async page(account: string, at: string, id: string, status: string, limit: number): Promise<OutboxDelivery[]> {
    const out: OutboxDelivery[] = [];
    const ec = this.keys(account)[1]!;
    for (;;) {
      const args = [this.r.tag(account), at, id, status, String(limit - out.length), String(PAGE_BUDGET)];
      const [rows, cut] = (await this.r.eval(S.OB_PAGE, [ec], args)) as [Array<Array<string | null>>, [string, string] | null];
      out.push(...rows.map(deliveryOf));
      if (!cut || out.length >= limit) return out;
      [at, id] = cut;
    }
  }

  /** Cluster: adds every account with a pending delivery to the due index, at its earliest pending score. */
  private async repair(): Promise<void> {
    this.repairedAt = Date.now();
    const due = this.r.outboxDueKey;
    for await (const [account, key, send] of this.zsets('ep')) {
      const first = (await send(['ZRANGE', key, '0', '0', 'WITHSCORES'])) as string[];
      if (first.length === 2) await this.r.send(due, ['ZADD', due, first[1]!, account]);
    }
  }

  /**
   * The accounts' zsets `P{A}:<suffix>` with [account, key, a command sender on the key's node], found with SCAN (a page
   * of 1,000 keys at a time, so no command blocks a server for long), on every master of a Cluster.
   */
  private async *zsets(suffix: string): AsyncIterable<[string, string, (args: string[]) => Promise<unknown>]> {
    const prefix = this.r.prefix;
    const match = `${globEscape(prefix)}{*}:${suffix}`;
    const accountOf = (key: string) => dec(key.slice(prefix.length + 1, key.lastIndexOf('}')));
    if (this.cluster) {
      const cluster = this.r.client as unknown as ClusterLike;
      for (const master of cluster.masters) {
        const node = await cluster.nodeClient(master);
        const send = (args: string[]) => node.sendCommand(args);
        for await (const keys of node.scanIterator({ MATCH: match, COUNT: 1000, TYPE: 'zset' })) {
          for (const key of keys) yield [accountOf(key), key, send];
        }
      }
      return;
    }
    const send = (args: string[]) => this.r.send(undefined, args);
    let cursor = '0';
    do {
      const [next, keys] = (await send(['SCAN', cursor, 'MATCH', match, 'COUNT', '1000', 'TYPE', 'zset'])) as [string, string[]];
      for (const key of keys) yield [accountOf(key), key, send];
      cursor = String(next);
    } while (cursor !== '0');
  }
}
