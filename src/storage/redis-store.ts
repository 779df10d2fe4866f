// The storage contract natively on Redis: one Lua script or command per operation, atomic across processes.
import type { Keyv } from 'keyv';
import type KeyvRedis from '@keyv/redis';
import type {
  ChargeInput, ChargeResult, ClaimResult, DeleteResult, Expect, HoldInput, HoldResult, LedgerEntry, ListQuery,
  Millis, PostInput, PostResult, PutInput, PutResult, RecordMeta, SearchHit, SearchQuery, SettleResult, Store, StoreInfo, StoredRecord, VoidInput, VoidResult,
} from './contract.js';
import type { OpenOptions } from './open.js';
import { dec, enc, expectArgs, expiry, int, metaOf, RedisBase, S, usageArgs, type Arg, type RedisLike } from './redis-base.js';
import { connect } from './redis-connect.js';
import { RedisMoney } from './redis-money.js';
import { extArg, globEscape, RedisOutbox, type ClusterLike } from './redis-outbox.js';
import { DROP_TERMS } from './redis-lua-lib.js';
import { documentArg, redisSearch } from './redis-search.js';
import { bounded } from './timeout.js';
import type { UsageBucket, UsageInput } from './usage.js';

/**
 * Index entries one LIST script reads at most, and records one PURGE_BATCH script removes: each script
 * stays a few milliseconds whatever the size of a user, so other accounts' calls never wait long behind it.
 */
const SCAN_BUDGET = 1000;
const PURGE_BATCH = 200;

/** Key layout: see RedisBase. Money lives in RedisMoney; this class keeps records, counters, claims and the lifecycle. */
export class RedisStore implements Store {
  readonly info: StoreInfo = { backend: 'redis', multiProcess: true, chargeAuth: true, usage: true, outbox: true };
  readonly outbox: RedisOutbox;
  private readonly r: RedisBase;
  private readonly money: RedisMoney;

  constructor(private readonly client: RedisLike, private readonly opts: OpenOptions, private readonly owned: boolean) {
    this.r = new RedisBase(client, opts);
    this.outbox = new RedisOutbox(this.r);
    this.money = new RedisMoney(this.r, this.outbox);
  }

  private claimKey(scope: string | null, key: string): string {
    return scope === null ? `${this.r.prefix}o:${enc(key)}` : `${this.r.tag(scope)}o:${enc(key)}`;
  }

  async init(): Promise<void> {
    // A client of our own connects here, not when the store is made: ready decides what a refusal means.
    if (this.owned && !this.client.isReady) await connect(this.client, this.opts.timeoutMs);
    const ack = this.r.ackClient;
    if (ack && !ack.isReady) await connect(ack, this.opts.timeoutMs);
    if (this.r.kind === 'cluster') return; // SCRIPT LOAD reaches one node only; EVALSHA falls back to EVAL anyway.
    await Promise.all(Object.values(S).map((s) => this.r.send(undefined, ['SCRIPT', 'LOAD', s.src])));
  }

  async get(account: string, collection: string, key: string, now: Millis): Promise<StoredRecord | null> {
    const [rec] = this.r.recordKeys(account, collection, key);
    const m = (await this.r.eval(S.GET, [rec], [int(now, 'now')], true)) as Buffer[] | null;
    return m ? Object.assign(metaOf(key, m.slice(0, 6)), { value: new Uint8Array(m[6]!) }) : null;
  }

  async put(account: string, collection: string, key: string, input: PutInput, now: Millis, expect?: Expect): Promise<PutResult> {
    const value = Buffer.from(input.value.buffer, input.value.byteOffset, input.value.byteLength);
    const [docs, total, terms, posts] = this.r.indexKeys(account, collection);
    // Events: after the put's own ARGV (and the global outbox index after its keys on a standalone server).
    const ext = extArg(this.r, account, undefined, undefined, input.events);
    const args = [int(now, 'now'), ...expectArgs(expect), value, int(input.size, 'size'), input.tag, expiry(input.expiresAt), key, posts, documentArg(input.index)];
    const keys = [...this.r.recordKeys(account, collection, key).slice(0, 3), docs, total, terms];
    if (ext !== undefined) (args.push(ext), this.r.kind !== 'cluster' && keys.push(this.r.outboxDueKey));
    const r = (await this.r.eval(S.PUT, keys, args)) as unknown[];
    if (r[0] !== 1) return { ok: false, current: r[1] ? metaOf(key, r[1] as unknown[]) : null };
    await this.r.replicated(this.r.tag(account), false);
    if (ext !== undefined) await this.outbox.hint(account, now);
    const record: RecordMeta = {
      key, version: Number(r[2]), size: input.size, tag: input.tag, createdAt: Number(r[3]), updatedAt: now, expiresAt: input.expiresAt,
    };
    return { ok: true, record, created: r[1] === 1 };
  }

  async delete(account: string, collection: string, key: string, now: Millis, expect?: Expect): Promise<DeleteResult> {
    const [docs, total, terms, posts] = this.r.indexKeys(account, collection);
    const keys = [...this.r.recordKeys(account, collection, key).slice(0, 3), docs, total, terms];
    const r = (await this.r.eval(S.DELETE, keys, [int(now, 'now'), ...expectArgs(expect), key, posts])) as unknown[];
    if (r[0] !== 1) return { ok: false, current: r[1] ? metaOf(key, r[1] as unknown[]) : null };
    return { ok: true, deleted: r[1] === 1 };
  }

  async list(account: string, collection: string, query: ListQuery, now: Millis): Promise<RecordMeta[]> {
    return (await this.scan(account, collection, query, now, false)).map((row) => metaOf(String(row[0]), row.slice(1)));
  }

  async entries(account: string, collection: string, query: ListQuery, now: Millis): Promise<StoredRecord[]> {
    const rows = await this.scan(account, collection, query, now, true);
    return rows.map((row) => Object.assign(metaOf(String(row[0]), row.slice(1, 7)), { value: new Uint8Array(row[7] as Buffer) }));
  }

  search(account: string, collection: string, query: SearchQuery, now: Millis): Promise<SearchHit[]> {
    return redisSearch(this.r, account, collection, query, now);
  }

  /**
   * Rows {key, ver, size, tag, ca, ua, exp[, v]} of live records in key order: one LIST script per SCAN_BUDGET index
   * entries, so a run of entries of expired records is read over several scripts (usually one round trip).
   */
  private async scan(account: string, collection: string, query: ListQuery, now: Millis, values: boolean): Promise<unknown[][]> {
    const [, idx, xz, base] = this.r.recordKeys(account, collection);
    const [docs, total, terms, posts] = this.r.indexKeys(account, collection);
    const prefix = query.prefix ?? '';
    // Bounds in bytes: '(' exclusive, '[' inclusive; UTF-8 never contains 0xFF, so prefix+0xFF closes the range.
    let min: Arg = '-';
    if (query.after !== undefined && Buffer.compare(Buffer.from(query.after), Buffer.from(prefix)) >= 0) min = `(${query.after}`;
    else if (prefix !== '') min = `[${prefix}`;
    const max: Arg = prefix === '' ? '+' : Buffer.concat([Buffer.from(`(${prefix}`), Buffer.from([0xff])]);
    const out: unknown[][] = [];
    for (;;) {
      const args = [int(now, 'now'), base, min, max, int(query.limit - out.length, 'limit'), String(SCAN_BUDGET), posts, values ? '1' : ''];
      // Values are bytes: with them, every string of the reply comes back as a Buffer (String() decodes the others).
      const [rows, cut] = (await this.r.eval(S.LIST, [idx, xz, docs, total, terms], args, values)) as [unknown[][], string | Buffer | null];
      out.push(...rows);
      if (cut === null || out.length >= query.limit) return out;
      min = Buffer.concat([Buffer.from('('), Buffer.from(cut)]);
    }
  }

  /**
   * Erases a collection in batches of PURGE_BATCH records (fewer when their documents exceed DROP_TERMS terms), each
   * batch one script (record, index entries and search document together), until a batch finds fewer: a record
   * written meanwhile is erased if a later batch sees it, else it survives whole (record, index entry, document). The
   * last batch deletes the collection's index keys, which are empty by then. Returns how many live records were removed.
   */
  async purge(account: string, collection: string): Promise<number> {
    const [, idx, xz, base] = this.r.recordKeys(account, collection);
    const [docs, total, terms, posts] = this.r.indexKeys(account, collection);
    const args = [String(Date.now()), base, String(PURGE_BATCH), posts, String(DROP_TERMS)];
    let removed = 0;
    for (;;) {
      const [live, full] = (await this.r.eval(S.PURGE_BATCH, [idx, xz, docs, total, terms], args)) as [number, number];
      removed += Number(live);
      if (Number(full) === 0) return removed;
    }
  }

  async incr(account: string, name: string, by: number, expiresAt: Millis, usage?: UsageInput): Promise<number> {
    const args = [int(by, 'by'), int(expiresAt, 'expiresAt'), String(Date.now()), ...usageArgs(usage)];
    const keys = [this.r.counterKey(account, name), ...(usage ? this.r.usageKeys(account, usage.bucket) : [])];
    return Number(await this.r.eval(S.INCR, keys, args));
  }

  async counter(account: string, name: string, now: Millis): Promise<number> {
    const key = this.r.counterKey(account, name);
    const [n, exp] = (await this.r.send(key, ['HMGET', key, 'n', 'exp'])) as [string | null, string | null];
    return n !== null && Number(exp) > now ? Number(n) : 0;
  }

  // --- money: RedisMoney ---
  balance(account: string, now: Millis): Promise<number> {
    return this.money.balance(account, now);
  }
  post(account: string, input: PostInput, now: Millis): Promise<PostResult> {
    return this.money.post(account, input, now);
  }
  charge(account: string, input: ChargeInput, now: Millis): Promise<ChargeResult> {
    return this.money.charge(account, input, now);
  }
  void(account: string, input: VoidInput, now: Millis): Promise<VoidResult> {
    return this.money.void(account, input, now);
  }
  hold(account: string, input: HoldInput, now: Millis): Promise<HoldResult> {
    return this.money.hold(account, input, now);
  }
  settle(account: string, holdId: string, actual: number, now: Millis, memo?: string, usage?: UsageInput, caps?: string[]): Promise<SettleResult> {
    return this.money.settle(account, holdId, actual, now, memo, usage, caps);
  }
  usage(account: string, from: string, to: string, now: Millis): Promise<UsageBucket[]> {
    return this.money.usage(account, from, to, now);
  }
  lastUsed(account: string): Promise<Record<string, Millis>> {
    return this.money.lastUsed(account);
  }
  ledger(account: string, query: { before?: number; limit: number }): Promise<LedgerEntry[]> {
    return this.money.ledger(account, query);
  }

  async claim(scope: string | null, key: string, value: string, expiresAt: Millis | null, now: Millis): Promise<ClaimResult> {
    const r = (await this.r.eval(S.CLAIM, [this.claimKey(scope, key)], [value, expiry(expiresAt), int(now, 'now')])) as unknown[];
    return r[0] === 1 ? { inserted: true } : { inserted: false, value: String(r[1]) };
  }

  async updateClaim(scope: string | null, key: string, value: string, expiresAt: Millis | null): Promise<void> {
    await this.r.eval(S.UPDATE_CLAIM, [this.claimKey(scope, key)], [value, expiry(expiresAt)]);
  }

  async releaseClaim(scope: string | null, key: string): Promise<void> {
    const k = this.claimKey(scope, key);
    await this.r.send(k, ['DEL', k]);
  }

  /**
   * Records and charge ids: nothing to do (PEXPIREAT frees them; put, list, entries and search drop the index entries
   * and search documents of a collection's expired records when they meet them, a bounded number per call). Holds:
   * releases those of up to 1,000 due accounts, each in bounded scripts, pipelined. A Cluster has no global zset
   * (it would live in one slot): each master is scanned for its accounts' hold zsets instead (see sweepCluster).
   * Either way the next money operation of an account (balance() included) releases its expired holds first. Outbox
   * deliveries: nothing to do (a delivered or failed one expires by PEXPIREAT, OUTBOX_KEEP_MS after its last update).
   */
  async sweep(now: Millis): Promise<{ records: number; holds: number }> {
    if (this.r.kind === 'cluster') return { records: 0, holds: await this.sweepCluster(now) };
    const dueKey = this.r.dueKey;
    const due = (await this.r.send(dueKey, ['ZRANGEBYSCORE', dueKey, '-inf', int(now, 'now'), 'LIMIT', '0', '1000'])) as string[];
    const released = await Promise.all(due.map((account) => this.money.releaseExpired(account, now)));
    return { records: 0, holds: released.reduce((sum, n) => sum + n, 0) };
  }

  /**
   * Per master, SCAN (TYPE zset) for the accounts' hold zsets `P{A}:hz` and release those with a hold due:
   * O(keys of the master) per sweep, a page of 1,000 keys at a time, so no command blocks a master for long.
   */
  private async sweepCluster(now: Millis): Promise<number> {
    const cluster = this.client as unknown as ClusterLike;
    const pattern = `${globEscape(this.r.prefix)}{*}:hz`;
    let released = 0;
    for (const master of cluster.masters) {
      const node = await cluster.nodeClient(master);
      for await (const keys of node.scanIterator({ MATCH: pattern, COUNT: 1000, TYPE: 'zset' })) {
        for (const key of keys) {
          const due = (await node.sendCommand(['ZRANGEBYSCORE', key, '-inf', int(now, 'now'), 'LIMIT', '0', '1'])) as string[];
          if (due.length) released += await this.money.releaseExpired(dec(key.slice(this.r.prefix.length + 1, key.lastIndexOf('}'))), now);
        }
      }
    }
    return released;
  }

  /** Closes the client only if this store created it; the host's client stays theirs. */
  async close(): Promise<void> {
    // The replica-acknowledging client is always ours, whoever made the main one.
    const ack = this.r.ackClient;
    if (ack?.isOpen) await bounded(ack.close(), this.opts.timeoutMs).catch(() => ack.destroy());
    if (!this.owned || !this.client.isOpen) return;
    // When the server is unreachable, drop the socket rather than wait for pending replies.
    await bounded(this.client.close(), this.opts.timeoutMs).catch(() => this.client.destroy());
  }
}

/** Makes its own client for `url` (connected by init): no offline queue (fail fast while disconnected), bounded reconnect backoff. */
export async function redisStoreFromUrl(url: string, opts: OpenOptions): Promise<RedisStore> {
  const { createClient } = await import('@keyv/redis');
  const socket = { connectTimeout: opts.timeoutMs, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) };
  const client = createClient({ url, disableOfflineQueue: true, socket }) as unknown as RedisLike;
  // Faults reach callers as rejected commands (503); an 'error' event without a listener would crash the process.
  client.on('error', () => {});
  return new RedisStore(client, opts, true);
}

/**
 * A Redis Cluster from `redis-cluster://[user:password@]host1:port1,host2:port2,…` (`rediss-cluster://`
 * for TLS): any reachable node is enough, the client learns the others and follows failovers.
 */
export async function redisClusterStoreFromUrl(url: string, opts: OpenOptions): Promise<RedisStore> {
  const { createCluster } = await import('@keyv/redis');
  const m = /^(rediss?)-cluster:\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/.exec(url);
  if (!m) throw new Error('redis store: a cluster URL is redis-cluster://[user:password@]host:port,host:port,… (rediss-cluster:// for TLS)');
  const [, scheme, credentials, hosts] = m;
  const rootNodes = hosts!.split(',').filter(Boolean).map((h) => ({ url: `${scheme}://${credentials ? `${credentials}@` : ''}${h}` }));
  const socket = { connectTimeout: opts.timeoutMs, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) };
  const cluster = createCluster({ rootNodes, defaults: { disableOfflineQueue: true, socket } }) as unknown as RedisLike;
  cluster.on('error', () => {});
  return new RedisStore(cluster, opts, true);
}

/** Uses the client held by the host's KeyvRedis adapter (connecting it if needed); never closes it. */
export async function redisStoreFromKeyv(keyv: Keyv, opts: OpenOptions): Promise<RedisStore> {
  const client = (keyv.store as KeyvRedis<unknown>).client as unknown as RedisLike;
  if (!client.isOpen) await connect(client, opts.timeoutMs);
  return new RedisStore(client, opts, false);
}
