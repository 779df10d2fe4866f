// Conformance of full-text search and `entries`: the index changes with the record in one atomic operation; part of the storage suite.
import { expect } from 'vitest';
import type { PutInput, SearchQuery, Store } from '../../src/storage/contract.js';
import { parseQuery } from '../../src/search/query.js';
import { documentText } from '../../src/search/document.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A record whose value is `value` (JSON) and whose index is the document of (key, value), as the memory service writes it. */
const doc = (key: string, value: unknown, expiresAt: number | null = null, index: string | null = documentText(key, value)): PutInput => {
  const json = JSON.stringify(value);
  return { value: bytes(json), size: json.length, tag: 't', expiresAt, ...(index !== null && { index }) };
};
const q = (query: string, limit = 10, keyPrefix?: string): SearchQuery => ({ units: parseQuery(query), limit, ...(keyPrefix !== undefined && { keyPrefix }) });

/** Registers the tests inside storageConformance's describe (its skipping `it`, store and account factory). */
export function searchConformance(it: (title: string, fn: () => Promise<void>) => void, s: () => Store, acct: () => string): void {
  const keysOf = async (a: string, c: string, query: SearchQuery, now = Date.now()) => (await s().search(a, c, query, now)).map((h) => h.record.key);

  it('search finds records by key and value words, with their values, best first', async () => {
    const a = acct();
    const now = Date.now();
    await s().put(a, 'm:u', 'backend_stack', doc('backend_stack', { framework: 'FastAPI', language: 'Python' }), now);
    await s().put(a, 'm:u', 'frontend', doc('frontend', { framework: 'React', notes: 'typescript everywhere' }), now);
    await s().put(a, 'm:u', 'pets', doc('pets', { dog: 'Rex', cat: null, count: 2, vaccinated: true }), now);
    const hits = await s().search(a, 'm:u', q('FastAPI'), now + 1);
    expect(hits.map((h) => h.record.key)).toEqual(['backend_stack']);
    expect(JSON.parse(text(hits[0]!.record.value))).toEqual({ framework: 'FastAPI', language: 'Python' });
    expect(hits[0]!.record).toMatchObject({ version: 1, tag: 't', expiresAt: null });
    expect(hits[0]!.score).toBeGreaterThan(0);
    expect(await keysOf(a, 'm:u', q('framework fastapi'))).toEqual(['backend_stack', 'frontend']);
    expect(await keysOf(a, 'm:u', q('fast api'))).toEqual(['backend_stack']);
    expect(await keysOf(a, 'm:u', q('stack'))).toEqual(['backend_stack']);
    expect(await keysOf(a, 'm:u', q('vaccinated true'))).toEqual(['pets']);
    expect(await keysOf(a, 'm:u', q('nothing-here'))).toEqual([]);
  });

  it('search folds case, accents and stems; phrases keep order; prefix* matches term starts', async () => {
    const a = acct();
    const now = Date.now();
    await s().put(a, 'm:u', 'cafe', doc('cafe', { name: 'Café Müller', city: 'Köln' }), now);
    await s().put(a, 'm:u', 'prefs', doc('prefs', { preferences: ['dark mode', 'deploying on Fridays'] }), now);
    await s().put(a, 'm:u', 'reverse', doc('reverse', { text: 'mode dark' }), now);
    expect(await keysOf(a, 'm:u', q('CAFE muller koln'))).toEqual(['cafe']);
    expect(await keysOf(a, 'm:u', q('preferred deploy'))).toEqual(['prefs']);
    expect(await keysOf(a, 'm:u', q('"dark mode"'))).toEqual(['prefs']);
    expect((await keysOf(a, 'm:u', q('dark'))).sort()).toEqual(['prefs', 'reverse']);
    expect(await keysOf(a, 'm:u', q('deplo*'))).toEqual(['prefs']);
    expect(await keysOf(a, 'm:u', q('mül*'))).toEqual(['cafe']);
  });

  it('ranks rarer and repeated terms higher, shorter documents higher, ties by the latest update', async () => {
    const a = acct();
    const now = Date.now();
    await s().put(a, 'm:u', 'one', doc('one', 'kafka mentioned once among many other words here in this long note about things'), now);
    await s().put(a, 'm:u', 'many', doc('many', 'kafka kafka kafka streams'), now + 1);
    await s().put(a, 'm:u', 'other', doc('other', 'postgres'), now + 2);
    expect(await keysOf(a, 'm:u', q('kafka'))).toEqual(['many', 'one']);
    // Same content, different update times: the newest first.
    await s().put(a, 'm:u', 'tie-old', doc('tie', 'zebra'), now + 3);
    await s().put(a, 'm:u', 'tie-new', doc('tie', 'zebra'), now + 4);
    expect(await keysOf(a, 'm:u', q('zebra'), now + 5)).toEqual(['tie-new', 'tie-old']);
    // A document matching two query words beats one matching one.
    expect((await keysOf(a, 'm:u', q('kafka streams')))[0]).toBe('many');
  });

  it('search is scoped to the account and collection, filters by key prefix, honours the limit', async () => {
    const a = acct();
    const b = acct();
    const now = Date.now();
    for (let i = 0; i < 12; i++) await s().put(a, 'm:u', `note/${String(i).padStart(2, '0')}`, doc(`note/${i}`, 'shared word'), now + i);
    await s().put(a, 'm:u', 'other/x', doc('other/x', 'shared word'), now);
    await s().put(a, 'm:v', 'note/xx', doc('note/xx', 'shared word'), now);
    await s().put(b, 'm:u', 'note/yy', doc('note/yy', 'shared word'), now);
    expect(await keysOf(a, 'm:u', q('shared', 5))).toHaveLength(5);
    expect(await keysOf(a, 'm:u', q('shared', 100))).toHaveLength(13);
    const notes = await keysOf(a, 'm:u', q('shared', 100, 'note/'));
    expect(notes).toHaveLength(12);
    expect(notes[0]).toBe('note/11');
    expect(await keysOf(b, 'm:u', q('shared', 100))).toEqual(['note/yy']);
    expect(await keysOf(a, 'm:v', q('shared', 100))).toEqual(['note/xx']);
  });

  it('an overwrite replaces the index; delete, expiry and purge remove it; a put without index keeps it', async () => {
    const a = acct();
    const now = Date.now();
    await s().put(a, 'm:u', 'k', doc('k', 'alpha'), now);
    await s().put(a, 'm:u', 'k', doc('k', 'beta'), now + 1);
    expect(await keysOf(a, 'm:u', q('alpha'))).toEqual([]);
    expect(await keysOf(a, 'm:u', q('beta'))).toEqual(['k']);
    // A TTL renewal: same value, no index given (the key absent from the input): still found.
    const renewed = await s().put(a, 'm:u', 'k', doc('k', 'beta', now + 60_000, null), now + 2, { version: 2 });
    expect(renewed.ok).toBe(true);
    expect(await keysOf(a, 'm:u', q('beta'))).toEqual(['k']);
    // '' is "not searchable".
    await s().put(a, 'm:u', 'k', doc('k', 'beta', null, ''), now + 3);
    expect(await keysOf(a, 'm:u', q('beta'))).toEqual([]);
    await s().put(a, 'm:u', 'k', doc('k', 'gamma'), now + 4);
    expect((await s().delete(a, 'm:u', 'k', now + 5)).ok).toBe(true);
    expect(await keysOf(a, 'm:u', q('gamma'))).toEqual([]);
    // Expired: never returned, whether or not it was swept; a record re-created without index over it is not searchable.
    await s().put(a, 'm:u', 'short', doc('short', 'delta'), now);
    await s().put(a, 'm:u', 'ttl', doc('ttl', 'delta', Date.now() + 150), Date.now());
    expect((await keysOf(a, 'm:u', q('delta'))).sort()).toEqual(['short', 'ttl']);
    await sleep(300);
    expect(await keysOf(a, 'm:u', q('delta'))).toEqual(['short']);
    await s().put(a, 'm:u', 'ttl', doc('ttl', 'delta', null, null), Date.now());
    expect(await keysOf(a, 'm:u', q('delta'))).toEqual(['short']);
    await s().sweep(Date.now());
    expect(await s().purge(a, 'm:u')).toBe(2);
    expect(await keysOf(a, 'm:u', q('delta'))).toEqual([]);
  });

  it('entries: live records with values in key order, by prefix, after a cursor, limited', async () => {
    const a = acct();
    const now = Date.now();
    for (const k of ['b', 'a', 'c/1', 'c/2', 'd']) await s().put(a, 'e:u', k, doc(k, k), now);
    await s().put(a, 'e:u', 'c/0', doc('c/0', 'gone', now + 1), now);
    const all = await s().entries(a, 'e:u', { limit: 100 }, now + 2);
    expect(all.map((r) => r.key)).toEqual(['a', 'b', 'c/1', 'c/2', 'd']);
    expect(all.map((r) => text(r.value))).toEqual(['"a"', '"b"', '"c/1"', '"c/2"', '"d"']);
    expect((await s().entries(a, 'e:u', { prefix: 'c/', limit: 100 }, now + 2)).map((r) => r.key)).toEqual(['c/1', 'c/2']);
    expect((await s().entries(a, 'e:u', { after: 'b', limit: 2 }, now + 2)).map((r) => r.key)).toEqual(['c/1', 'c/2']);
    expect(await s().entries(acct(), 'e:u', { limit: 10 }, now)).toEqual([]);
  });

  it('concurrent writes and searches: an acknowledged write is what every later search sees (no stale hit, no miss)', async () => {
    const a = acct();
    const keys = ['k0', 'k1', 'k2', 'k3'];
    const failures: string[] = [];
    await Promise.all(keys.map(async (key) => {
      for (let i = 0; i < 15; i++) {
        const word = `w${key}x${i}`;
        const prev = `w${key}x${i - 1}`;
        const r = await s().put(a, 'm:c', key, doc(key, { word }), Date.now());
        if (!r.ok) failures.push(`${key}: put refused`);
        const [now, before] = await Promise.all([keysOf(a, 'm:c', q(word)), i > 0 ? keysOf(a, 'm:c', q(prev)) : Promise.resolve([])]);
        if (!now.includes(key)) failures.push(`${word}: acknowledged but not found`);
        if (before.includes(key)) failures.push(`${prev}: found after it was overwritten`);
      }
    }));
    expect(failures).toEqual([]);
  });
}
