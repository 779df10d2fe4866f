// The storage contract natively on Redis: one Lua script or command per operation, atomic across processes.
import { createHash } from 'node:crypto';
import type { Keyv } from 'keyv';
import type KeyvRedis from '@keyv/redis';
import { StoreUnavailableError } from '../errors.js';
import type {
  ChargeInput, ChargeResult, ClaimResult, DeleteResult, Expect, HoldInput, HoldResult, LedgerEntry, ListQuery,
  Millis, PostInput, PostResult, PutInput, PutResult, RecordMeta, SettleResult, Store, StoreInfo, StoredRecord,
} from './contract.js';
import type { OpenOptions } from './open.js';
import { connect } from './redis-connect.js';
import { bounded } from './timeout.js';
import * as lua from './redis-scripts.js';

type Arg = string | Buffer;

/** The part of an @redis/client v5 client (standalone, cluster or sentinel) the store uses; no import needed. */
export interface RedisLike {
  sendCommand(...args: unknown[]): Promise<unknown>;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  readonly slots?: unknown; // only on a cluster client
  readonly getSentinelNode?: unknown; // only on a sentinel client
}

/** RESP_TYPES.BLOB_STRING of @redis/client: mapped to Buffer only where bytes must round-trip. */
const BLOB_STRING = 36;

type Script = { src: string; sha: string };
const script = (src: string): Script => ({ src, sha: createHash('sha1').update(src).digest('hex') });
const S = Object.fromEntries(Object.entries(lua).map(([name, src]) => [name, script(src)])) as Record<keyof typeof lua, Script>;

/**
 * Escapes the characters that structure key names (':' separates, '{' '}' delimit the Cluster
 * hash tag, '%' escapes), so that any account/collection/key maps to one unambiguous key name.
 * '' becomes a lone '%', which no other input produces, so a hash tag is never empty.
 */
function enc(s: string): string {
  return s === '' ? '%' : s.replace(/[%:{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Numbers that reach Lua or PEXPIREAT must be exact integers (Lua numbers are doubles). */
function int(n: number, what: string): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`redis store: ${what} must be a safe integer, got ${n}`);
  return String(n);
}
const opt = (s: string | undefined): string => (s === undefined ? '' : `=${s}`);
const expiry = (at: Millis | null): string => (at === null ? '' : int(at, 'expiresAt'));

function metaOf(key: string, m: unknown[]): RecordMeta {
  const [version, size, tag, createdAt, updatedAt, exp] = m.map(String) as [string, string, string, string, string, string];
  const expiresAt = exp === '' ? null : Number(exp);
  return { key, version: Number(version), size: Number(size), tag, createdAt: Number(createdAt), updatedAt: Number(updatedAt), expiresAt };
}

function entryOf(accountId: string, json: unknown): LedgerEntry {
  const { seq, amount, kind, reference, memo, createdAt, balanceAfter } = JSON.parse(String(json)) as LedgerEntry;
  return { seq, accountId, amount, kind, reference, memo, createdAt, balanceAfter };
}

const expectArgs = (e: Expect | undefined): [string, string] => (!e ? ['', ''] : 'absent' in e ? ['a', ''] : ['v', int(e.version, 'version')]);

/**
 * Key layout (P = prefix, A/C/K/N = encoded account, collection, key, counter name):
 *   P{A}:r:C:K  record hash        P{A}:i:C  index zset (score 0, lex order)   P{A}:x:C  keys by expiresAt
 *   P{A}:c:N    counter hash       P{A}:a    balance, seq                      P{A}:l    ledger list (seq = index + 1)
 *   P{A}:f      reference -> seq   P{A}:h    hold -> amount                    P{A}:hz   holds by expiresAt
 *   P{S}:o:K    claim of scope S   Po:K      global claim (no tag: spreads over the Cluster)
 *   Pholds-due  accounts by earliest hold expiry (standalone/sentinel only: it lives in another slot)
 */
export class RedisStore implements Store {
  readonly info: StoreInfo = { backend: 'redis', multiProcess: true, chargeAuth: true };
  private readonly kind: 'standalone' | 'cluster' | 'sentinel';
  private readonly prefix: string;
  private readonly dueKey: string;

  constructor(private readonly client: RedisLike, private readonly opts: OpenOptions, private readonly owned: boolean) {
    if (/[{}]/.test(opts.prefix)) throw new Error('redis store: the key prefix must not contain "{" or "}" (Cluster hash tags)');
    this.prefix = opts.prefix;
    this.dueKey = `${opts.prefix}holds-due`;
    this.kind = client.slots !== undefined ? 'cluster' : client.getSentinelNode !== undefined ? 'sentinel' : 'standalone';
  }

  /** One command. `timeout` drops it if still unsent by then, so a 503'd call never runs later. */
  private async send(firstKey: string | undefined, args: Arg[], buffers = false): Promise<unknown> {
    const options = { typeMapping: { [BLOB_STRING]: buffers ? Buffer : String }, timeout: this.opts.timeoutMs };
    try {
      if (this.kind === 'cluster') return await this.client.sendCommand(firstKey, false, args, options);
      if (this.kind === 'sentinel') return await this.client.sendCommand(false, args, options);
      return await this.client.sendCommand(args, options);
    } catch (error) {
      throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error);
    }
  }

  private async eval(s: Script, keys: string[], args: Arg[], buffers = false): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.send(keys[0], ['EVALSHA', s.sha, ...tail], buffers);
    } catch (error) {
      // A restarted or flushed server forgot the script; EVAL runs it (nothing ran before) and caches it again.
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof Error && cause.message.startsWith('NOSCRIPT')) return this.send(keys[0], ['EVAL', s.src, ...tail], buffers);
      throw error;
    }
  }

  private tag(account: string): string {
    return `${this.prefix}{${enc(account)}}:`; // the {account} hash tag puts all of an account's keys in one slot
  }

  /** [record, index, expiry zset, record key base (what LIST and PURGE prepend to an encoded key)]. */
  private recordKeys(account: string, collection: string, key = ''): [string, string, string, string] {
    const t = this.tag(account);
    return [`${t}r:${enc(collection)}:${enc(key)}`, `${t}i:${enc(collection)}`, `${t}x:${enc(collection)}`, `${t}r:${enc(collection)}:`];
  }

  private counterKey(account: string, name: string): string {
    return `${this.tag(account)}c:${enc(name)}`;
  }

  private claimKey(scope: string | null, key: string): string {
    return scope === null ? `${this.prefix}o:${enc(key)}` : `${this.tag(scope)}o:${enc(key)}`;
  }

  private money(s: Script, account: string, now: Millis, args: Arg[], counter?: string, record?: string): Promise<unknown> {
    const t = this.tag(account);
    const keys = [`${t}a`, `${t}l`, `${t}f`, `${t}h`, `${t}hz`, counter ?? `${t}a`, record ?? `${t}a`];
    // In a Cluster the global zset lives in another slot, so scripts cannot touch it there (see sweep).
    if (this.kind !== 'cluster') keys.push(this.dueKey);
    return this.eval(s, keys, [int(now, 'now'), account, ...args]);
  }

  async init(): Promise<void> {
    // A client of our own connects here, not when the store is made: ready decides what a refusal means.
    if (this.owned && !this.client.isReady) await connect(this.client, this.opts.timeoutMs);
    if (this.kind === 'cluster') return; // SCRIPT LOAD reaches one node only; EVALSHA falls back to EVAL anyway.
    await Promise.all(Object.values(S).map((s) => this.send(undefined, ['SCRIPT', 'LOAD', s.src])));
  }

  async get(account: string, collection: string, key: string, now: Millis): Promise<StoredRecord | null> {
    const [rec] = this.recordKeys(account, collection, key);
    const m = (await this.eval(S.GET, [rec], [int(now, 'now')], true)) as Buffer[] | null;
    return m ? Object.assign(metaOf(key, m.slice(0, 6)), { value: new Uint8Array(m[6]!) }) : null;
  }

  async put(account: string, collection: string, key: string, input: PutInput, now: Millis, expect?: Expect): Promise<PutResult> {
    const value = Buffer.from(input.value.buffer, input.value.byteOffset, input.value.byteLength);
    const args = [int(now, 'now'), ...expectArgs(expect), value, int(input.size, 'size'), input.tag, expiry(input.expiresAt), key];
    const r = (await this.eval(S.PUT, this.recordKeys(account, collection, key).slice(0, 3), args)) as unknown[];
    if (r[0] !== 1) return { ok: false, current: r[1] ? metaOf(key, r[1] as unknown[]) : null };
    const record: RecordMeta = {
      key, version: Number(r[2]), size: input.size, tag: input.tag, createdAt: Number(r[3]), updatedAt: now, expiresAt: input.expiresAt,
    };
    return { ok: true, record, created: r[1] === 1 };
  }

  async delete(account: string, collection: string, key: string, now: Millis, expect?: Expect): Promise<DeleteResult> {
    const args = [int(now, 'now'), ...expectArgs(expect), key];
    const r = (await this.eval(S.DELETE, this.recordKeys(account, collection, key).slice(0, 3), args)) as unknown[];
    if (r[0] !== 1) return { ok: false, current: r[1] ? metaOf(key, r[1] as unknown[]) : null };
    return { ok: true, deleted: r[1] === 1 };
  }

  async list(account: string, collection: string, query: ListQuery, now: Millis): Promise<RecordMeta[]> {
    const [, idx, xz, base] = this.recordKeys(account, collection);
    const prefix = query.prefix ?? '';
    // Bounds in bytes: '(' exclusive, '[' inclusive; UTF-8 never contains 0xFF, so prefix+0xFF closes the range.
    let min: Arg = '-';
    if (query.after !== undefined && Buffer.compare(Buffer.from(query.after), Buffer.from(prefix)) >= 0) min = `(${query.after}`;
    else if (prefix !== '') min = `[${prefix}`;
    const max: Arg = prefix === '' ? '+' : Buffer.concat([Buffer.from(`(${prefix}`), Buffer.from([0xff])]);
    const rows = (await this.eval(S.LIST, [idx, xz], [int(now, 'now'), base, min, max, int(query.limit, 'limit')])) as unknown[][];
    return rows.map((row) => metaOf(String(row[0]), row.slice(1)));
  }

  async purge(account: string, collection: string): Promise<number> {
    const [, idx, xz, base] = this.recordKeys(account, collection);
    return Number(await this.eval(S.PURGE, [idx, xz], [String(Date.now()), base]));
  }

  async incr(account: string, name: string, by: number, expiresAt: Millis): Promise<number> {
    const args = [int(by, 'by'), int(expiresAt, 'expiresAt'), String(Date.now())];
    return Number(await this.eval(S.INCR, [this.counterKey(account, name)], args));
  }

  async counter(account: string, name: string, now: Millis): Promise<number> {
    const key = this.counterKey(account, name);
    const [n, exp] = (await this.send(key, ['HMGET', key, 'n', 'exp'])) as [string | null, string | null];
    return n !== null && Number(exp) > now ? Number(n) : 0;
  }

  async balance(account: string, now: Millis): Promise<number> {
    return Number(await this.money(S.BALANCE, account, now, []));
  }

  async post(account: string, input: PostInput, now: Millis): Promise<PostResult> {
    const args = [int(input.amount, 'amount'), input.kind, opt(input.reference), opt(input.memo)];
    const r = (await this.money(S.POST, account, now, args)) as unknown[];
    const balance = Number(r[1]);
    if (r[0] === 1) return { ok: true, entry: entryOf(account, r[2]), balance };
    return { ok: false, reason: r[0] === 2 ? 'duplicate' : 'insufficient_funds', balance };
  }

  async charge(account: string, input: ChargeInput, now: Millis): Promise<ChargeResult> {
    const { windowExpiresAt, freeLimit, price, auth } = input;
    const args = [int(windowExpiresAt, 'windowExpiresAt'), int(freeLimit, 'freeLimit'), int(price, 'price'), opt(input.memo), opt(auth?.tag), auth ? Buffer.from(auth.hash) : ''];
    const r = (await this.money(S.CHARGE, account, now, args, this.counterKey(account, `free:${input.window}`), auth && this.recordKeys(account, auth.collection, auth.key)[0])) as unknown[];
    const [freeUsed, balance] = [Number(r[1]), Number(r[2])];
    if (r[0] === 1) return { ok: true, free: true, freeUsed, balance };
    if (r[0] === 2) return { ok: true, free: false, freeUsed, balance, entry: entryOf(account, r[3]) };
    return r[0] === 3 ? { ok: false, unauthorized: true } : { ok: false, freeUsed, balance };
  }

  async refund(account: string, input: { window: string; free: boolean; amount: number; memo?: string }, now: Millis): Promise<number> {
    const args = [input.free ? '1' : '0', int(input.amount, 'amount'), opt(input.memo)];
    return Number(await this.money(S.REFUND, account, now, args, this.counterKey(account, `free:${input.window}`)));
  }

  async hold(account: string, input: HoldInput, now: Millis): Promise<HoldResult> {
    const args = [input.holdId, int(input.amount, 'amount'), int(input.expiresAt, 'expiresAt'), opt(input.memo)];
    const r = (await this.money(S.HOLD, account, now, args)) as unknown[];
    const balance = Number(r[1]);
    if (r[0] === 1) return { ok: true, balance };
    return { ok: false, reason: r[0] === 2 ? 'duplicate' : 'insufficient_funds', balance };
  }

  async settle(account: string, holdId: string, actual: number, now: Millis, memo?: string): Promise<SettleResult> {
    const r = (await this.money(S.SETTLE, account, now, [holdId, int(actual, 'actual'), opt(memo)])) as unknown[];
    if (r[0] !== 1) return { ok: false, reason: 'unknown_hold', balance: Number(r[1]) };
    return { ok: true, charged: Number(r[1]), balance: Number(r[2]), entry: r[3] == null ? null : entryOf(account, r[3]) };
  }

  async ledger(account: string, query: { before?: number; limit: number }): Promise<LedgerEntry[]> {
    const before = query.before === undefined ? '' : int(query.before, 'before');
    const rows = (await this.eval(S.LEDGER, [`${this.tag(account)}l`], [before, int(query.limit, 'limit')])) as unknown[];
    return rows.reverse().map((json) => entryOf(account, json));
  }

  async claim(scope: string | null, key: string, value: string, expiresAt: Millis | null, now: Millis): Promise<ClaimResult> {
    const r = (await this.eval(S.CLAIM, [this.claimKey(scope, key)], [value, expiry(expiresAt), int(now, 'now')])) as unknown[];
    return r[0] === 1 ? { inserted: true } : { inserted: false, value: String(r[1]) };
  }

  async updateClaim(scope: string | null, key: string, value: string, expiresAt: Millis | null): Promise<void> {
    await this.eval(S.UPDATE_CLAIM, [this.claimKey(scope, key)], [value, expiry(expiresAt)]);
  }

  async releaseClaim(scope: string | null, key: string): Promise<void> {
    const k = this.claimKey(scope, key);
    await this.send(k, ['DEL', k]);
  }

  /**
   * Records: nothing to do (PEXPIREAT frees them, list and put drop their index entries). Holds: releases those of up
   * to 1,000 due accounts, one atomic script each, pipelined. In a Cluster (no global zset) this is left to the next
   * money operation of the account (balance() included), which always releases expired holds first.
   */
  async sweep(now: Millis): Promise<{ records: number; holds: number }> {
    if (this.kind === 'cluster') return { records: 0, holds: 0 };
    const due = (await this.send(this.dueKey, ['ZRANGEBYSCORE', this.dueKey, '-inf', int(now, 'now'), 'LIMIT', '0', '1000'])) as string[];
    const released = await Promise.all(due.map((account) => this.money(S.RELEASE, account, now, [])));
    return { records: 0, holds: released.reduce<number>((sum, n) => sum + Number(n), 0) };
  }

  /** Closes the client only if this store created it; the host's client stays theirs. */
  async close(): Promise<void> {
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

/** Uses the client held by the host's KeyvRedis adapter (connecting it if needed); never closes it. */
export async function redisStoreFromKeyv(keyv: Keyv, opts: OpenOptions): Promise<RedisStore> {
  const client = (keyv.store as KeyvRedis<unknown>).client as unknown as RedisLike;
  if (!client.isOpen) await connect(client, opts.timeoutMs);
  return new RedisStore(client, opts, false);
}
