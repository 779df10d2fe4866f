// The Redis store's plumbing: one client, commands and scripts sent with a time bound, and the key layout of an account.
import { createHash } from 'node:crypto';
import { StoreUnavailableError } from '../errors.js';
import type { Expect, Millis, RecordMeta } from './contract.js';
import type { OpenOptions } from './open.js';
import { SendDeadline } from './send-deadline.js';
import { addCounts, type UsageInput } from './usage.js';
import * as moneyLua from './redis-scripts-money.js';
import * as outboxLua from './redis-scripts-outbox.js';
import * as recordsLua from './redis-scripts-records.js';
import * as searchLua from './redis-scripts-search.js';

export type Arg = string | Buffer;

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
  duplicate?(): RedisLike;
  readonly getSentinelNode?: unknown; // only on a sentinel client
}

/** RESP_TYPES.BLOB_STRING of @redis/client: mapped to Buffer only where bytes must round-trip. */
const BLOB_STRING = 36;
const BUFFERS = Object.freeze({ [BLOB_STRING]: Buffer });
const STRINGS = Object.freeze({ [BLOB_STRING]: String });

export type Script = { src: string; sha: string };
const script = (src: string): Script => ({ src, sha: createHash('sha1').update(src).digest('hex') });
const lua = { ...recordsLua, ...searchLua, ...moneyLua, ...outboxLua };
export const S = Object.fromEntries(Object.entries(lua).map(([name, src]) => [name, script(src)])) as Record<keyof typeof lua, Script>;

const STRUCTURAL = /[%:{}]/;

/**
 * Escapes the characters that structure key names (':' separates, '{' '}' delimit the Cluster
 * hash tag, '%' escapes), so that any account/collection/key maps to one unambiguous key name.
 * '' becomes a lone '%', which no other input produces, so a hash tag is never empty.
 */
export function enc(s: string): string {
  // Most names have none of those characters: a test is ~3x cheaper than a replace that finds nothing (several per call).
  return s === '' ? '%' : STRUCTURAL.test(s) ? s.replace(/[%:{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : s;
}

/** The inverse of `enc`. */
export function dec(s: string): string {
  return s === '%' ? '' : s.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Numbers that reach Lua or PEXPIREAT must be exact integers (Lua numbers are doubles). */
export function int(n: number, what: string): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`redis store: ${what} must be a safe integer, got ${n}`);
  return String(n);
}
export const opt = (s: string | undefined): string => (s === undefined ? '' : `=${s}`);
export const expiry = (at: Millis | null): string => (at === null ? '' : int(at, 'expiresAt'));

export function metaOf(key: string, m: unknown[]): RecordMeta {
  const [version, size, tag, createdAt, updatedAt, exp] = m.map(String) as [string, string, string, string, string, string];
  const expiresAt = exp === '' ? null : Number(exp);
  return { key, version: Number(version), size: Number(size), tag, createdAt: Number(createdAt), updatedAt: Number(updatedAt), expiresAt };
}

/**
 * The usage block that ends the ARGV of a counting script (see USAGE in redis-lua-lib.ts): '0' without usage.
 * `counts`: the counters the script adds as given once the operation took effect (by default the caller's `add`).
 */
export function usageArgs(u: UsageInput | undefined, counts: Array<[string, number]> = addCounts(u?.add)): Arg[] {
  if (!u) return ['0'];
  const block = [u.bucket.slice(11, 13), int(u.expiresAt, 'usage.expiresAt'), u.keyId ?? ''];
  for (const [field, n] of counts) block.push(field, int(n, `usage counter ${field}`));
  block.push(String(block.length));
  return block;
}

export const expectArgs = (e: Expect | undefined): [string, string] => (!e ? ['', ''] : 'absent' in e ? ['a', ''] : ['v', int(e.version, 'version')]);

/** Whether a script refused to run because `code` (its error reply's first word) said so. */
export const repliedWith = (error: unknown, code: string): boolean => {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message.startsWith(code);
};

/**
 * Key layout (P = prefix, A/C/K/N/I = encoded account, collection, key, counter name, charge or hold id):
 *   P{A}:r:C:K  record hash        P{A}:i:C  index zset (score 0, lex order)   P{A}:x:C  keys by expiresAt
 *   P{A}:c:N    counter hash       P{A}:a    balance, seq                      P{A}:l    ledger list (seq = index + 1)
 *   P{A}:f      reference -> seq   P{A}:h    hold -> amount                    P{A}:hz   holds by expiresAt
 *   P{A}:g:I    charge id 'taken:until' (expires at until: see Store.void)
 *   P{A}:u:D    usage of UTC day D, fields '<hour>|<counter>'   P{A}:ku  API key id -> last use (ms)
 *   P{A}:d:C    search documents      P{A}:s:C  their total terms           P{A}:w:C  terms zset (lex order)
 *   P{A}:t:C:T  keys of records with term T (search: see redis-lua-lib.ts)
 *   P{S}:o:K    claim of scope S   Po:K      global claim (no tag: spreads over the Cluster)
 *   P{A}:e:ID   webhook delivery hash    P{A}:ep  pending deliveries by next claim   P{A}:ec  deliveries by createdAt
 *   Pholds-due  accounts by earliest hold expiry (standalone/sentinel only: it lives in another slot)
 *   Poutbox-due accounts by earliest pending delivery (standalone: kept by the scripts; Cluster: a hint kept by the
 *               processes, repaired by scanning the masters; see redis-outbox.ts)
 */
export class RedisBase {
  readonly kind: 'standalone' | 'cluster' | 'sentinel';
  readonly prefix: string;
  readonly dueKey: string;
  readonly outboxDueKey: string;

  constructor(readonly client: RedisLike, readonly opts: OpenOptions) {
    if (/[{}]/.test(opts.prefix)) throw new Error('redis store: the key prefix must not contain "{" or "}" (Cluster hash tags)');
    this.prefix = opts.prefix;
    this.deadline = new SendDeadline(opts.timeoutMs);
    this.dueKey = `${opts.prefix}holds-due`;
    this.outboxDueKey = `${opts.prefix}outbox-due`;
    this.kind = client.slots !== undefined ? 'cluster' : client.getSentinelNode !== undefined ? 'sentinel' : 'standalone';
    const ack = opts.replicaAck;
    this.replicas = ack?.replicas ?? (this.kind === 'cluster' ? 1 : 0);
    // With every write waiting ('all'), one connection is as good as two: nothing is left to spare the wait.
    if (this.replicas > 0 && ack?.writes !== 'all' && client.duplicate) {
      this.ackClient = client.duplicate();
      this.ackClient.on('error', () => {});
    }
  }

  /** Drops a command still unsent within the time bound (one signal per window, not a timer per command). */
  private readonly deadline: SendDeadline;

  /** Replicas a write waits for (see ReplicaAckOptions). */
  readonly replicas: number;

  /**
   * Returns once `replicas` replicas have every write sent before on the connection to `key`'s master
   * (Redis WAIT on the same connection), when the policy covers this write (`credit`: money given). Else a
   * 503: the write is on the master, not yet safe from its failover.
   */
  async replicated(key: string, credit: boolean): Promise<void> {
    const ack = this.opts.replicaAck;
    if (this.replicas === 0 || (!credit && ack?.writes !== 'all')) return;
    const timeoutMs = ack?.timeoutMs ?? 1000;
    // On the connection the write went through: WAIT counts that connection's writes.
    const got = Number(await this.send(key, ['WAIT', String(this.replicas), String(timeoutMs)], false, credit ? this.creditClient : this.client));
    if (got < this.replicas) throw new StoreUnavailableError(new Error(`${got} of ${this.replicas} replicas acknowledged the write within ${timeoutMs} ms`), true);
  }

  /** One command, dropped if still unsent within `timeoutMs` (a command already written may still run later). */
  async send(firstKey: string | undefined, args: Arg[], buffers = false, client = this.client): Promise<unknown> {
    const options = { typeMapping: buffers ? BUFFERS : STRINGS, abortSignal: this.deadline.signal() };
    try {
      if (this.kind === 'cluster') return await client.sendCommand(firstKey, false, args, options);
      if (this.kind === 'sentinel') return await client.sendCommand(false, args, options);
      return await client.sendCommand(args, options);
    } catch (error) {
      if (this.kind === 'cluster') this.rediscover();
      // Whatever the client says (offline, closed, reset), a command may already have been written: the
      // answer counts as lost (node-redis rejects written commands with those errors too when a socket dies).
      throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error);
    }
  }

  private lastRediscovery = 0;

  /**
   * Asks the cluster client to read the slot map again (at most twice a second). node-redis does so by
   * itself only on a MOVED or ASK reply: after a master dies, its slots' commands would keep failing on
   * the dead node's address although its replica took over. It starts from a known node and falls back to
   * the URL's nodes. `_slots` is the client's own (untyped) slot map: a client without it is left alone.
   */
  private rediscover(): void {
    const slots = (this.client as { _slots?: { rediscover(startWith: unknown): Promise<void>; masters: Array<{ client?: unknown }> } })._slots;
    if (!slots || Date.now() - this.lastRediscovery < 500) return;
    this.lastRediscovery = Date.now();
    const known = slots.masters.find((m) => m.client)?.client;
    if (known) slots.rediscover(known).catch(() => {});
  }

  /** Runs a script; `credit`: on the connections that wait for replicas (see `ackClient`). */
  async eval(s: Script, keys: string[], args: Arg[], buffers = false, credit = false): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    const client = credit ? this.creditClient : this.client;
    try {
      return await this.send(keys[0], ['EVALSHA', s.sha, ...tail], buffers, client);
    } catch (error) {
      // A restarted or flushed server forgot the script; EVAL runs it (nothing ran before) and caches it again.
      if (repliedWith(error, 'NOSCRIPT')) return this.send(keys[0], ['EVAL', s.src, ...tail], buffers, client);
      throw error;
    }
  }

  /**
   * A second client (its own connection to each node) for the writes that wait for replicas: Redis WAIT
   * blocks the connection it is sent on, and every other command pipelined behind it on that connection
   * would wait too (a master without a reachable replica would stall every call for `timeoutMs`).
   */
  readonly ackClient: RedisLike | undefined;

  private get creditClient(): RedisLike {
    return this.ackClient ?? this.client;
  }

  tag(account: string): string {
    return `${this.prefix}{${enc(account)}}:`; // the {account} hash tag puts all of an account's keys in one slot
  }

  /** [record, index, expiry zset, record key base (what LIST and PURGE_BATCH prepend to an encoded key)]. */
  recordKeys(account: string, collection: string, key = ''): [string, string, string, string] {
    const t = this.tag(account);
    return [`${t}r:${enc(collection)}:${enc(key)}`, `${t}i:${enc(collection)}`, `${t}x:${enc(collection)}`, `${t}r:${enc(collection)}:`];
  }

  /** The search index of a collection: [docs, total terms, terms zset, posting key base (+ term)]; see redis-lua-lib.ts. */
  indexKeys(account: string, collection: string): [string, string, string, string] {
    const t = this.tag(account);
    const c = enc(collection);
    return [`${t}d:${c}`, `${t}s:${c}`, `${t}w:${c}`, `${t}t:${c}:`];
  }

  counterKey(account: string, name: string): string {
    return `${this.tag(account)}c:${enc(name)}`;
  }

  idKey(account: string, id: string): string {
    return `${this.tag(account)}g:${enc(id)}`;
  }

  /** [the account's usage hash of `bucket`'s day, its key-use hash]. */
  usageKeys(account: string, bucket: string): [string, string] {
    const t = this.tag(account);
    return [`${t}u:${bucket.slice(0, 10)}`, `${t}ku`];
  }
}
