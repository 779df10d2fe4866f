// Semantic and hybrid search with a deterministic local embedder: vectors written in the background,
// never on a write's path; failures retried and counted; a model change re-embeds lazily.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createAipaygent, type Aipaygent } from '../../src/create.js';
import type { SearchOptions } from '../../src/search/options.js';
import { embeddingsOf } from '../../src/memory/memory-vectors.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

/**
 * A toy embedder with a tiny fixed vocabulary of "concepts": words of one concept land on the same
 * axis, so a query sharing no word with a memory can still be nearest to it. Deterministic, offline.
 */
const CONCEPTS = [['dog', 'puppy', 'canine', 'pet'], ['car', 'vehicle', 'automobile', 'drive'], ['food', 'eat', 'meal', 'lunch', 'pizza'], ['code', 'program', 'software', 'typescript']];
const DIMS = CONCEPTS.length + 1;
function toyVector(text: string): number[] {
  const v = new Array<number>(DIMS).fill(0);
  for (const w of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    const c = CONCEPTS.findIndex((words) => words.includes(w));
    v[c === -1 ? DIMS - 1 : c]! += c === -1 ? 0.01 : 1;
  }
  return v;
}

const ADMIN = 'test-admin-token-0123456789';
let ai: Aipaygent | undefined;
afterEach(async () => {
  await ai?.close();
  ai = undefined;
});

async function start(search: SearchOptions, store = new MemoryStore()) {
  ai = createAipaygent({ adminToken: ADMIN, store, search, metering: false });
  await ai.ready;
  const { account_id: accountId } = await ai.api.keys.create({});
  return { ai, accountId, store, memory: ai.api.memory };
}

const settle = async (store: MemoryStore, accountId: string, user: string, n: number) => {
  for (let i = 0; i < 200; i++) {
    if ((await store.entries(accountId, embeddingsOf(user), { limit: 1000 }, Date.now())).length >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('vectors not written');
};

describe('semantic and hybrid search', () => {
  it('finds by meaning a memory that shares no word with the query; hybrid fuses both lists', async () => {
    const calls: string[][] = [];
    const s = await start({ embed: async (texts) => (calls.push(texts), texts.map(toyVector)), dimensions: DIMS, model: 'toy-1' });
    const now = Date.now();
    await s.memory.put(s.accountId, { userId: 'u', key: 'pets', data: { note: 'my puppy is called Rex' } }, now);
    await s.memory.put(s.accountId, { userId: 'u', key: 'commute', data: { note: 'I drive an old automobile' } }, now);
    await s.memory.put(s.accountId, { userId: 'u', key: 'lunch', data: { note: 'pizza on fridays' } }, now);
    await settle(s.store, s.accountId, 'u', 3);
    // One batch for the three writes (they were queued together, off their path).
    expect(calls.length).toBe(1);
    const semantic = await s.memory.search(s.accountId, { userId: 'u', q: 'canine', mode: 'semantic' }, Date.now());
    expect(semantic.ok && semantic.results.map((r) => r.meta.key)[0]).toBe('pets');
    const lexical = await s.memory.search(s.accountId, { userId: 'u', q: 'canine', mode: 'lexical' }, Date.now());
    expect(lexical.ok && lexical.results).toEqual([]);
    // Default mode with an embedder: hybrid; a word match and a meaning match both come back.
    const hybrid = await s.memory.search(s.accountId, { userId: 'u', q: 'vehicle pizza' }, Date.now());
    expect(hybrid.ok && hybrid.mode).toBe('hybrid');
    expect(hybrid.ok && hybrid.results.map((r) => r.meta.key).slice(0, 2).sort()).toEqual(['commute', 'lunch']);
  });

  it('a failing or slow embedder never fails or slows a write: lexical at once, vectors after retries, counted', async () => {
    let fail = 2;
    const s = await start({
      embed: async (texts) => {
        if (fail-- > 0) throw new Error('provider down');
        return texts.map(toyVector);
      },
      dimensions: DIMS, model: 'toy-1', attempts: 5, timeoutMs: 1000,
    });
    const t0 = performance.now();
    const w = await s.memory.put(s.accountId, { userId: 'u', key: 'pets', data: 'my dog' }, Date.now());
    expect(w.ok).toBe(true);
    expect(performance.now() - t0).toBeLessThan(100);
    const lexical = await s.memory.search(s.accountId, { userId: 'u', q: 'dog', mode: 'lexical' }, Date.now());
    expect(lexical.ok && lexical.results.map((r) => r.meta.key)).toEqual(['pets']);
    await settle(s.store, s.accountId, 'u', 1);
    const metrics = await fetchMetrics(s.ai);
    expect(metrics).toMatch(/aipaygent_embeddings_total\{outcome="retried"\} 2/);
    expect(metrics).toMatch(/aipaygent_embeddings_total\{outcome="embedded"\} 1/);
  });

  it('semantic mode with a failing embedder is a 502 naming it; hybrid answers lexically and says so', async () => {
    const s = await start({ embed: async () => { throw new Error('quota exceeded'); }, dimensions: DIMS, model: 'toy-1', attempts: 1 });
    await s.memory.put(s.accountId, { userId: 'u', key: 'k', data: 'dog' }, Date.now());
    const semantic = await s.memory.search(s.accountId, { userId: 'u', q: 'dog', mode: 'semantic' }, Date.now());
    expect(semantic).toMatchObject({ ok: false, refusal: { code: 'upstream_error', message: expect.stringMatching(/quota exceeded/) } });
    const hybrid = await s.memory.search(s.accountId, { userId: 'u', q: 'dog' }, Date.now());
    expect(hybrid).toMatchObject({ ok: true, mode: 'hybrid', degraded: expect.stringMatching(/lexical results only/) });
    expect(hybrid.ok && hybrid.results.map((r) => r.meta.key)).toEqual(['k']);
  });

  it('a vector of older content or another model is skipped and re-embedded lazily; erasure removes vectors', async () => {
    const store = new MemoryStore();
    const first = await start({ embed: async (t) => t.map(toyVector), dimensions: DIMS, model: 'toy-1' }, store);
    await first.memory.put(first.accountId, { userId: 'u', key: 'pets', data: 'puppy' }, Date.now());
    await settle(store, first.accountId, 'u', 1);
    await first.ai.close();
    // The same data, a new model: its old vector is not used; the search queues it, and the next one finds it.
    const seen: string[] = [];
    ai = createAipaygent({ adminToken: ADMIN, store, metering: false, search: { embed: async (t) => (seen.push(...t), t.map(toyVector)), dimensions: DIMS, model: 'toy-2' } });
    await ai.ready;
    const again = await ai.api.memory.search(first.accountId, { userId: 'u', q: 'canine', mode: 'semantic' }, Date.now());
    expect(again.ok && again.results).toEqual([]);
    for (let i = 0; i < 100 && !(await store.entries(first.accountId, embeddingsOf('u'), { limit: 10 }, Date.now()))[0]?.tag.startsWith('toy-2 '); i++) await new Promise((r) => setTimeout(r, 10));
    const found = await ai.api.memory.search(first.accountId, { userId: 'u', q: 'canine', mode: 'semantic' }, Date.now());
    expect(found.ok && found.results.map((r) => r.meta.key)).toEqual(['pets']);
    expect(seen.some((t) => t.startsWith('pets\n'))).toBe(true);
    const erased = await ai.api.memory.eraseUser(first.accountId, 'u');
    expect(erased).toEqual({ deletedKeys: 1, deletedVersions: 1, deletedIndexEntries: 2 });
    expect(await store.entries(first.accountId, embeddingsOf('u'), { limit: 10 }, Date.now())).toEqual([]);
  });

  it('refuses bad search options at startup with every problem listed', () => {
    expect(() => createAipaygent({ search: { embed: async () => [], model: 'x' } as SearchOptions })).toThrow(/search.dimensions is required/);
    expect(() => createAipaygent({ search: { embed: 'no' as never, dimensions: 4, model: 'has space' } })).toThrow(/search.embed must be a function[\s\S]*search.model/);
    expect(() => createAipaygent({ search: { dimensions: 4 } })).toThrow(/go with search.embed/);
    expect(() => createAipaygent({ search: { maxLimit: 0 } })).toThrow(/search.maxLimit/);
  });
});

async function fetchMetrics(service: Aipaygent): Promise<string> {
  const out = await service.handle({ method: 'GET', path: '/metrics', query: {}, headers: { authorization: `Bearer ${ADMIN}` }, body: undefined } as never);
  return String((out as { body: unknown }).body);
}

describe('semantic search on every backend (vectors stored and read back as bytes)', async () => {
  const { postgresUrlOrSkip, redisUrlOrSkip } = await import('../support/backends.js');
  const { dropPrefix } = await import('../support/cleanup.js');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'apg-semantic-'));
  const backends: Array<[string, string | null]> = [
    ['redis', await redisUrlOrSkip()],
    ['postgres', await postgresUrlOrSkip()],
    ['sqlite', `sqlite://${join(dir, 'semantic.db')}`],
  ];
  for (const [name, url] of backends) {
    (url ? it : it.skip)(`${name}: nearest by meaning, finite scores, erased with the user`, async () => {
      const prefix = `apgsem_${Math.random().toString(36).slice(2, 8)}_`;
      const service = createAipaygent({ store: url!, storePrefix: prefix, metering: false, search: { embed: async (t) => t.map(toyVector), dimensions: DIMS, model: 'toy-1' } });
      try {
        await service.ready;
        const { account_id: accountId } = await service.api.keys.create({});
        const m = service.api.memory;
        await m.put(accountId, { userId: 'u', key: 'pets', data: { note: 'my puppy is called Rex' } }, Date.now());
        await m.put(accountId, { userId: 'u', key: 'commute', data: { note: 'I drive an old automobile' } }, Date.now());
        for (let i = 0; i < 200 && (await m.search(accountId, { userId: 'u', q: 'canine vehicle', mode: 'semantic' }, Date.now()).then((o) => (o.ok ? o.results.length : 0))) < 2; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        const out = await m.search(accountId, { userId: 'u', q: 'canine', mode: 'semantic' }, Date.now());
        expect(out.ok && out.results.map((r) => r.meta.key)[0]).toBe('pets');
        expect(out.ok && out.results.every((r) => Number.isFinite(r.score))).toBe(true);
        expect(out.ok && out.results[0]!.score).toBeGreaterThan(0.99);
        expect(await m.eraseUser(accountId, 'u')).toMatchObject({ deletedKeys: 2, deletedIndexEntries: 4 });
      } finally {
        await service.close();
        await dropPrefix(url!, prefix);
      }
    });
  }
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});
