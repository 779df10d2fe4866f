// The storage conformance suite on the native Redis store, plus what only Redis has: key layout, scripts, processes.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import KeyvRedis, { createClient } from '@keyv/redis';
import { Keyv } from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/contract.js';
import { KeyvStore } from '../../src/storage/keyv-store.js';
import { openStore } from '../../src/storage/open.js';
import { redisStoreFromUrl, type RedisStore } from '../../src/storage/redis-store.js';
import { redisUrlOrSkip } from '../support/backends.js';
import { storageConformance } from './conformance.js';

/** An admin client of the test itself (errors surface as rejected commands). */
function newClient(url: string) {
  const client = createClient({ url });
  client.on('error', () => {});
  return client;
}
type Client = ReturnType<typeof newClient>;
const run = promisify(execFile);
const newPrefix = () => `apgtest:${randomUUID().slice(0, 8)}:`;
const bytes = (s: string) => new TextEncoder().encode(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every key under `prefix`, found with SCAN (never KEYS). */
async function scanPrefix(client: Client, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const reply = await client.scan(cursor, { MATCH: `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, COUNT: 1000 });
    keys.push(...reply.keys);
    cursor = String(reply.cursor);
  } while (cursor !== '0');
  return keys;
}

/** Removes everything a test run wrote under its own prefix (SCAN + UNLINK; never FLUSHDB). */
async function unlinkPrefix(url: string, prefix: string): Promise<number> {
  const client = newClient(url);
  await client.connect();
  try {
    const keys = await scanPrefix(client, prefix);
    return keys.length > 0 ? await client.unlink(keys) : 0;
  } finally {
    await client.close();
  }
}

storageConformance('redis', async () => {
  const url = await redisUrlOrSkip();
  if (!url) return null;
  const prefix = newPrefix();
  const store = await openStore(url, { timeoutMs: 10_000, prefix });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await unlinkPrefix(url, prefix);
    },
  };
});

describe('redis store specifics', () => {
  let url: string | null = null;
  let store: RedisStore;
  let admin: Client;
  const prefix = newPrefix();

  beforeAll(async () => {
    url = await redisUrlOrSkip();
    if (!url) return;
    store = await redisStoreFromUrl(url, { timeoutMs: 10_000, prefix });
    await store.init();
    admin = newClient(url);
    await admin.connect();
  });
  afterAll(async () => {
    if (!url) return;
    await store.close();
    await admin.close();
    await unlinkPrefix(url, prefix);
  });

  it('keeps awkward names apart and every account key in its {account} hash tag', async (ctx) => {
    if (!url) return ctx.skip();
    const now = Date.now();
    const cases: Array<[string, string, string]> = [
      ['x', 'a:b', 'c'], ['x', 'a', 'b:c'], ['x:a', 'b', 'c'], ['x}', 'a', 'b'], ['x', '}a', 'b'], ['', 'a', 'b'], ['%', 'a', 'b'], ['%25', 'a', 'b'],
    ];
    for (const [i, [a, c, k]] of cases.entries()) await store.put(a, c, k, { value: bytes(String(i)), size: 1, tag: '', expiresAt: null }, now);
    for (const [i, [a, c, k]] of cases.entries()) expect(new TextDecoder().decode((await store.get(a, c, k, now))!.value)).toBe(String(i));
    await store.post('x{y}', { amount: 5, kind: 'grant', reference: 'r:1' }, now);
    await store.claim('x{y}', 'k', 'v', null, now);
    await store.incr('x{y}', 'n', 1, now + 60_000);
    const keys = await scanPrefix(admin, `${prefix}{x%7By%7D}:`);
    expect(keys.length).toBeGreaterThanOrEqual(5);
    // Redis Cluster hashes only the part between the first '{' and the next '}': one tag, one slot.
    expect(new Set(keys.map((k) => k.slice(k.indexOf('{'), k.indexOf('}') + 1)))).toEqual(new Set(['{x%7By%7D}']));
  });

  it('stores every byte value exactly', async (ctx) => {
    if (!url) return ctx.skip();
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    await store.put('bin', 'c', 'k', { value: all, size: 256, tag: 'b', expiresAt: null }, Date.now());
    expect(Buffer.from((await store.get('bin', 'c', 'k', Date.now()))!.value).equals(Buffer.from(all))).toBe(true);
  });

  it('drops index entries of expired records and frees their keys', async (ctx) => {
    if (!url) return ctx.skip();
    const a = `exp_${randomUUID().slice(0, 8)}`;
    const now = Date.now();
    for (let i = 0; i < 20; i++) await store.put(a, 'c', `k${i}`, { value: bytes('x'), size: 1, tag: '', expiresAt: now + 100 }, now);
    await store.put(a, 'c', 'stay', { value: bytes('x'), size: 1, tag: '', expiresAt: null }, now);
    await sleep(200);
    expect((await store.list(a, 'c', { limit: 100 }, Date.now())).map((r) => r.key)).toEqual(['stay']);
    const left = await scanPrefix(admin, `${prefix}{${a}}:`);
    expect(left.sort()).toEqual([`${prefix}{${a}}:i:c`, `${prefix}{${a}}:r:c:stay`]);
  });

  it('runs its scripts again after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async (ctx) => {
    if (!url) return ctx.skip();
    await admin.sendCommand(['SCRIPT', 'FLUSH']);
    expect(await store.post('flush', { amount: 7, kind: 'grant' }, Date.now())).toMatchObject({ ok: true, balance: 7 });
    expect(await store.balance('flush', Date.now())).toBe(7);
  });

  it('sweep releases expired holds of accounts nobody touches', async (ctx) => {
    if (!url) return ctx.skip();
    const a = `sweep_${randomUUID().slice(0, 8)}`;
    const now = Date.now();
    await store.post(a, { amount: 100, kind: 'grant' }, now);
    await store.hold(a, { holdId: 'h', amount: 60, expiresAt: now + 50 }, now);
    await store.hold(a, { holdId: 'later', amount: 10, expiresAt: now + 60_000 }, now);
    const swept = await store.sweep(now + 100);
    expect(swept.holds).toBeGreaterThanOrEqual(1);
    expect((await store.ledger(a, { limit: 1 }))[0]).toMatchObject({ kind: 'release', amount: 60, reference: 'hold:h', balanceAfter: 90 });
    expect(await store.settle(a, 'later', 10, now + 100)).toMatchObject({ ok: true, charged: 10, balance: 90 });
  });

  it('uses the host Keyv client through openStore and leaves it open on close', async (ctx) => {
    if (!url) return ctx.skip();
    const keyv = new Keyv(new KeyvRedis(url), { namespace: `${prefix}keyv` });
    const hosted = await openStore(keyv, { timeoutMs: 5000, prefix });
    expect(hosted.info).toEqual({ backend: 'redis', multiProcess: true, chargeAuth: true, usage: true, outbox: true });
    expect(await hosted.post('hosted', { amount: 3, kind: 'grant' }, Date.now())).toMatchObject({ ok: true, balance: 3 });
    await hosted.close();
    await keyv.set('still', 'open');
    expect(await keyv.get('still')).toBe('open');
    await keyv.disconnect();
  });

  it('gives the same results as the generic Keyv store for 1,500 random operations', async (ctx) => {
    if (!url) return ctx.skip();
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31; // a small LCG: the same sequence on every run
      return Math.floor((seed / 2 ** 31) * n);
    };
    const pick = <T>(xs: T[]): T => xs[rnd(xs.length)]!;
    const reference = new KeyvStore(new Keyv({ throwOnErrors: true }));
    const a = `diff_${randomUUID().slice(0, 8)}`;
    // Virtual time runs ahead of the clock and every expiry lies at least 60 s after it, so expiry is decided by `now`
    // alone (never by a key vanishing on its own). Holds expire in the order they were placed, with no ties: the generic
    // store releases due holds in insertion order, Redis in (expiresAt, holdId) order, which then agree.
    let t = Date.now();
    // Charge ids are remembered until `until`, checked by each store's own clock: a week ahead of any virtual `t`.
    const FAR = t + 7 * 86_400_000;
    let holds = 0;
    const keys = ['a', 'ab', 'b', 'b:c', ''];
    // Bytes compare as plain arrays (Buffer vs Uint8Array); `this[k]` is the value before Buffer's own toJSON ran.
    const bytesAsArray = function (this: Record<string, unknown>, k: string, v: unknown) {
      return this[k] instanceof Uint8Array ? Array.from(this[k]) : v;
    };
    const norm = (x: unknown): unknown => (x === undefined ? x : JSON.parse(JSON.stringify(x, bytesAsArray)));
    const ops: Array<(s: Store) => Promise<unknown>> = [];
    for (let i = 0; i < 1500; i++) {
      t += rnd(3) * rnd(20_000);
      const now = t;
      const exp = pick([null, now + 60_000 + rnd(30_000)]);
      const key = pick(keys);
      const id = rnd(4) === 0 ? `h${holds++}` : `h${Math.max(0, holds - 1 - rnd(3))}`;
      const amount = rnd(200) - 50 || 1;
      // Every random choice is drawn here, once, so that both stores receive exactly the same arguments.
      const [scope, ref, memo, exp2] = [pick([null, a]), pick([undefined, `r${rnd(5)}`]), pick([undefined, 'm"é']), now + 60_000 + i];
      const [n1, n2, n3] = [rnd(150), rnd(30), rnd(40)];
      const cond = pick([undefined, { absent: true as const }, { version: rnd(4) }]);
      const query = { prefix: pick([undefined, 'a', 'b']), after: pick([undefined, 'a', 'b']), limit: 1 + rnd(4) };
      ops.push(pick<(s: Store) => Promise<unknown>>([
        (s) => s.put(a, 'c', key, { value: bytes(`${i}`), size: i, tag: `t${i}`, expiresAt: exp }, now, cond),
        (s) => s.delete(a, 'c', key, now, cond),
        (s) => s.get(a, 'c', key, now),
        (s) => s.list(a, 'c', query, now),
        (s) => s.incr(a, key, amount, now + 60_000),
        (s) => s.counter(a, key, now),
        (s) => s.post(a, { amount, kind: 'grant', reference: ref, memo }, now),
        (s) => s.charge(a, { window: ref ? 'w1' : 'w2', windowExpiresAt: now + 60_000, freeLimit: 2, price: n2 }, now),
        // Charges and voids by ids from a small pool, so voids meet committed, voided and unknown ids, and holds.
        (s) => s.charge(a, { window: 'w1', windowExpiresAt: now + 60_000, freeLimit: 2, price: n2, voidable: { id: `c${n1 % 5}`, until: FAR } }, now),
        (s) => s.void(a, { id: n1 % 2 === 0 ? `c${n3 % 5}` : id, window: 'w1', until: FAR, memo }, now),
        (s) => s.hold(a, { holdId: id, amount: n1, expiresAt: exp2 }, now),
        (s) => s.settle(a, id, n1, now, memo),
        (s) => s.balance(a, now),
        (s) => s.ledger(a, { before: n3 % 2 ? n3 : undefined, limit: 1 + (n1 % 5) }),
        (s) => s.claim(scope, key, `v${i}`, exp, now),
        (s) => s.releaseClaim(scope, key),
      ]));
    }
    for (const [i, op] of ops.entries()) {
      const [want, got] = [norm(await op(reference)), norm(await op(store))];
      expect(got, `operation ${i}: ${op.toString()}`).toEqual(want);
    }
    expect(norm(await store.ledger(a, { limit: 1000 }))).toEqual(norm(await reference.ledger(a, { limit: 1000 })));
  });

  it('4 processes × 300 concurrent debits against a balance of 500: exactly 500 succeed', async (ctx) => {
    if (!url) return ctx.skip();
    const a = `procs_${randomUUID().slice(0, 8)}`;
    await store.post(a, { amount: 500, kind: 'grant' }, Date.now());
    const module = new URL('../../src/storage/redis-store.ts', import.meta.url).href;
    const worker = `
      const { redisStoreFromUrl } = await import(${JSON.stringify(module)});
      const store = await redisStoreFromUrl(process.env.URL, { timeoutMs: 20000, prefix: process.env.PREFIX });
      await store.init();
      const rs = await Promise.all(Array.from({ length: 300 }, () => store.post(process.env.ACCT, { amount: -1, kind: 'debit' }, Date.now())));
      await store.close();
      console.log(rs.filter((r) => r.ok).length);`;
    const env = { ...process.env, URL: url, PREFIX: prefix, ACCT: a };
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const outs = await Promise.all(
      Array.from({ length: 4 }, () => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', worker], { env, cwd })),
    );
    expect(outs.reduce((sum, o) => sum + Number(o.stdout.trim()), 0)).toBe(500);
    expect(await store.balance(a, Date.now())).toBe(0);
    const entries = await store.ledger(a, { limit: 1000 });
    expect(entries.length).toBe(501);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 501 }, (_, i) => 501 - i));
  }, 60_000);
});
