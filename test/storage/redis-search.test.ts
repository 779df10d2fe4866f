// Search on the Redis store beyond the conformance suite: same ranking as the in-process reference, the index kept
// exactly in step with the records (read straight from Redis), renewals, evicted records, the document budget.
import { randomUUID } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PutInput, SearchUnit, Store } from '../../src/storage/contract.js';
import { enc, RedisBase, type RedisLike } from '../../src/storage/redis-base.js';
import { redisSearch } from '../../src/storage/redis-search.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { RedisStore } from '../../src/storage/redis-store.js';
import { glob, scanKeys, useRedisStore, type AdminClient } from '../support/redis-keys.js';
import { canStartRedis, startOwnRedis } from '../support/own-servers.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const VOCAB = ['alpha', 'alps', 'alpine', 'beta', 'bet', 'better', 'gamma', 'gam', 'delta', 'del', 'eta', 'zeta', 'theta', 'iota', 'kappa', 'mu'];
const KEYS = ['a', 'ab', 'b/1', 'b/2', 'b/3', 'c', 'note/x', 'note/y', 'zz', 'k:{x}%'];

/** A small LCG: the same sequence on every run. */
function rng(seed: number) {
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * n);
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[next(xs.length)]! };
}

type Client = AdminClient;


describe('redis search', () => {
  let url: string | null = null;
  let store: RedisStore;
  let admin: Client;
  const prefix = `apgsearch:${randomUUID().slice(0, 8)}:`;

  const fx = useRedisStore(prefix);
  beforeAll(() => void ({ url, store, admin } = fx));

  /** The collection's index as Redis holds it: documents, the terms zset, every posting set, the total. */
  async function indexOf(account: string, collection: string) {
    const t = `${prefix}{${enc(account)}}:`;
    const c = enc(collection);
    const docs = await admin.hGetAll(`${t}d:${c}`);
    const terms = await admin.zRange(`${t}w:${c}`, 0, -1);
    const postings: Record<string, string[]> = {};
    for (const k of await scanKeys(admin, `${glob(`${t}t:${c}:`)}*`)) postings[k.slice(`${t}t:${c}:`.length)] = (await admin.sMembers(k)).sort();
    return { docs, terms: terms.sort(), postings, total: await admin.get(`${t}s:${c}`) };
  }

  /** What the index must be for these live documents (key -> [updatedAt, expiresAt, terms]). */
  function expectedIndex(live: Map<string, [number, number | null, string]>) {
    const docs: Record<string, string> = {};
    const postings: Record<string, string[]> = {};
    let total = 0;
    for (const [key, [ua, exp, doc]] of live) {
      const terms = doc.split(' ').filter(Boolean);
      if (!terms.length) continue;
      docs[key] = `${ua}|${exp ?? ''}|${terms.length}| ${terms.join(' ')} `;
      total += terms.length;
      for (const term of new Set(terms)) (postings[term] ??= []).push(key);
    }
    for (const keys of Object.values(postings)) keys.sort();
    return { docs, terms: Object.keys(postings).sort(), postings, total: total ? String(total) : null };
  }

  it('ranks exactly as the in-process reference index (src/search/text-index.ts) over random writes and queries', async (ctx) => {
    if (!url) return ctx.skip();
    const r = rng(7);
    const reference: Store = new MemoryStore();
    const a = `diff_${randomUUID().slice(0, 8)}`;
    let t = Date.now();
    const randomDoc = () => Array.from({ length: 1 + r.next(10) }, () => r.pick(VOCAB)).join(' ');
    const randomUnits = (): SearchUnit[] => Array.from({ length: 1 + r.next(3) }, () => {
      const kind = r.next(4);
      if (kind === 0) return { words: [r.pick(VOCAB), r.pick(VOCAB)], prefix: false };
      if (kind === 1) return { words: [r.pick(VOCAB).slice(0, 2 + r.next(2))], prefix: true };
      return { words: [r.pick(VOCAB)], prefix: false };
    });
    let compared = 0;
    for (let i = 0; i < 600; i++) {
      t += 1 + r.next(2); // ties in updatedAt happen too
      const key = r.pick(KEYS);
      const op = r.next(10);
      if (op < 6) {
        const index = [randomDoc(), randomDoc(), undefined, ''][r.next(4)];
        const input: PutInput = { value: bytes(`{"i":${i}}`), size: 8, tag: 't', expiresAt: null, ...(index !== undefined || r.next(2) ? { index } : {}) };
        expect(await store.put(a, 'm:u', key, input, t)).toEqual(await reference.put(a, 'm:u', key, input, t));
      } else if (op < 7) {
        expect(await store.delete(a, 'm:u', key, t)).toEqual(await reference.delete(a, 'm:u', key, t));
      } else {
        const query = { units: randomUnits(), limit: 1 + r.next(12), ...(r.next(3) === 0 && { keyPrefix: r.pick(['b/', 'note/', 'a', 'k:{']) }) };
        const [want, got] = [await reference.search(a, 'm:u', query, t), await store.search(a, 'm:u', query, t)];
        const label = `operation ${i}: ${JSON.stringify(query)}`;
        expect(got.map((h) => h.record.key), label).toEqual(want.map((h) => h.record.key));
        got.forEach((h, j) => {
          expect(h.score, label).toBeCloseTo(want[j]!.score, 9);
          expect({ ...h.record, value: [...h.record.value] }, label).toEqual({ ...want[j]!.record, value: [...want[j]!.record.value] });
        });
        compared += got.length;
      }
    }
    expect(compared).toBeGreaterThan(200);
  });

  it('keeps documents, postings, terms and total exactly in step with the live records, and removes expired ones', async (ctx) => {
    if (!url) return ctx.skip();
    const r = rng(11);
    const a = `inv_${randomUUID().slice(0, 8)}`;
    const live = new Map<string, [number, number | null, string]>();
    const now = Date.now();
    for (let i = 0; i < 400; i++) {
      const key = r.pick(KEYS);
      const t = now + i;
      const op = r.next(8);
      if (op === 0) {
        await store.delete(a, 'c', key, t);
        live.delete(key);
        continue;
      }
      const index = op < 5 ? Array.from({ length: r.next(6) }, () => r.pick(VOCAB)).join(' ') : op === 5 ? '' : undefined;
      const exp = r.next(3) === 0 ? t + 3_600_000 : null;
      await store.put(a, 'c', key, { value: bytes('v'), size: 1, tag: '', expiresAt: exp, index }, t);
      const prev = live.get(key);
      if (index !== undefined) live.set(key, [t, exp, index]);
      else if (prev) live.set(key, [t, exp, prev[2]]);
      else live.set(key, [t, exp, '']);
      if (i % 50 === 49) expect(await indexOf(a, 'c'), `after operation ${i}`).toEqual(expectedIndex(live));
    }
    // Expired records leave the index when a search (or a put, list, entries) of the collection meets them.
    const soon = Date.now() + 200;
    for (const key of ['b/1', 'b/2', 'k:{x}%']) await store.put(a, 'c', key, { value: bytes('v'), size: 1, tag: '', expiresAt: soon, index: 'alpha omega' }, Date.now());
    await sleep(soon + 50 - Date.now());
    for (const key of ['b/1', 'b/2', 'k:{x}%']) live.delete(key);
    expect((await store.search(a, 'c', { units: [{ words: ['omega'], prefix: false }], limit: 10 }, Date.now()))).toEqual([]);
    expect(await indexOf(a, 'c')).toEqual(expectedIndex(live));
    // Every key lies in its account's hash tag (Cluster: one slot per account), the index keys included.
    const own = await scanKeys(admin, `${glob(`${prefix}{${a}}:`)}*`);
    expect(new Set(own.map((k) => k.slice(`${prefix}{${a}}:`.length).split(':')[0]))).toEqual(new Set(['r', 'i', 'x', 'd', 's', 'w', 't']));
    expect((await scanKeys(admin, `${glob(prefix)}*`)).filter((k) => !k.startsWith(`${prefix}{`))).toEqual([]);
    expect(await store.purge(a, 'c')).toBe(live.size);
    expect(await scanKeys(admin, `${glob(`${prefix}{${a}}:`)}*`)).toEqual([]);
  });

  it('a TTL renewal (no index given) keeps the document and restamps it: the renewed record wins a tie', async (ctx) => {
    if (!url) return ctx.skip();
    const a = `renew_${randomUUID().slice(0, 8)}`;
    const now = Date.now();
    const input = (expiresAt: number | null, index?: string): PutInput => ({ value: bytes('v'), size: 1, tag: '', expiresAt, ...(index !== undefined && { index }) });
    await store.put(a, 'c', 'old', input(null, 'same words'), now);
    await store.put(a, 'c', 'new', input(null, 'same words'), now + 1);
    const q = { units: [{ words: ['same'], prefix: false }], limit: 10 };
    expect((await store.search(a, 'c', q, now + 2)).map((h) => h.record.key)).toEqual(['new', 'old']);
    expect((await store.put(a, 'c', 'old', input(now + 60_000), now + 3, { version: 1 })).ok).toBe(true);
    const hits = await store.search(a, 'c', q, now + 4);
    expect(hits.map((h) => [h.record.key, h.record.updatedAt, h.record.expiresAt])).toEqual([['old', now + 3, now + 60_000], ['new', now + 1, null]]);
    // Expired by the caller's clock (the server keeps it a minute longer): never returned, and dropped from the index.
    expect((await store.search(a, 'c', q, now + 60_000)).map((h) => h.record.key)).toEqual(['new']);
    expect(Object.keys((await indexOf(a, 'c')).docs)).toEqual(['new']);
  });

  it('a record gone behind the index (evicted) is never a hit: the answer is then taken from every unit, not only the rare ones', async (ctx) => {
    if (!url) return ctx.skip();
    const a = `evict_${randomUUID().slice(0, 8)}`;
    const now = Date.now();
    const input = (index: string): PutInput => ({ value: bytes(index), size: index.length, tag: '', expiresAt: null, index });
    await store.put(a, 'c', 'rare', input('zebra common'), now);
    for (let i = 0; i < 30; i++) await store.put(a, 'c', `common${String(i).padStart(2, '0')}`, input(i === 7 ? 'common common' : 'common filler words'), now + i);
    const q = { units: [{ words: ['zebra'], prefix: false }, { words: ['common'], prefix: false }], limit: 1 };
    // 'zebra' alone decides the best one: documents with only 'common' cannot catch up and are not read.
    expect((await store.search(a, 'c', q, now + 100)).map((h) => h.record.key)).toEqual(['rare']);
    await admin.del(`${prefix}{${a}}:r:c:rare`);
    expect((await store.search(a, 'c', q, now + 100)).map((h) => h.record.key)).toEqual(['common07']);
    expect(Number(await admin.hExists(`${prefix}{${a}}:d:c`, 'rare'))).toBe(0);
    expect((await store.search(a, 'c', { ...q, limit: 3 }, now + 100)).map((h) => h.record.key)).toEqual(['common07', 'common29', 'common28']);
  });

  it.runIf(canStartRedis())('past its document budget a search ends and answers from what it scored, records gone included (own server)', async () => {
    // A server of its own: a script that never ended would block every client of a shared one.
    const own = await startOwnRedis();
    const client = createClient({ url: own.url });
    client.on('error', () => {});
    try {
      await client.connect();
      const opts = { timeoutMs: 5000, prefix: 'budget:' };
      const s = new RedisStore(client as unknown as RedisLike, opts, false);
      const r = new RedisBase(client as unknown as RedisLike, opts);
      const now = Date.now();
      const input = (index: string): PutInput => ({ value: bytes(index), size: index.length, tag: '', expiresAt: null, index });
      await s.put('a', 'c', 'rare', input('zebra common'), now);
      for (let i = 0; i < 20; i++) await s.put('a', 'c', `c${i}`, input('common words'), now + i);
      const q = { units: [{ words: ['zebra'], prefix: false }, { words: ['common'], prefix: false }], limit: 10 };
      for (const k of ['rare', 'c1', 'c2', 'c3']) await client.del(`budget:{a}:r:c:${k}`);
      for (const budget of [1, 3, 5]) {
        const hits = await redisSearch(r, 'a', 'c', q, now + 100, budget);
        expect(hits.length).toBeLessThanOrEqual(budget);
        for (const h of hits) expect(await s.get('a', 'c', h.record.key, now + 100)).not.toBeNull();
      }
      expect((await s.search('a', 'c', q, now + 100)).map((h) => h.record.key)).toHaveLength(10);
    } finally {
      client.destroy();
      await own.stop();
    }
  });

  it('answers units that can match no term (empty, with a space) with nothing, and stores a document with extra spaces clean', async (ctx) => {
    if (!url) return ctx.skip();
    const a = `odd_${randomUUID().slice(0, 8)}`;
    await store.put(a, 'c', 'k', { value: bytes('v'), size: 1, tag: '', expiresAt: null, index: '  alpha  beta ' }, Date.now());
    const search = (units: SearchUnit[]) => store.search(a, 'c', { units, limit: 5 }, Date.now());
    expect(await search([])).toEqual([]);
    expect(await search([{ words: [], prefix: false }, { words: ['alpha beta'], prefix: false }])).toEqual([]);
    expect((await search([{ words: ['alpha', 'beta'], prefix: false }])).map((h) => h.record.key)).toEqual(['k']);
    expect(await admin.hGet(`${prefix}{${a}}:d:c`, 'k')).toMatch(/^\d+\|\|2\| alpha beta $/);
  });
});
